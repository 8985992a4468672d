"""Render one checkout's desired resources for a stack under Pulumi's mocks: `python -I staging_render.py TREE STACK
IMAGE_TAG OUT`.

Run by `ops.staging_diff` in a fresh interpreter per tree (the PR's merge commit, then its base), so this file
imports nothing of `ops`: a base commit need not have it, and the components imported are the tree's own.
No engine, no state, no network: the config is the tree's committed `Pulumi.<stack>.yaml` with every `secure:`
value replaced by a placeholder, preflight (which asks Dokploy, Vault and the registry) is skipped and its
answers are fixed stand-ins, and the mocks answer every registration with its own inputs. What is written is
the resources' inputs as the engine would receive them, secrets replaced by `[secret]`, provider internals
(`__provider`, the pickled dynamic provider) dropped.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

SECRET = "[secret]"
PLACEHOLDER = "staging-diff-placeholder-for-a-secure-value"
MOCK_DIGEST = "sha256:" + "0" * 64  # production pins digests; staging runs tags, so this shows only if that changes


def stack_config(tree: Path, project: str, stack: str) -> tuple[dict[str, str], list[str]]:
    """The committed stack config as the language host would hand it over: namespaced keys, objects as JSON,
    and each `secure:` value a placeholder (its ciphertext is never decrypted, and never read further)."""
    import yaml

    path = tree / f"Pulumi.{stack}.yaml"
    doc = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config: dict[str, str] = {}
    secret: list[str] = []
    for raw_key, value in (doc.get("config") or {}).items():
        key = raw_key if ":" in raw_key else f"{project}:{raw_key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = PLACEHOLDER
            secret.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret


def plain(value: Any) -> Any:
    """A registered input with secrets (and anything computed from one: Pulumi keeps the mark) replaced."""
    from pulumi.runtime import rpc

    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items()) if not str(k).startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and PLACEHOLDER in value:  # a secure config value read as plain text
        return SECRET
    return value


def pretend_plugins(home: Path) -> None:
    """Components refuse to register a provider's resources when its plugin is missing (components/plugins.py);
    under mocks no plugin runs, so an empty PULUMI_HOME gets an (empty) cache entry for each provider SDK
    installed. A fresh PULUMI_HOME also keeps the runner's own (its credentials file) out of reach."""
    import pkgutil
    from importlib import resources

    for module in (m.name for m in pkgutil.iter_modules() if m.name.startswith("pulumi_")):
        try:
            meta = json.loads(resources.files(module).joinpath("pulumi-plugin.json").read_text())
        except (OSError, ValueError, ModuleNotFoundError):
            continue
        if meta.get("resource") and meta.get("name") and meta.get("version"):
            version = str(meta["version"]).removeprefix("v")
            (home / "plugins" / f"resource-{meta['name']}-v{version}").mkdir(parents=True, exist_ok=True)


def render(tree: Path, stack: str, image_tag: str) -> dict[str, dict[str, Any]]:
    import pulumi
    import yaml

    home = Path(tempfile.mkdtemp(prefix="staging-render-home-"))
    os.environ["PULUMI_HOME"] = str(home)
    pretend_plugins(home)

    project = str(yaml.safe_load((tree / "Pulumi.yaml").read_text())["name"])
    config, secret_keys = stack_config(tree, project, stack)
    config.setdefault("financeReport:imageTag", image_tag)
    resources: dict[str, dict[str, Any]] = {}

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            resources[f"{args.typ}::{args.name}"] = plain(dict(args.inputs))
            rid = f"{args.name}-id"  # deterministic, so both trees' renders differ only where the code does
            state = dict(args.inputs)
            for key in ("id", "project_id", "environment_id", "compose_id", "domain_id", "deployment_id", "accessor"):
                state.setdefault(key, rid)
            state.setdefault("token", f"mock-token-{args.name}")
            return rid, state

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            # Lookups (a reviewer's GitHub id): a stable stand-in number per argument set.
            ident = zlib.crc32(json.dumps(args.args, sort_keys=True, default=str).encode())
            return {**dict(args.args), "id": str(ident)}, []

    pulumi.runtime.set_mocks(Mocks(), project=project, stack=stack, preview=False)
    pulumi.runtime.set_all_config(config, secret_keys)

    # The program's own steps (components/program.py `run`) minus preflight, whose answers are stand-ins.
    from components.compose.policy import check_environment
    from components.program import Checked, build, read_model, vault_connection

    @pulumi.runtime.test
    def program() -> None:
        env = read_model(stack)
        check_environment(env)
        project_id = None if env.owns_projects else env.project_ref or "shared-project-id"
        build(env, Checked(project_id=project_id, resolver=lambda _image, _tag: MOCK_DIGEST), vault_connection())

    program()
    return dict(sorted(resources.items()))


def main(argv: list[str]) -> int:
    tree, stack, image_tag, out = Path(argv[0]).resolve(), argv[1], argv[2], Path(argv[3])
    sys.path.insert(0, str(tree))
    try:
        resources = render(tree, stack, image_tag)
    except Exception as exc:  # any failure of the tree's program is the answer, as one line
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        out.write_text(json.dumps({"error": message.replace(PLACEHOLDER, SECRET)}))
        return 0
    out.write_text(json.dumps({"resources": resources}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
