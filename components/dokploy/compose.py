"""A Dokploy compose service: a raw compose file or a Git source, and its env.

The env is a mapping rendered to Dokploy's dotenv text deterministically (dotenv.render) and read back
with a faithful port of dotenv's parser, so a refresh compares mappings and sees hand edits but never
formatting. The `env` output is always a secret (additional_secret_outputs).

Create is `compose.create` (located by the appName prefix / description tag) followed by `compose.update`
with every managed field: that works on every supported version (`sourceType` in create is v0.30+ only).
`environment_id`, `server_id` and `app_name` cannot be changed in place (Dokploy keeps `appName`, has no
`serverId` in `compose.update`, and a new environment is a new parent), so they replace.

Fields Dokploy never returns in a usable form are not managed: the GitHub App's secrets behind `githubId`
(only its id is), SSH private keys behind `customGitSSHKeyId`. Fields left to Dokploy's defaults
(randomize, isolatedDeployment, watchPaths, command, ...) are not compared, so they never cause a diff.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from components.dokploy import dotenv
from components.dokploy.base import (
    DokployProvider,
    Parent,
    Props,
    adopt_or_locate,
    adopt_replacement,
    failures_for,
    field_diff,
    is_unknown,
    read_or_gone,
    resource_marker,
    with_outputs,
)
from components.dokploy.client import DokployClient
from components.dokploy.errors import DokployNotFoundError
from components.dokploy.markers import (
    app_name_prefix,
    has_app_name_prefix,
    split_description,
    tag_description,
)

RAW_COMPOSE_PATH = "./docker-compose.yml"  # raw files are written there; the generated .env sits beside it
COMPOSE_TYPES = ("docker-compose", "stack")
FIELDS = (
    "environment_id",
    "name",
    "description",
    "marker",
    "compose_type",
    "compose_file",
    "git",
    "github",
    "env",
    "auto_deploy",
    "create_env_file",
    "server_id",
    "app_name_base",
    "delete_volumes",
)
REPLACE = ("environment_id", "server_id", "app_name_base")
PARENT = Parent(kind="environment", field="environmentId", prop="environment_id", relation="is in")
GIT_KEYS = ("url", "branch", "compose_path", "ssh_key_id")
GITHUB_KEYS = ("github_id", "owner", "repository", "branch", "compose_path")


def _normalise_git(git: Any) -> Any:
    if not isinstance(git, Mapping):
        return git  # None, or a value unknown during preview
    g = dict(git)
    return {
        "url": g.get("url"),
        "branch": g.get("branch") or "main",
        "compose_path": g.get("compose_path") or RAW_COMPOSE_PATH,
        "ssh_key_id": g.get("ssh_key_id") or None,
    }


def _normalise_github(gh: Any) -> Any:
    if not isinstance(gh, Mapping):
        return gh
    g = dict(gh)
    return {
        "github_id": g.get("github_id"),
        "owner": g.get("owner"),
        "repository": g.get("repository"),
        "branch": g.get("branch") or "main",
        "compose_path": g.get("compose_path") or RAW_COMPOSE_PATH,
    }


class ComposeProvider(DokployProvider):
    def check(self, _olds: Props, news: Props) -> CheckResult:
        errors: dict[str, str] = {}
        n = dict(news)
        n["description"] = n.get("description") or ""
        n["compose_type"] = n.get("compose_type") or "docker-compose"
        n["auto_deploy"] = bool(n.get("auto_deploy"))
        n["delete_volumes"] = bool(n.get("delete_volumes"))
        n["app_name_base"] = n.get("app_name_base") or n.get("name") or "app"
        n["create_env_file"] = True  # the env reaches the services through the generated .env file
        env = n.get("env")
        n["env"] = dict(env) if isinstance(env, Mapping) else (env or {})
        n["git"] = _normalise_git(n.get("git"))
        n["github"] = _normalise_github(n.get("github"))
        n["server_id"] = n.get("server_id") or self.default_server_id()
        if n["compose_type"] not in COMPOSE_TYPES and not is_unknown(n["compose_type"]):
            errors["compose_type"] = f"compose_type must be one of {', '.join(COMPOSE_TYPES)}"
        sources = [k for k in ("compose_file", "git", "github") if n.get(k) is not None]
        if len(sources) != 1:
            errors["compose_file"] = "give exactly one source: compose_file (raw YAML), git or github"
        if n["git"] and not is_unknown(n["git"]) and not n["git"]["url"]:
            errors["git"] = "git needs a url"
        if n["github"] and not is_unknown(n["github"]):
            missing = [k for k in ("github_id", "owner", "repository") if not n["github"][k]]
            if missing:
                errors["github"] = f"github needs {', '.join(missing)}"
        if not is_unknown(n["env"]):
            try:
                dotenv.render(n["env"])
            except dotenv.EnvFormatError as exc:
                errors["env"] = str(exc)
        elif isinstance(n["env"], Mapping):
            for key in n["env"]:
                try:
                    dotenv.check_key(key)
                except dotenv.EnvFormatError as exc:
                    errors["env"] = str(exc)
        return CheckResult(n, failures_for(errors))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        adopted = adopt_replacement(_id, news)
        if adopted:
            return adopted
        result = field_diff(olds, news, FIELDS, REPLACE)
        # The old stack must be down before the new one starts: compose files commonly pin container names
        # and host ports, so running both (Pulumi's default create-before-delete) would fail the new deploy.
        result.delete_before_replace = bool(result.replaces)
        return result

    def create(self, props: Props) -> CreateResult:
        with self.client(secrets=_secrets(props)) as c:
            prefix = app_name_prefix(props["app_name_base"], props["marker"])
            row, _ = adopt_or_locate(
                c,
                props,
                kind="compose",
                one=_one,
                parent=PARENT,
                find=lambda: _find(c, props["environment_id"], prefix, props["marker"]),
                create=lambda: c.mutate("compose.create", _create_body(props, prefix), repeat_safe=False),
                ident=lambda r: f"{r['composeId']} ({r.get('appName')})",
            )
            cid = str(row["composeId"])
            _update(c, cid, props)
            return CreateResult(cid, _outputs(_one(c, cid), props))

    def read(self, id_: str, props: Props) -> ReadResult:
        with self.client(secrets=_secrets(props)) as c:
            return read_or_gone(c, id_, props, one=_one, outputs=_outputs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        with self.client(secrets=_secrets(news)) as c:
            _update(c, id_, news)
            return UpdateResult(_outputs(_one(c, id_), news))

    def delete(self, id_: str, props: Props) -> None:
        with self.client(secrets=_secrets(props)) as c, contextlib.suppress(DokployNotFoundError):
            c.mutate(
                "compose.delete",
                {"composeId": id_, "deleteVolumes": bool(props.get("delete_volumes"))},
                repeat_safe=True,
            )


def _secrets(props: Props) -> list[str]:
    env = props.get("env") or {}
    return [v for v in env.values() if isinstance(v, str)] if isinstance(env, Mapping) else []


def _one(c: DokployClient, compose_id: str) -> dict[str, Any]:
    return dict(c.query("compose.one", composeId=compose_id))


def _find(c: DokployClient, environment_id: str, prefix: str, marker: str) -> list[dict[str, Any]]:
    """Composes of the environment carrying the marker (appName prefix or description tag)."""
    env = c.query("environment.one", environmentId=environment_id) or {}
    summaries = env.get("compose") or []
    if summaries and any("appName" not in s for s in summaries):
        # environment.one's summaries may lack appName; project.one's carry it (dokploy-api.md §3.1).
        project = c.query("project.one", projectId=env["projectId"]) or {}
        same = [e for e in project.get("environments") or [] if e.get("environmentId") == environment_id]
        summaries = same[0].get("compose") or [] if same else summaries
    return [
        s
        for s in summaries
        if has_app_name_prefix(s.get("appName"), prefix) or split_description(s.get("description"))[1] == marker
    ]


def _create_body(props: Props, prefix: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": props["name"],
        "environmentId": props["environment_id"],
        "description": tag_description(props.get("description"), props["marker"]),
        "composeType": props["compose_type"],
        "appName": prefix,
    }
    if props.get("server_id"):
        body["serverId"] = props["server_id"]
    return body


def source_fields(props: Props) -> dict[str, Any]:
    if props.get("git"):
        g = props["git"]
        return {
            "sourceType": "git",
            "customGitUrl": g["url"],
            "customGitBranch": g["branch"],
            "composePath": g["compose_path"],
            "customGitSSHKeyId": g.get("ssh_key_id"),
        }
    if props.get("github"):
        g = props["github"]
        return {
            "sourceType": "github",
            "githubId": g["github_id"],
            "owner": g["owner"],
            "repository": g["repository"],
            "branch": g["branch"],
            "composePath": g["compose_path"],
        }
    return {"sourceType": "raw", "composeFile": props.get("compose_file") or "", "composePath": RAW_COMPOSE_PATH}


def _update(c: DokployClient, cid: str, props: Props) -> None:
    body = {
        "composeId": cid,
        "name": props["name"],
        "description": tag_description(props.get("description"), props["marker"]),
        "composeType": props["compose_type"],
        "env": dotenv.render(props.get("env") or {}),
        "autoDeploy": bool(props.get("auto_deploy")),
        "createEnvFile": True,  # v0.30+; older servers drop the key and always write the file
        **source_fields(props),
    }
    if c.mutate("compose.update", body, repeat_safe=True) is None:
        # Dokploy answers an update of an unknown composeId with 200 and no row (dokploy-observed.md).
        raise DokployNotFoundError(
            f"compose {cid} no longer exists in Dokploy; run `pulumi refresh` (or `up --refresh`) so it is recreated",
            procedure="compose.update",
            status=404,
        )


def _outputs(row: dict[str, Any], props: Props) -> Props:
    description, marker = split_description(row.get("description"))
    source = row.get("sourceType")
    git = github = compose_file = None
    if source == "raw":
        compose_file = row.get("composeFile") or ""
    elif source == "git":
        git = {
            "url": row.get("customGitUrl"),
            "branch": row.get("customGitBranch"),
            "compose_path": row.get("composePath"),
            "ssh_key_id": row.get("customGitSSHKeyId") or None,
        }
    elif source == "github":
        github = {
            "github_id": row.get("githubId"),
            "owner": row.get("owner"),
            "repository": row.get("repository"),
            "branch": row.get("branch"),
            "compose_path": row.get("composePath"),
        }
    return {
        "compose_id": row["composeId"],
        "app_name": row.get("appName"),
        "environment_id": row.get("environmentId"),
        "name": row.get("name"),
        "description": description,
        "marker": marker,
        "compose_type": row.get("composeType") or "docker-compose",
        "source_type": source,
        "compose_file": compose_file,
        "git": git,
        "github": github,
        "env": dotenv.parse(row.get("env") or ""),
        "auto_deploy": bool(row.get("autoDeploy")),
        "create_env_file": row.get("createEnvFile") is not False,  # absent before v0.30: always written
        "server_id": row.get("serverId") or None,
        # Kept from the inputs: Dokploy has no such fields.
        "app_name_base": props.get("app_name_base"),
        "delete_volumes": bool(props.get("delete_volumes")),
        "adopt_id": props.get("adopt_id"),
    }


def run_hash_of(compose_type: str, compose_file: Any, git: Any, github: Any, env: Mapping[str, Any] | None) -> str:
    """What a deploy of this compose runs, as a hash: changes here (and only here) need a redeploy."""
    payload = {
        "compose_type": compose_type or "docker-compose",
        "compose_file": compose_file,
        "git": _normalise_git(git),
        "github": _normalise_github(github),
        "env": dotenv.render(dict(env or {})),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Compose(Resource, module="dokploy", name="Compose"):
    """A Dokploy compose service.

    Outputs: compose_id, app_name, environment_id, name, description, compose_type, source_type,
    compose_file, git, github, env (secret), auto_deploy, server_id. `run_hash` (computed in the program,
    not by Dokploy) changes exactly when a redeploy is needed; feed it to ComposeDeployment.
    """

    app_name: pulumi.Output[str]
    env: pulumi.Output[dict[str, str]]
    run_hash: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        environment_id: pulumi.Input[str],
        name: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        compose_file: pulumi.Input[str] | None = None,
        git: pulumi.Input[Mapping[str, Any]] | None = None,
        github: pulumi.Input[Mapping[str, Any]] | None = None,
        env: Mapping[str, pulumi.Input[str]] | None = None,
        compose_type: str = "docker-compose",
        app_name: str | None = None,
        auto_deploy: bool = False,
        server_id: pulumi.Input[str] | None = None,
        delete_volumes: bool = False,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # One Output for the whole mapping: if any value is secret, the whole env input is.
        env_input: Any = pulumi.Output.all(**dict(env)) if env else {}
        props = {
            "environment_id": environment_id,
            "name": name,
            "description": description,
            "compose_file": compose_file,
            "git": git,
            "github": github,
            "env": env_input,
            "compose_type": compose_type,
            "app_name_base": app_name or resource_name,
            "auto_deploy": auto_deploy,
            "server_id": server_id,
            "delete_volumes": delete_volumes,
            "adopt_id": adopt_id,
            "marker": resource_marker("Compose", resource_name),
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["env"]))
        super().__init__(ComposeProvider(), resource_name, with_outputs(props, ("app_name", "source_type")), opts)
        self.run_hash = pulumi.Output.all(compose_file, git, github, env_input).apply(
            lambda a: run_hash_of(compose_type, a[0], a[1], a[2], a[3])
        )

    @property
    def compose_id(self) -> pulumi.Output[str]:
        """The Dokploy id: the resource id, which stays known in previews (outputs of an update do not)."""
        return self.id
