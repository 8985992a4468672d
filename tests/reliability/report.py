"""RELIABILITY.md: written by the reliability suite from its latest run.

Each bad-input case and each scenario records a `Row` in `LEDGER`; at the end of the session `write()`
renders them, keeping the last result of any row that did not run this time (a `-k` selection), and
dropping rows the suite no longer has. `listed(path)` reads the case ids back, for the test that fails
when the file's cases differ from the suite's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

HEADER = """# Reliability

Written by the reliability suite (`tests/reliability/`, part of `make test`) from its latest run; do not
edit by hand. Bad input: each case is one stack run that must fail before any change with one line (no
traceback, no secret), the Dokploy server's request log showing no write and OpenBao's KV versions and
token accessors unchanged. Scenarios: faults, crashes and parallel stacks, with the objects counted on the
servers after the last run. `objects` is expected / found; `leaks` counts known secret values found
(raw, base64, URL-encoded, JSON-escaped) in state, CLI output, our logs and the local Dokploy's logs, out of
every secret the scenario's stacks hold (the keys, what they generated in Vault, what their state keeps as
secrets: derived values, minted tokens).

A missing image is checked before any change for production (the `production-image-*` cases), whose
images are never built. A PR's or staging's images are built and pushed by the same workflow run just
before its `up` (`needs: images`), so they are not looked up again; a tag that was never pushed fails the
deploy on Dokploy and then the smoke test.
"""

COLUMNS = ("id", "group", "input", "result", "runs", "objects", "duplicates", "leaks", "message")


@dataclass
class Row:
    id: str
    group: str
    input: str
    result: str  # pass / FAIL
    runs: str = "1"
    objects: str = "no change / no change"
    duplicates: str = "0"
    leaks: str = "0"
    message: str = ""
    section: str = "bad input"  # or "scenario"

    def cells(self) -> list[str]:
        return [_cell(getattr(self, c)) for c in COLUMNS]


LEDGER: dict[str, Row] = {}


def record(row: Row) -> None:
    LEDGER[row.id] = row


def scenario(
    case_id: str, group: str, what: str, message: str, *, objects: str, runs: str = "1", leaks: str = "0",
    result: str = "pass",
) -> None:  # fmt: skip
    """A scenario's row (`objects`: expected / found)."""
    record(
        Row(case_id, group, what, result, runs=runs, objects=objects, leaks=leaks, message=message, section="scenario")
    )


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_ROW = re.compile(r"^\| `([^`]+)` \|")


def parse(path: Path) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    section = "bad input"
    if not path.exists():
        return rows
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            section = "scenario" if "Scenario" in line else "bad input"
        if not _ROW.match(line):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        values = dict(zip(COLUMNS, cells, strict=False))
        values["id"] = values["id"].strip("`")
        names = {f.name for f in fields(Row)}
        rows[values["id"]] = Row(**{k: v for k, v in values.items() if k in names}, section=section)
    return rows


def listed(path: Path) -> set[str]:
    return set(parse(path))


def render(rows: list[Row], order: list[str]) -> str:
    by_id = {r.id: r for r in rows}
    out = [HEADER]
    for section, title in (("bad input", "Bad input"), ("scenario", "Scenarios")):
        chosen = [by_id[i] for i in order if i in by_id and by_id[i].section == section]
        passed = sum(r.result == "pass" for r in chosen)
        out.append(f"## {title}: {len(chosen)} ({passed} pass)\n")
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|" + "---|" * len(COLUMNS))
        for r in chosen:
            cells = r.cells()
            cells[0] = f"`{cells[0]}`"
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def write(path: Path) -> None:
    from tests.reliability.suite import all_ids  # the suite's ids, in their order

    order = all_ids()
    rows = {**parse(path), **LEDGER}
    path.write_text(render([rows[i] for i in order if i in rows], order))
