"""Where the image jobs build from: this repository's apps/, or the Finance Report repository the variables name.

The jobs run `python -m ops build-plan` in their checkout, then (when it names a repository) check that
repository out at `app_path`, and build each `<component>_context`. Here a fresh copy of this repository
plays the checkout and the fixture app (tests/fixtures/app) plays the checked-out Finance Report repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.environment import environment_for
from components.images import APP_CHECKOUT, AppSource, ImagePolicyError, app_source, build_plan

REPO = Path(__file__).resolve().parents[2]
FIXTURE_APP = REPO / "tests" / "fixtures" / "app"


def build_plan_outputs(workspace: Path, *args: str) -> tuple[int, dict[str, str], str]:
    """`python -m ops build-plan` as the images job runs it, in `workspace`; its step outputs."""
    outputs = workspace / "github-output"
    outputs.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "ops", "build-plan", "--stack", "pr-7", "--sha", "abcdef0123", *args],
        cwd=workspace, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(workspace), "GITHUB_OUTPUT": str(outputs)},
    )  # fmt: skip
    out: dict[str, str] = {}
    lines = outputs.read_text().splitlines()
    while lines:
        key, _, value = lines.pop(0).partition("=")
        if "<<" in key:  # a multi-line value: key<<DELIM ... DELIM
            key, delim = key.split("<<")
            value = "\n".join(iter(lambda: lines.pop(0), delim))
        out[key] = value
    return proc.returncode, out, proc.stderr


@pytest.fixture
def infra_checkout(tmp_path: Path) -> Path:
    """A checkout of this repository as a separate infrastructure repository: no apps/."""
    root = tmp_path / "infra"
    shutil.copytree(REPO / "ops", root / "ops", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root / "apps").exists()
    return root


def declared_args(dockerfile: Path) -> set[str]:
    return set(re.findall(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)", dockerfile.read_text(), re.M))


def test_a_separate_infra_repository_builds_the_app_repository_the_variables_name(infra_checkout: Path) -> None:
    code, out, err = build_plan_outputs(
        infra_checkout, "--app-repository", "wangzitian0/finance_report", "--app-ref", "v1.4.0"
    )
    assert code == 0, err
    assert (out["app_repository"], out["app_ref"], out["app_path"]) == (
        "wangzitian0/finance_report",
        "v1.4.0",
        APP_CHECKOUT,
    )
    assert out["backend_context"] == f"{APP_CHECKOUT}/apps/backend"
    # What actions/checkout does with app_path, with the fixture app standing in for the repository.
    shutil.copytree(FIXTURE_APP, infra_checkout / out["app_path"])
    for component in ("backend", "frontend"):
        dockerfile = infra_checkout / out[f"{component}_context"] / "Dockerfile"
        assert dockerfile.is_file(), f"{component}: no Dockerfile at {out[component + '_context']}"
        passed = {line.partition("=")[0] for line in out[f"{component}_build_args"].splitlines()}
        assert passed <= declared_args(dockerfile), (
            f"{component} is passed {passed}, declares {declared_args(dockerfile)}"
        )
    assert out["frontend_build_args"] == "NEXT_PUBLIC_API_URL=https://report-pr-7.zitian.party"


def test_the_monorepo_builds_its_own_apps_and_ignores_the_variables(infra_checkout: Path) -> None:
    shutil.copytree(FIXTURE_APP / "apps", infra_checkout / "apps")  # the Finance Report monorepo's layout
    code, out, err = build_plan_outputs(infra_checkout, "--app-repository", "someone/else")
    assert code == 0, err
    assert (out["app_repository"], out["app_path"]) == ("", "")  # no second checkout
    assert (out["backend_context"], out["frontend_context"]) == ("apps/backend", "apps/frontend")
    assert all((infra_checkout / out[f"{c}_context"] / "Dockerfile").is_file() for c in ("backend", "frontend"))


def test_no_apps_and_no_variable_is_one_line_naming_the_variables(infra_checkout: Path) -> None:
    code, out, err = build_plan_outputs(infra_checkout)
    assert code == 1 and out == {}
    assert err.strip() == (
        "error: this repository has no apps/ to build images from; set the repository variable APP_REPOSITORY "
        "to the Finance Report repository (owner/name) and APP_REF to its branch or tag"
    )


@pytest.mark.parametrize(
    ("repository", "ref", "message"),
    [
        ("finance_report", "", "APP_REPOSITORY='finance_report' is not a GitHub owner/name"),
        ("o/r; rm -rf /", "", "is not a GitHub owner/name"),
        ("o/r", "main..evil", "APP_REF='main..evil' is not a branch, tag or commit name"),
        ("o/r", "-x", "APP_REF='-x' is not a branch"),
    ],
)
def test_bad_variables_are_refused(tmp_path: Path, repository: str, ref: str, message: str) -> None:
    with pytest.raises(ImagePolicyError, match=re.escape(message)):
        app_source(tmp_path, repository, ref)


def test_plan_contexts_follow_the_source() -> None:
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    here = [s.context for s in build_plan(env)]
    beside = [s.context for s in build_plan(env, AppSource(repository="o/r", ref="main"))]
    assert here == ["apps/backend", "apps/frontend"]
    assert beside == [f"{APP_CHECKOUT}/apps/backend", f"{APP_CHECKOUT}/apps/frontend"]
