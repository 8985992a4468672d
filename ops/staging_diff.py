"""What a PR changes in staging's desired state, from the code alone: `python -m ops staging-diff`.

The PR job may not open staging's state, Vault or Dokploy (docs/security.md), so this is no `pulumi preview`:
the program is rendered under Pulumi's mocks (ops/staging_render.py) from the committed files of two trees,
the PR's merge commit (the checkout) and its base (the merge commit's first parent, exported with
`git archive`), each in a fresh interpreter with an empty environment; the two sets of resource inputs are
then compared. It cannot see drift or what staging's state holds: the real preview of staging runs on `main`
after the merge (staging.yml's `pulumi up --diff`, in its log); production's preview stays out of the PR
comment (production.yml's plan, in its run summary), see docs/workflows.md.
"""

from __future__ import annotations

import difflib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.comments import BODY_LIMIT, clean_output

RENDERER = Path(__file__).with_name("staging_render.py")
RENDER_TIMEOUT = 300
INLINE = 160  # a value longer than this (or on several lines) is shown as a unified diff
DIFF_LIMIT = 6_000  # one input's diff, at most
TITLE = "#### What this PR changes in staging"
WHAT = (
    "_The change this PR makes to staging's desired state, rendered from the code without staging's credentials "
    "(the program under Pulumi's mocks, at the PR's base and at its merge commit; config from the committed "
    "`Pulumi.{stack}.yaml`, image tag held equal). It does not see staging's state or drift: the real preview of "
    "staging runs on `main` after merge (staging.yml: `pulumi up --diff`, in its run log). Production's preview is "
    "not here: it is the plan of production.yml, in that run's summary. Secrets, and values that come from one, "
    "show as `[secret]` and are not compared._"
)


class StagingDiffError(RuntimeError):
    """One line: which tree could not be read, and why."""


@dataclass(frozen=True)
class Render:
    """One tree's desired resources (`type::name` -> inputs), or why the program could not be rendered."""

    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Changed:
    key: str
    inputs: dict[str, tuple[Any, Any]]  # input name -> (base, this PR)


@dataclass(frozen=True)
class Diff:
    added: list[str]
    removed: list[str]
    changed: list[Changed]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self, stack: str) -> str:
        if self.empty:
            return f"no change to {stack}"
        return f"{stack}: {len(self.changed)} to update, {len(self.added)} to add, {len(self.removed)} to remove"


