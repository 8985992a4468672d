"""How `pulumi preview`, `pulumi refresh` and a no-op `pulumi up` of the `local` stack scale with the number of
neighbour objects (other stacks' projects, environments, composes, domains, deployments) on the same Dokploy server.

    .venv/bin/python -m bench.neighbours                    # sizes 0,100,500 composes, 3 runs each
    .venv/bin/python -m bench.neighbours --sizes 0,50 --runs 1 --output /tmp/results.md

The `local` stack is brought up exactly as `make up` does (`scripts/up.sh`) on a throwaway copy of the repository
(`tests.stacks.clone.Clone`: its own `.local/`, state and PULUMI_HOME, free loopback ports). Neighbours are then
added through the local server's seed API (straight into its store: no requests, no counters) in steps, and
after each step every operation runs `--runs` times: the server's counters are reset before each run, and
the run's wall time and Dokploy requests (per procedure, reads and writes, from the request log) are recorded.
All three operations are no-ops on a settled stack: any write is reported as a failure in the output (the
benchmark does not raise). Both servers are stopped at the end (`local-servers.sh stop`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.stacks.clone import Clone

REPO = Path(__file__).resolve().parents[1]
STACK = "local"

# One neighbour "stack" = one seeded project: its default `production` environment plus one more, each with
# COMPOSES_PER_ENV composes (so 2 * COMPOSES_PER_ENV composes per project), every compose with two domains and one
# finished deployment, like a deployed finance_report environment.
ENVS_PER_PROJECT = 1
COMPOSES_PER_ENV = 5
DOMAINS_PER_COMPOSE = 2
DEPLOYMENTS_PER_COMPOSE = 1
COMPOSES_PER_PROJECT = (1 + ENVS_PER_PROJECT) * COMPOSES_PER_ENV

# What each operation runs (scripts/local-stack.sh's flags, plus --expect-no-changes: all three must change nothing,
# and a change shows as a non-zero exit code in the results).
OPERATIONS: dict[str, list[str]] = {
    "preview": ["preview", "--stack", STACK, "--expect-no-changes", "--suppress-progress"],
    "refresh": ["refresh", "--stack", STACK, "--yes", "--expect-no-changes", "--suppress-progress"],
    "up": ["up", "--stack", STACK, "--yes", "--expect-no-changes", "--suppress-progress"],
}


@dataclass
class Sample:
    seconds: float
    returncode: int
    reads: int
    writes: int
    by_procedure: Counter[tuple[str, str]]  # (procedure, read|write) -> requests
    server_ms: float  # summed server-side handling time of the run's Dokploy requests
    tail: str = ""


@dataclass
class Cell:
    size: int
    operation: str
    objects: dict[str, int]
    project_all_kb: float  # the size of one `project.all` answer at this size (it lists every compose)
    samples: list[Sample] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def writes(self) -> int:
        return max(s.writes for s in self.samples)

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.samples)

    def median_requests(self) -> Counter[tuple[str, str]]:
        keys = set().union(*(s.by_procedure for s in self.samples))
        return Counter({k: int(statistics.median(s.by_procedure[k] for s in self.samples)) for k in sorted(keys)})


class Control:
    """The local Dokploy server's control API (`dokploy_local.control`) for a server started by the scripts.

    `dokploy_local.testing.LocalDokploy` wraps the same calls, but only for a server it started itself;
    `make up`'s server is started by `scripts/local-servers.sh`."""

    def __init__(self, url: str, api_key: str) -> None:
        self._client = httpx.Client(base_url=url, headers={"x-api-key": api_key}, timeout=120)

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._client.request(method, f"/__local/{path}", json=body, params=params)
        response.raise_for_status()
        return response.json()

    def seed(self, **spec: Any) -> dict[str, Any]:
        return dict(self._call("POST", "seed", spec))

    def counters(self) -> dict[str, Any]:
        return dict(self._call("GET", "counters"))

    def requests(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "requests")["requests"])

    def reset_stats(self) -> None:
        self._call("POST", "reset-stats")

    def count_objects(self) -> dict[str, int]:
        return dict(self._call("GET", "counts"))

    def project_all_kb(self) -> float:
        """One `project.all` through the Dokploy API (before the counters are reset): its answer's size."""
        response = self._client.get("/api/project.all")
        response.raise_for_status()
        return len(response.content) / 1024

    def close(self) -> None:
        self._client.close()


