"""A measured counterfactual: the program's compose rendering with and without the Compose-schema check.

    .venv/bin/python -m bench.counterfactual_validation [runs]

Each run is a fresh interpreter that imports what `components.compose.render` needs and renders the `local`
stack's composes (`render.plan`), alternating `on` (as the program does: jsonschema imported, every file
validated) and `off` (jsonschema replaced by an empty module before the import, `validate` a no-op). Prints the
median, min and max of each, in seconds: the share of the program's start-up the check costs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time, types
t0 = time.perf_counter()
if sys.argv[1] == "off":
    sys.modules["jsonschema"] = types.ModuleType("jsonschema")
from components.compose import render
from components.compose.templates import Images
from components.environment import environment_for
if sys.argv[1] == "off":
    render.validate = lambda text: None
files = render.plan(environment_for("local", {}), Images("ghcr.io/x/app-backend:local", "ghcr.io/x/app-frontend:local"))
print(time.perf_counter() - t0)
"""


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(runs):
        for mode in times:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout
            times[mode].append(float(out))
    for mode, values in times.items():
        print(
            f"{mode:3}: median {statistics.median(values):.3f} s, min {min(values):.3f}, max {max(values):.3f} "
            f"({runs} runs: {', '.join(f'{v:.3f}' for v in values)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