# ---- rendering --------------------------------------------------------------------------------------
def render_tree(tree: Path, stack: str, image_tag: str) -> Render:
    """The tree's program under mocks, in `python -I` with an environment of nothing but PATH and a scratch
    HOME: whatever the step's environment held, the tree's code sees none of it."""
    with tempfile.TemporaryDirectory(prefix="staging-render-") as scratch:
        out = Path(scratch) / "render.json"
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8", "TMPDIR": scratch}
        try:
            proc = subprocess.run(
                [sys.executable, "-I", str(RENDERER), str(tree), stack, image_tag, str(out)],
                cwd=tree, env=env, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return Render(error=f"the program did not finish within {RENDER_TIMEOUT} s under mocks")
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return Render(error=f"the renderer exited {proc.returncode}: {last[:300]}")
        doc = json.loads(out.read_text())
    if doc.get("error"):
        return Render(error=str(doc["error"]))
    return Render(resources=doc["resources"])


def git(repo: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        detail = " ".join(proc.stderr.decode(errors="replace").split())[:300]
        raise StagingDiffError(f"git {' '.join(args[:2])} failed in {repo}: {detail}")
    return proc.stdout


def base_revision(repo: Path, base: str) -> str:
    """`merge-parent`: the first parent of the checked-out merge commit (what GitHub merged the PR into);
    otherwise `base` is a commit the checkout holds."""
    if base == "merge-parent":
        parents = git(repo, "rev-list", "--parents", "-n", "1", "HEAD").decode().split()[1:]
        if len(parents) != 2:
            raise StagingDiffError(
                "the checkout is not a PR merge commit (refs/pull/<N>/merge); pass --base <sha> of the base commit, "
                "and check it out with fetch-depth: 2 or more"
            )
        return parents[0]
    return git(repo, "rev-parse", "--verify", f"{base}^{{commit}}").decode().strip()


def export_tree(repo: Path, revision: str, dest: Path) -> Path:
    """The committed files of `revision`, as `git archive` writes them: no hooks, filters or checkout run, and
    the data filter refuses links or paths that leave `dest`."""
    with tarfile.open(fileobj=io.BytesIO(git(repo, "archive", "--format=tar", revision))) as archive:
        archive.extractall(dest, filter="data")
    return dest


# ---- comparing ---------------------------------------------------------------------------------------
def diff(base: Mapping[str, Mapping[str, Any]], head: Mapping[str, Mapping[str, Any]]) -> Diff:
    changed = []
    for key in sorted(set(base) & set(head)):
        old, new = base[key], head[key]
        inputs = {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        if inputs:
            changed.append(Changed(key, inputs))
    return Diff(added=sorted(set(head) - set(base)), removed=sorted(set(base) - set(head)), changed=changed)


def label(key: str, html: bool = False) -> str:
    """`staging-app` (dokploy:Compose) from `pulumi-python:dynamic/dokploy:Compose::staging-app`."""
    type_, _, name = key.rpartition("::")
    kind = type_.removeprefix("pulumi-python:dynamic/")
    package, _, rest = kind.partition(":")
    short = f"{package}:{rest.rsplit(':', 1)[-1]}" if rest else kind
    return f"<code>{name}</code> ({short})" if html else f"`{name}` ({short})"


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True, default=str)


def change_lines(name: str, old: Any, new: Any) -> list[str]:
    a, b = _text(old), _text(new)
    if "\n" not in a + b and len(a) + len(b) <= INLINE:
        return [f"- `{name}`: `{a}` → `{b}`"]
    unified = difflib.unified_diff(
        a.splitlines(), b.splitlines(), f"{name} (base)", f"{name} (this PR)", lineterm="", n=2
    )
    body = clean_output("\n".join(unified), DIFF_LIMIT).rstrip()
    return [f"- `{name}`:", "", "```diff", body, "```", ""]


def section(base: Render, head: Render, stack: str = "staging", limit: int = BODY_LIMIT // 2) -> str:
    """The comment's staging part: summary line first, then the changed resources only, within `limit`."""
    head_lines = [TITLE, ""]
    if head.error is not None:
        return "\n".join(
            [*head_lines, f"**{stack}: not rendered at this PR**: {head.error}", "", WHAT.format(stack=stack)]
        )
    if base.error is not None:
        return "\n".join(
            [
                *head_lines,
                f"**{stack}: nothing to compare**: the base did not render ({base.error})",
                "",
                WHAT.format(stack=stack),
            ]
        )
    d = diff(base.resources, head.resources)
    lines = [*head_lines, f"**{d.summary(stack)}**", "", WHAT.format(stack=stack), ""]
    if d.added:
        lines.append("To add: " + ", ".join(label(k) for k in d.added))
    if d.removed:
        lines.append("To remove: " + ", ".join(label(k) for k in d.removed))
    if d.added or d.removed:
        lines.append("")
    text = "\n".join(lines)
    for i, item in enumerate(d.changed):
        block = [f"<details open><summary>{label(item.key, html=True)}: {', '.join(item.inputs)}</summary>", ""]
        for name, (old, new) in item.inputs.items():
            block += change_lines(name, old, new)
        block += ["</details>", ""]
        piece = "\n".join(block) + "\n"
        rest = len(d.changed) - i
        if len(text) + len(piece) > limit - 200:
            text += f"\n… and {rest} more to update (not shown: the comment has a size limit); their names: "
            text += ", ".join(label(c.key) for c in d.changed[i:])[: max(limit - len(text) - 20, 0)]
            break
        text += piece
    return text[:limit].rstrip()


def staging_diff(repo: Path, base: str, image_tag: str, stack: str = "staging", limit: int = BODY_LIMIT // 2) -> str:
    """Both trees exported the same way (the checkout's own files, a .venv among them, play no part)."""
    revision = base_revision(repo, base)
    with tempfile.TemporaryDirectory(prefix="staging-trees-") as scratch:
        trees = {name: Path(scratch) / name for name in ("base", "head")}
        before = render_tree(export_tree(repo, revision, trees["base"]), stack, image_tag)
        after = render_tree(export_tree(repo, "HEAD", trees["head"]), stack, image_tag)
    return section(before, after, stack, limit)