def measure(clone: Clone, control: Control, operation: str) -> Sample:
    control.reset_stats()
    start = time.perf_counter()
    run = clone.pulumi(*OPERATIONS[operation], env=clone.stack_env(), check=False, timeout=900)
    seconds = time.perf_counter() - start
    counters = control.counters()
    log = control.requests()
    if len(log) != counters["total"]:  # the log is bounded; counters are not
        print(f"  warning: request log holds {len(log)} of {counters['total']} requests", file=sys.stderr)
    by_procedure: Counter[tuple[str, str]] = Counter(
        (str(r["procedure"]), str(r["kind"])) for r in log if r["procedure"] is not None
    )
    return Sample(
        seconds=seconds,
        returncode=run.returncode,
        reads=int(counters["reads"]),
        writes=int(counters["writes"]),
        by_procedure=by_procedure,
        server_ms=sum(float(r.get("duration_ms") or 0) for r in log),
        tail=run.output[-3000:] if run.returncode else "",
    )


def grow_to(control: Control, composes: int, step: int) -> None:
    """Seed neighbour projects until there are `composes` neighbour composes (sizes only grow)."""
    missing = composes // COMPOSES_PER_PROJECT - step
    if missing > 0:
        control.seed(
            projects=missing,
            environments_per_project=ENVS_PER_PROJECT,
            composes_per_environment=COMPOSES_PER_ENV,
            domains_per_compose=DOMAINS_PER_COMPOSE,
            deployments_per_compose=DEPLOYMENTS_PER_COMPOSE,
            name_prefix=f"neighbour-{step}",
        )


