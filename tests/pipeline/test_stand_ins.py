"""Every action a workflow uses runs as one of our stand-ins, each labelled as one and listed in the docs."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.pipeline.act import REPO, STANDINS, stand_in_map, uses_in

DOCS = REPO / "docs" / "workflows.md"


def _stand_ins() -> list[Path]:
    return sorted(p.parent for p in STANDINS.rglob("action.yml"))


def test_every_remote_action_the_workflows_use_has_a_stand_in() -> None:
    remote = {u.partition("@")[0] for u in uses_in(REPO) if not u.startswith("./")}
    assert remote, "no `uses:` found: the scan is broken"
    mapped = stand_in_map(REPO)  # raises, naming the action, when one has no stand-in
    assert {"/".join(k.partition("@")[0].split("/")[:2]) for k in mapped} == {
        "/".join(r.split("/")[:2]) for r in remote
    }


def test_a_new_action_without_a_stand_in_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "x.yml").write_text(
        "jobs:\n  a:\n    steps:\n      - uses: someone/new-action@v1\n"
    )
    try:
        stand_in_map(tmp_path)
    except LookupError as exc:
        assert "someone/new-action@v1" in str(exc)
    else:
        raise AssertionError("an action without a stand-in was accepted")


def test_each_stand_in_says_it_is_one_and_is_listed_in_the_docs() -> None:
    docs = DOCS.read_text()
    used = {"/".join(u.partition("@")[0].split("/")[:2]) for u in uses_in(REPO)}
    for folder in _stand_ins():
        name = str(folder.relative_to(STANDINS))
        text = (folder / "action.yml").read_text()
        assert text.startswith(f"# STAND-IN for {name}"), f"{name}: action.yml must start with '# STAND-IN for {name}'"
        assert yaml.safe_load(text)["runs"]["using"] == "composite"
        assert f"`{name}`" in docs, f"docs/workflows.md does not list the stand-in for {name}"
        assert name in used, f"stand-in {name} replaces an action no workflow uses any more: remove it"
