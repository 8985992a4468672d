"""`python -m ops <command>`: the entry points the workflows call. Wiring only; logic lives in the modules.

Every command prints what it decided; inside GitHub Actions the same values go to $GITHUB_OUTPUT.
Errors are one line (`error: ...`) with exit code 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from components.environment import ConfigError
from ops import comments, drift, gha, images, pulumi_cli, reap_job, reaper, smoke, stack_files, stacks, versions
from ops.github_api import GitHub
from ops.required_checks import REQUIRED_CHECKS


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes")


def _csv(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _github() -> GitHub:
    return GitHub(_env("GITHUB_REPOSITORY"), _env("GITHUB_TOKEN"))


# ---- stacks and versions ---------------------------------------------------------------------------
def cmd_pr_stack(a: argparse.Namespace) -> int:
    stack = stacks.pr_stack(a.pr)
    tag = stacks.image_tag(stack, a.sha) if a.sha else None
    gha.set_outputs(stacks.facts(stacks.environment(stack, tag)))
    return 0


def cmd_env_info(a: argparse.Namespace) -> int:
    tag = a.image_tag or (stacks.image_tag(a.stack, a.sha) if a.sha else None)
    gha.set_outputs(stacks.facts(stacks.environment(a.stack, tag)))
    return 0


def cmd_build_plan(a: argparse.Namespace) -> int:
    """What CI builds and pushes for a stack (the images component's plan), as step outputs per component,
    and which Finance Report checkout it builds from (app_repository empty: this one's apps/)."""
    from components.images import APP_CHECKOUT, app_source, build_plan

    tag = a.image_tag or stacks.image_tag(a.stack, a.sha)
    source = app_source(Path(a.workspace), a.app_repository, a.app_ref)
    out: dict[str, str] = {
        "app_repository": source.repository,
        "app_ref": source.ref,
        "app_path": APP_CHECKOUT if source.repository else "",
    }
    for spec in build_plan(stacks.environment(a.stack, tag), source):
        out[f"{spec.component}_context"] = spec.context
        out[f"{spec.component}_tags"] = "\n".join(spec.tags)
        out[f"{spec.component}_build_args"] = "\n".join(f"{k}={v}" for k, v in spec.build_args.items())
    gha.set_outputs(out)
    return 0


def cmd_open_stack(a: argparse.Namespace) -> int:
    """A job's fresh checkout: create the stack on its secrets provider, or restore its file's keys from the state."""
    what = stack_files.ensure_stack(a.stack, create=not a.existing_only)
    print(f"{what}: stack {a.stack}" + ("" if what == "missing" else f" on {stack_files.secrets_provider(a.stack)}"))
    return 0


def cmd_init_stack(a: argparse.Namespace) -> int:
    """The admin's one-time step for staging/production (`make init-stack`); the stack file is then committed."""
    for line in stack_files.init_stack(a.stack, _csv(a.reviewers), _csv(a.teams), a.release_app_id.strip()):
        print(line)
    return 0


def cmd_deployed_config(a: argparse.Namespace) -> int:
    value = stacks.deployed_config(stacks.parse_history(pulumi_cli.history(a.stack)), a.key)
    gha.set_outputs({"value": value or a.default or ""})
    return 0


def _git(*args: str) -> list[str]:
    out = subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def cmd_next_version(a: argparse.Namespace) -> int:
    version, new = versions.release_for_commit(_git("tag", "--list"), _git("tag", "--points-at", a.commit))
    gha.set_outputs({"version": version, "new": str(new).lower()})
    return 0


def cmd_release_check(a: argparse.Namespace) -> int:
    """The production run's version: the pushed tag, or a dispatch input that must name the ref it runs on."""
    version = a.version or a.ref.removeprefix("refs/tags/")
    if versions.parse(version) is None:
        raise ConfigError(f"{version!r} is not a release tag vX.Y.Z")
    if a.ref != f"refs/tags/{version}":
        raise ConfigError(
            f"run the workflow from the tag it deploys (the production environment only admits release tags): "
            f"gh workflow run production.yml --ref {version} -f version={version}"
        )
    gha.set_outputs({"version": version})
    return 0


def cmd_verify_images(a: argparse.Namespace) -> int:
    digests = images.verify(a.tag)
    gha.summary("\n".join(f"- {component} `{a.tag}` → `{d}`" for component, d in digests.items()))
    gha.set_outputs({"digests": json.dumps(digests)})
    return 0


def cmd_retag(a: argparse.Namespace) -> int:
    digests = images.retag(a.source, a.target, a.repository)
    gha.summary("\n".join(f"- {component} `{a.target}` = `{a.source}` → `{d}`" for component, d in digests.items()))
    return 0


# ---- smoke test ------------------------------------------------------------------------------------
def cmd_smoke(a: argparse.Namespace) -> int:
    env = stacks.environment(a.stack, a.image_tag)
    checks = smoke.wait_healthy(
        env, base_url=a.base_url, deadline_seconds=a.deadline, interval=a.interval, timeout=a.timeout
    )
    verdict = smoke.overall(checks)
    if a.result_file:
        Path(a.result_file).write_text(json.dumps([c.__dict__ | {"verdict": c.verdict.value} for c in checks]))
    gha.set_outputs({"verdict": verdict.value, **{c.name: c.verdict.value for c in checks}})
    gha.summary(
        f"### Smoke test of `{env.stack}`: {verdict.value}\n\n" + "\n".join(f"- {c.name}: {c.detail}" for c in checks)
    )
    if verdict is not smoke.Verdict.HEALTHY:
        if a.release:
            note = comments.rollback_note(a.release, a.previous or None, os.environ.get("GITHUB_REPOSITORY", "<repo>"))
            gha.summary(f"> [!CAUTION]\n> {note}")
            gha.error(note)
        return 1
    return 0


def _load_checks(path: str | None) -> list[smoke.Check]:
    if not path or not Path(path).exists():
        return []
    return [
        smoke.Check(d["name"], d["url"], smoke.Verdict(d["verdict"]), d["detail"])
        for d in json.loads(Path(path).read_text())
    ]


# ---- comments and the drift issue -----------------------------------------------------------------
def cmd_comment(a: argparse.Namespace) -> int:
    stack = stacks.pr_stack(a.pr)
    if a.kind == "pr-env":
        env = stacks.environment(stack, stacks.image_tag(stack, a.sha))
        staging = os.environ.get("STAGING_DIFF")  # the staging-diff job's section, passed on by the workflow
        if staging == "":  # passed on, but that job gave nothing
            staging = comments.STAGING_MISSING
        body = comments.pr_environment(
            env, a.sha, _load_checks(a.smoke), gha.run_url(), deployed=_truthy(a.ok), staging=staging
        )
        key = comments.PR_ENV
    elif a.kind == "pr-env-destroyed":
        body = comments.pr_environment_destroyed(stack, a.sha, gha.run_url(), ok=_truthy(a.ok))
        key = comments.PR_ENV
    else:
        output = Path(a.output).read_text(errors="replace") if a.output and Path(a.output).exists() else ""
        body = comments.preview(a.stack, a.sha, int(a.exit_code), output, gha.run_url())
        key = comments.preview_key(a.stack)
    gha.summary(body)
    if a.dry_run:
        return 0
    with _github() as gh:
        print(f"comment {gh.upsert_comment(int(a.pr), key, body)}")
    return 0


def cmd_staging_diff(a: argparse.Namespace) -> int:
    """The PR comment's staging part (ops/staging_diff.py): from the code only, no credential involved."""
    from ops.staging_diff import staging_diff

    text = staging_diff(Path(a.repo), a.base, stacks.image_tag(a.stack, a.sha), a.stack)
    if a.out:
        Path(a.out).write_text(text + "\n")
    gha.set_outputs({"section": text})
    gha.summary(text)
    return 0


def cmd_drift_check(a: argparse.Namespace) -> int:
    result = drift.check(a.stack)
    gha.set_outputs({"status": result.status, "report": result.output})
    gha.summary(f"### Drift check of `{a.stack}`: {result.status}")
    return 0


def cmd_drift_issue(a: argparse.Namespace) -> int:
    results = []
    for item in a.result:
        stack, _, status = item.partition("=")
        report = os.environ.get(f"DRIFT_REPORT_{stack.upper()}", "")
        results.append(comments.DriftResult(stack, status if status in ("clean", "drift") else "error", report))
    title, body = comments.drift_issue(results, gha.run_url())
    gha.summary(body)
    dirty = [r for r in results if r.status != "clean"]
    if not a.dry_run:
        with _github() as gh:
            if dirty:
                print(f"issue {gh.upsert_issue(comments.DRIFT, title, body, ['drift'])}")
            elif gh.close_issue(comments.DRIFT, f"No drift as of {gha.run_url()}."):
                print("issue closed")
    return 1 if dirty else 0


# ---- reaper ----------------------------------------------------------------------------------------
def cmd_reap(a: argparse.Namespace) -> int:
    from ops.orphans import PreviewProject, PreviewSecrets

    if a.stack is not None and reaper.pr_number_of(a.stack) is None:
        raise ConfigError(f"--stack {a.stack!r} is not a PR stack pr-<N>; the reaper touches nothing else")
    key = os.environ.get("DOKPLOY_API_KEY")
    url = _env("DOKPLOY_URL")  # every PR stack talks to the same Dokploy server, as the PR workflow does
    env_token = os.environ.get("GH_ENVIRONMENTS_TOKEN")
    vault_addr, vault_token = os.environ.get("VAULT_ADDR"), os.environ.get("VAULT_TOKEN")
    repo = _env("GITHUB_REPOSITORY")
    with _github() as gh:
        dokploy = PreviewProject(url, key) if key else None
        envs = GitHub(repo, env_token) if env_token else None
        secrets = PreviewSecrets(vault_addr, vault_token) if vault_addr and vault_token else None
        retire = _vault_retire() if secrets is not None else None
        report = reap_job.run(
            github=gh,
            dokploy=dokploy,
            ttl=timedelta(hours=a.ttl_hours),
            dry_run=a.dry_run,
            delete_orphans=a.delete_orphans,
            environments=envs,
            secrets=secrets,
            only=a.stack,
            retire=retire,
        )
    gha.summary(report.markdown(dry_run=a.dry_run))
    if a.stack is None:  # every PR stack was decided: the images job may prune the others' images
        gha.set_outputs({"kept_prs": json.dumps(report.kept_prs())})
    return 1 if report.failures else 0


def cmd_reap_images(a: argparse.Namespace) -> int:
    from ops import reap_images

    kept = json.loads(a.kept_prs)  # the reap job's output: no list, nothing deleted
    if not isinstance(kept, list) or not all(isinstance(n, int) for n in kept):
        raise ConfigError(f"--kept-prs {a.kept_prs!r} is not a JSON list of PR numbers")
    with _github() as gh:
        report = reap_images.run(github=gh, kept=kept, ttl=timedelta(hours=a.ttl_hours), dry_run=a.dry_run)
    gha.summary(report.markdown(dry_run=a.dry_run))
    return 1 if report.failures else 0


def _vault_retire() -> Callable[[int], object]:
    from components.vault.client import VaultClient
    from components.vault.connection import VaultConnection
    from ops.vault_bootstrap import retire_pr

    client = VaultClient.connect(VaultConnection(), dict(os.environ))
    return lambda number: retire_pr(client, number)


def cmd_app_token(_: argparse.Namespace) -> int:
    """The release App's installation token as the step output `token` (masked; never printed)."""
    from ops.github_app import installation_token

    output = _env("GITHUB_OUTPUT")
    key = _env("RELEASE_APP_PRIVATE_KEY")
    if not key.lstrip().startswith("-----BEGIN"):  # also accepted base64-encoded (one line)
        import base64

        key = base64.b64decode(key).decode()
    token = installation_token(
        _env("RELEASE_APP_ID"),
        key,
        _env("GITHUB_REPOSITORY"),
        api_url=os.environ.get("GITHUB_API_URL", "https://api.github.com"),
    )
    print(f"::add-mask::{token}")  # the runner masks it from here on; the token itself is never printed
    with open(output, "a", encoding="utf-8") as fh:
        fh.write(f"token={token}\n")
    print("token minted (step output `token`)")
    return 0


def cmd_required_checks(_: argparse.Namespace) -> int:
    print("\n".join(REQUIRED_CHECKS))
    return 0


# ---- data (docs/data.md) ---------------------------------------------------------------------------
def cmd_restore_drill(a: argparse.Namespace) -> int:
    from ops import restore_drill

    return restore_drill.main(a.stack, a.key)


def cmd_rotate(a: argparse.Namespace) -> int:
    from ops import rotate

    stdin = sys.stdin.read() if a.kind == "s3-key" else ""
    return rotate.main(
        a.kind, a.stack, directory=a.dir, stacks=a.also, which=a.which, stdin=stdin,
        secret=a.secret, github_environment=a.github_environment, old_key_id=a.old_key_id,
    )  # fmt: skip


# ---- wiring ----------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help)
        sp.set_defaults(fn=fn)
        return sp

    sp = add("pr-stack", cmd_pr_stack, "stack name, image tag and URLs of a PR's environment")
    sp.add_argument("--pr", required=True)
    sp.add_argument("--sha")

    sp = add("env-info", cmd_env_info, "URLs and image tag of any stack")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--sha")
    sp.add_argument("--image-tag")

    sp = add("build-plan", cmd_build_plan, "contexts, tags and build args of the images CI builds for a stack")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--sha")
    sp.add_argument("--image-tag")
    sp.add_argument("--workspace", default=".", help="the checkout; its apps/, if any, is what gets built")
    sp.add_argument("--app-repository", default="", help="owner/name of the Finance Report repository (no apps/ here)")
    sp.add_argument("--app-ref", default="", help="its branch, tag or commit (default: its default branch)")

    sp = add("open-stack", cmd_open_stack, "create a stack on its secrets provider, or restore its stack file's keys")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--existing-only", action="store_true", help="never create it (destroy, reaper): `missing`")

    sp = add("init-stack", cmd_init_stack, "an admin's one-time init of staging/production (then commit the file)")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--reviewers", default="", help="production's required reviewers: GitHub logins, comma-separated")
    sp.add_argument("--teams", default="", help="production's required reviewer teams: slugs or ids, comma-separated")
    sp.add_argument("--release-app-id", default="", help="the release GitHub App's id (the only creator of v* tags)")

    sp = add("deployed-config", cmd_deployed_config, "a config value of the stack's last successful update")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--key", default="financeReport:imageTag")
    sp.add_argument("--default")

    sp = add("next-version", cmd_next_version, "the release tag for a commit: its existing one or the next patch")
    sp.add_argument("--commit", default="HEAD")

    sp = add("release-check", cmd_release_check, "validate the version a production run deploys")
    sp.add_argument("--version", default="")
    sp.add_argument("--ref", required=True)

    sp = add("verify-images", cmd_verify_images, "both production images exist at a release tag (digests)")
    sp.add_argument("--tag", required=True)

    sp = add("retag", cmd_retag, "point a release tag at a staging tag's manifests")
    sp.add_argument("--from", dest="source", required=True)
    sp.add_argument("--to", dest="target", required=True)
    sp.add_argument("--repository", default=images.DEFAULT_IMAGE_REPOSITORY)

    sp = add("smoke", cmd_smoke, "smoke-test an environment until healthy or a deadline")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--image-tag")
    sp.add_argument("--base-url", help="stand-in for https://<host> (local servers, tests)")
    sp.add_argument("--deadline", type=float, default=300.0)
    sp.add_argument("--interval", type=float, default=10.0)
    sp.add_argument("--timeout", type=float, default=10.0)
    sp.add_argument("--result-file")
    sp.add_argument("--release", help="production: the tag being deployed")
    sp.add_argument("--previous", help="production: the tag that ran before")

    sp = add("comment", cmd_comment, "render and upsert a PR comment")
    sp.add_argument("kind", choices=["pr-env", "pr-env-destroyed", "preview"])
    sp.add_argument("--pr", required=True)
    sp.add_argument("--sha", required=True)
    sp.add_argument("--ok", default="true")
    sp.add_argument("--smoke")
    sp.add_argument("--stack", default="staging")
    sp.add_argument("--exit-code", default="0")
    sp.add_argument("--output")
    sp.add_argument("--dry-run", action="store_true")

    sp = add("staging-diff", cmd_staging_diff, "what a PR changes in staging's desired state, from the code alone")
    sp.add_argument("--sha", required=True, help="the PR head: the image tag both renders use")
    sp.add_argument("--base", default="merge-parent", help="the base commit (default: the merge commit's first parent)")
    sp.add_argument("--repo", default=".", help="the checkout of the PR's merge commit")
    sp.add_argument("--stack", default="staging")
    sp.add_argument("--out", help="also write the section to this file")

    sp = add("drift-check", cmd_drift_check, "preview --refresh --expect-no-changes at the deployed config")
    sp.add_argument("--stack", required=True)

    sp = add("drift-issue", cmd_drift_issue, "open/update (or close) the one drift issue")
    sp.add_argument("--result", action="append", default=[], help="stack=clean|drift|error")
    sp.add_argument("--dry-run", action="store_true")

    sp = add("reap", cmd_reap, "destroy and remove closed or expired PR stacks; report orphaned objects")
    sp.add_argument("--ttl-hours", type=float, default=168.0)
    sp.add_argument("--dry-run", action="store_true")
    sp.add_argument("--delete-orphans", action="store_true")
    sp.add_argument("--stack", help="only this pr-<N> (the PR-close job); still reaped only if its PR is closed")

    sp = add("reap-images", cmd_reap_images, "delete PR image versions past the TTL whose PR has no kept stack")
    sp.add_argument("--ttl-hours", type=float, default=168.0)
    sp.add_argument("--kept-prs", required=True, help="JSON list of PRs whose stack the reap job kept")
    sp.add_argument("--dry-run", action="store_true")

    add("app-token", cmd_app_token, "mint the release GitHub App's installation token (staging's release job)")
    add("required-checks", cmd_required_checks, "the CI job names main's ruleset requires")

    sp = add("restore-drill", cmd_restore_drill, "restore a stack's newest database dump into a scratch PostgreSQL")
    sp.add_argument("--stack", required=True)
    sp.add_argument("--key", default="latest", help="a dump's key (default: the newest)")

    sp = add("rotate", cmd_rotate, "rotate one kind of credential, revoking the old one (docs/data.md)")
    sp.add_argument("kind", choices=["agent-secret-ids", "transit", "s3-key", "dokploy-key"])
    sp.add_argument("--stack", required=True, help="the environment (transit: a stack on the group's key)")
    sp.add_argument("--dir", default="", help="agent-secret-ids: the host's credentials directory")
    sp.add_argument("--also", action="append", default=[], help="transit: every stack on the key (repeat)")
    sp.add_argument("--which", choices=["backup", "app"], default="backup", help="s3-key: which pair")
    sp.add_argument("--secret", default="", help="dokploy-key: the GitHub secret holding the key")
    sp.add_argument("--github-environment", default="", help="dokploy-key: its environment (none: repository)")
    sp.add_argument("--old-key-id", default="", help="dokploy-key: the id of the key being replaced")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except (ConfigError, ValueError, RuntimeError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except Exception as exc:  # httpx/registry errors: one line, never a traceback that could echo headers
        print(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
