"""Node's `dotenv.parse` as an oracle: one long-lived `node tests/node/parse.js`, one line per batch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class NodeDotenv:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "dotenv").is_dir():
            raise RuntimeError("Node's dotenv is not installed: run `make test-setup`")
        self._proc = subprocess.Popen(
            [node, str(NODE_DIR / "parse.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.calls = 0

    def parse_many(self, texts: list[str]) -> list[dict[str, str]]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        # ensure_ascii keeps U+2028/2029 escaped, so the line protocol cannot be split by them.
        self._proc.stdin.write(json.dumps(texts, ensure_ascii=True) + "\n")
        self._proc.stdin.flush()
        self.calls += 1
        return list(json.loads(self._proc.stdout.readline()))

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