def run(sizes: list[int], runs: int, operations: list[str]) -> tuple[list[Cell], dict[str, int]]:
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="bench-neighbours-") as tmp:
        clone = Clone.create(Path(tmp))
        control: Control | None = None
        try:
            print(f"make up on a copy of the repository in {tmp} ...", flush=True)
            clone.script("up.sh", timeout=900)
            control = Control(clone.dokploy_url, clone.dokploy_key)
            own = control.count_objects()
            print(f"  the local stack's own objects: {_objects(own)}", flush=True)
            clone.pulumi(*OPERATIONS["preview"], env=clone.stack_env())  # warm-up, not measured
            seeded = 0
            for size in sizes:
                grow_to(control, size, seeded)
                seeded = max(seeded, size // COMPOSES_PER_PROJECT)
                objects, kb = control.count_objects(), control.project_all_kb()
                print(f"neighbours: {size} composes; on the server: {_objects(objects)}", flush=True)
                for operation in operations:
                    cell = Cell(size, operation, objects, kb)
                    for i in range(runs):
                        sample = measure(clone, control, operation)
                        cell.samples.append(sample)
                        flag = "" if sample.returncode == 0 and sample.writes == 0 else "  <-- NOT A NO-OP"
                        print(
                            f"  {operation:8} run {i + 1}: {sample.seconds:6.1f} s, {sample.reads} reads, "
                            f"{sample.writes} writes, rc {sample.returncode}{flag}",
                            flush=True,
                        )
                        if sample.tail:
                            print(_indent(sample.tail), flush=True)
                    cells.append(cell)
        finally:
            if control is not None:
                control.close()
            clone.script("local-servers.sh", "stop", check=False)
    return cells, own


def _objects(counts: dict[str, int]) -> str:
    kinds = ("projects", "environments", "composes", "domains", "deployments")
    return ", ".join(f"{counts[k]} {k}" for k in kinds)


def _indent(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.splitlines())


def _requests(counter: Counter[tuple[str, str]], kind: str) -> str:
    parts = [f"{proc} {n}" for (proc, k), n in sorted(counter.items()) if k == kind and n]
    return ", ".join(parts) or "-"


def render(cells: list[Cell], own: dict[str, int], runs: int, command: str, seconds: float) -> str:
    cpus = os.cpu_count()
    lines = [
        "# Neighbour scaling of the `local` stack",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpus} cores ({platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}), shared with other work",
        f"- command: `{command}` (total {seconds / 60:.1f} min)",
        f"- the `local` stack's own objects: {_objects(own)}",
        f"- one neighbour project: `production` + {ENVS_PER_PROJECT} environment(s), {COMPOSES_PER_PROJECT} composes, "
        f"each with {DOMAINS_PER_COMPOSE} domains and {DEPLOYMENTS_PER_COMPOSE} finished deployment(s)",
        f"- time: median wall time of {runs} run(s) of the `pulumi` process; requests: the median per procedure, "
        "from the local server's request log (reset before each run); server ms: summed server-side handling time",
        "",
        "| neighbour composes | objects on the server (proj/env/compose/domain/deploy) | `project.all` KB | operation"
        " | wall s (median) | runs (s) | reads | writes | server ms | no-op? |",
        "| ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for c in cells:
        o = c.objects
        objects = "/".join(str(o[k]) for k in ("projects", "environments", "composes", "domains", "deployments"))
        reqs = c.median_requests()
        reads = sum(n for (_, k), n in reqs.items() if k == "read")
        ok = "yes" if c.writes == 0 and not c.failed else f"**NO: {c.writes} writes, rc {_rcs(c)}**"
        server_ms = statistics.median(s.server_ms for s in c.samples)
        runs_s = ", ".join(f"{s.seconds:.1f}" for s in c.samples)
        lines.append(
            f"| {c.size} | {objects} | {c.project_all_kb:.0f} | {c.operation} | {c.median_seconds:.1f} | {runs_s}"
            f" | {reads} | {c.writes} | {server_ms:.0f} | {ok} |"
        )
    lines += ["", "## Requests per procedure (median of the runs)", ""]
    lines += ["| neighbour composes | operation | reads | writes |", "| ---: | --- | --- | --- |"]
    for c in cells:
        reqs = c.median_requests()
        lines.append(f"| {c.size} | {c.operation} | {_requests(reqs, 'read')} | {_requests(reqs, 'write')} |")
    lines += ["", "## What grows with the neighbours", ""]
    lines += _growth(cells)
    failures = [c for c in cells if c.writes or c.failed]
    lines += ["", "## No-op check", ""]
    if failures:
        for c in failures:
            lines.append(
                f"- **FAILED**: `{c.operation}` with {c.size} neighbour composes made {c.writes} writes "
                f"(exit codes {_rcs(c)})"
            )
    else:
        lines.append("- every run exited 0 and made zero Dokploy writes")
    return "\n".join(lines) + "\n"


def _growth(cells: list[Cell]) -> list[str]:
    """Per operation, smallest vs largest size: request counts per procedure, server time, wall time."""
    out = []
    for operation in dict.fromkeys(c.operation for c in cells):
        mine = [c for c in cells if c.operation == operation]
        low, high = mine[0], mine[-1]
        if low is high:
            continue
        a, b = low.median_requests(), high.median_requests()
        grew = [f"{p} ({k}) {a[(p, k)]} -> {b[(p, k)]}" for (p, k) in sorted(set(a) | set(b)) if a[(p, k)] != b[(p, k)]]
        ms = [statistics.median(s.server_ms for s in c.samples) for c in (low, high)]
        out.append(
            f"- `{operation}`, {low.size} -> {high.size} neighbour composes: requests per procedure "
            f"{'changed: ' + '; '.join(grew) if grew else 'unchanged'}; server time {ms[0]:.0f} -> {ms[1]:.0f} ms; "
            f"wall time {low.median_seconds:.1f} -> {high.median_seconds:.1f} s"
        )
    return out or ["- only one size measured"]


def _rcs(cell: Cell) -> str:
    return ",".join(str(s.returncode) for s in cell.samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.neighbours", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100,500,2000,5000", help="neighbour composes, comma-separated, ascending")
    parser.add_argument("--runs", type=int, default=3, help="runs per operation and size (the median is reported)")
    parser.add_argument("--operations", default=",".join(OPERATIONS), help="any of preview,refresh,up")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    operations = [o for o in args.operations.split(",") if o]
    unknown = set(operations) - set(OPERATIONS)
    if unknown or args.runs < 1 or any(s % COMPOSES_PER_PROJECT for s in sizes):
        parser.error(f"operations from {list(OPERATIONS)}, runs >= 1, sizes multiples of {COMPOSES_PER_PROJECT}")
    command = " ".join([".venv/bin/python -m bench.neighbours", *(argv if argv is not None else sys.argv[1:])])
    start = time.perf_counter()
    cells, own = run(sizes, args.runs, operations)
    text = render(cells, own, args.runs, command.strip(), time.perf_counter() - start)
    args.output.write_text(text)
    print(text)
    failures = [c for c in cells if c.writes or c.failed]
    if failures:
        print(f"NO-OP CHECK FAILED for {len(failures)} measurement(s): see the table above", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
