"""STAND-IN for actions/upload-artifact (see action.yml): files of `path` become the run's artifact `name`."""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path

import httpx


def main() -> int:
    env = os.environ
    files: list[Path] = []
    for pattern in filter(None, (p.strip() for p in env["INPUT_PATH"].splitlines())):
        files += [Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file()]
    if not files:
        level = "error" if env.get("INPUT_IF_NO_FILES") == "error" else "warning"
        print(f"::{level}::upload-artifact stand-in: no files found at {env['INPUT_PATH']}")
        return 1 if level == "error" else 0
    # As upload-artifact does: paths relative to the files' common directory.
    root = Path(os.path.commonpath([str(f.parent.resolve()) for f in files]))
    payload = {"files": [{"path": str(f.resolve().relative_to(root)), "hex": f.read_bytes().hex()} for f in files]}
    url = f"{env['STANDIN_GITHUB_URL']}/_artifacts/{env['GITHUB_RUN_ID']}/{env['INPUT_NAME']}"
    httpx.post(url, content=json.dumps(payload), timeout=30, trust_env=False).raise_for_status()
    print(f"artifact {env['INPUT_NAME']}: {len(files)} file(s) (stand-in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
