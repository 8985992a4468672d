"""`make bench`: our stacks against the engine's floor, on a local Dokploy server with a fixed added latency.

    .venv/bin/python -m bench.engine                     # BENCH_RUNS=5 runs per figure (the default)
    BENCH_RUNS=1 BENCH_NEIGHBOURS=0 .venv/bin/python -m bench.engine --output /tmp/r.json   # a quick look

Method (bench/README.md says it in full): a throwaway copy of the repository (`tests.stacks.clone.Clone`) brings
up `local` (the staging-shaped owner stack) and `pr-7` (PR-shaped) exactly as `make up` does; then the server gets
`latency_ms` per request and deployments of `deploy_duration_ms`. Each figure alternates a run of ours with a run
of the floor: the same Pulumi command on a generated program of the same shape (bench/floor_program.py, from the
stack's own state) whose provider makes no request. The floor adds (Dokploy requests the operation needs one after
the other x the latency) + (deployments x their simulated length: the server runs one at a time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.floor_shape import chain_length, shape_of
from bench.neighbours import Control
from tests.stacks.clone import Clone

REPO = Path(__file__).resolve().parents[1]
STAGING, PR, NEW = "local", "pr-7", "pr-8"
FLOOR_OF = {STAGING: "floor-staging", PR: "floor-pr", NEW: "floor-new"}
QUIET = ["--suppress-progress"]
# A unchanged no-op run needs one Dokploy round trip before anything else: the preflight's version read, which
# also proves the key. Everything after it could run in parallel.
PREFLIGHT_CHAIN = 1


@dataclass
class Sample:
    seconds: float
    returncode: int
    reads: int = 0
    writes: int = 0
    critical_path: int = 0  # the longest chain of Dokploy requests that did not overlap
    first_request_s: float | None = None  # process start -> first Dokploy request
    deploys: int = 0
    detection_s: list[float] = field(default_factory=list)
    by_procedure: dict[str, int] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list, repr=False)  # this run's Dokploy requests (not saved)
    tail: str = ""


@dataclass
class Figure:
    name: str
    stack: str
    chain: int  # Dokploy requests the operation needs one after the other
    ours: list[Sample] = field(default_factory=list)
    floor: list[Sample] = field(default_factory=list)
    floor_from: str | None = None  # the figure whose floor runs this one reuses (neighbours do not change it)
    deploys: int = 0
    latency_ms: float | None = None  # a counterfactual's own latency (None: the run's)

    def summary(self, latency_s: float, deploy_s: float, floors: dict[str, Figure]) -> dict[str, Any]:
        floor_runs = self.floor or floors[self.floor_from or self.name].floor
        engine = stats([s.seconds for s in floor_runs])
        if self.latency_ms is not None:
            latency_s = self.latency_ms / 1000
        added = self.chain * latency_s + self.deploys * deploy_s
        floor = {k: v + added for k, v in engine.items() if k != "runs"}
        measured = stats([s.seconds for s in self.ours])
        detection = [d for s in self.ours for d in s.detection_s]
        return {
            "figure": self.name,
            "stack": self.stack,
            "measured_s": measured,
            "floor_engine_s": engine,
            "floor_added_s": round(added, 3),
            "floor_s": {k: round(v, 3) for k, v in floor.items()},
            "floor_from": self.floor_from,
            "ratio": round(measured["median"] / floor["median"], 3),
            "reads": stats([s.reads for s in self.ours]),
            "writes": stats([s.writes for s in self.ours]),
            "critical_path_requests": stats([s.critical_path for s in self.ours]),
            "needed_chain_requests": self.chain,
            "latency_ms": self.latency_ms,
            "requests_by_procedure": per_procedure(self.ours),
            "deployments": self.deploys,
            "first_request_s": stats([s.first_request_s for s in self.ours if s.first_request_s is not None]),
            "deploy_detection_s": stats(detection) if detection else None,
            "exit_codes": [s.returncode for s in self.ours] + [s.returncode for s in floor_runs],
        }


def per_procedure(samples: list[Sample]) -> dict[str, float]:
    """The median count per procedure over the runs (0 in a run that did not call it)."""
    names = sorted({n for s in samples for n in s.by_procedure})
    return {n: statistics.median(s.by_procedure.get(n, 0) for s in samples) for n in names}


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"runs": [], "median": None, "min": None, "max": None}
    return {
        "runs": [round(v, 3) for v in values],
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def critical_path(log: list[dict[str, Any]]) -> int:
    """The most requests that happened strictly one after the other (each started after the previous ended)."""
    spans = sorted((float(e["time"]), float(e["time"]) + float(e.get("duration_ms") or 0) / 1000) for e in log)
    best: list[tuple[float, int]] = []  # (end, chain length ending with that request)
    longest = 0
    for start, end in spans:
        length = 1 + max((n for e, n in best if e <= start), default=0)
        best.append((end, length))
        longest = max(longest, length)
    return longest


def iso_seconds(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Bench:
    def __init__(self, tmp: Path, latency_ms: float, deploy_ms: float) -> None:
        self.tmp, self.latency_ms, self.deploy_ms = tmp, latency_ms, deploy_ms
        self.clone = Clone.create(tmp)
        self.floor_dir = tmp / "floor"
        self.control: Control | None = None

    # --- environments -------------------------------------------------------------------------------

    def ours_env(self, stack: str) -> dict[str, str]:
        env = self.clone.env(self.clone.stack_env(f"stack-{stack}.token"))
        env["DOKPLOY_URL"] = self.clone.dokploy_url
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # both programs use compiled bytecode, as a real checkout does
        return env

    def floor_env(self, stack: str, rev: str = "0") -> dict[str, str]:
        env = self.clone.env({"BENCH_FLOOR_SHAPE": str(self.floor_dir / f"{stack}.json"), "BENCH_FLOOR_REV": rev})
        env["PULUMI_BACKEND_URL"] = f"file://{self.floor_dir / 'state'}"
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def pulumi(
        self, cwd: Path, env: dict[str, str], *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["pulumi", "--non-interactive", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
        )
        if check and proc.returncode:
            raise SystemExit(
                f"pulumi {' '.join(args)} exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}"
            )
        return proc

    def ours(self, stack: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.pulumi(self.clone.root, self.ours_env(stack), *args, check=check)

    def floor(self, stack: str, *args: str, rev: str = "0", check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.pulumi(self.floor_dir, self.floor_env(stack, rev), *args, check=check)

    # --- setup ------------------------------------------------------------------------------------------

    def setup(self) -> None:
        c = self.clone
        print(f"make up (local, {PR}, {NEW}) on a copy of the repository in {self.tmp} ...", flush=True)
        c.script("up.sh", timeout=900)
        self.control = Control(c.dokploy_url, c.dokploy_key)
        self.control._call("POST", "knobs", {"deploy_duration_ms": 200})
        for stack in (PR, NEW):
            c.script("local-stack.sh", "up", stack, timeout=900)
        self.ours(NEW, "destroy", "--stack", NEW, "--yes", *QUIET)
        self.floor_dir.mkdir()
        (self.floor_dir / "state").mkdir()
        shutil.copy(REPO / "bench" / "floor_program.py", self.floor_dir / "__main__.py")
        (self.floor_dir / "Pulumi.yaml").write_text(
            "name: bench-floor\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"    virtualenv: {REPO / '.venv'}\n"
        )
        self.changed = self.one_tag_resources()
        self.shapes: dict[str, dict[str, Any]] = {}
        for stack in (STAGING, PR):
            export = json.loads(self.ours(stack, "stack", "export", "--stack", stack).stdout)
            self.shapes[stack] = shape_of(export["deployment"], self.changed if stack == PR else None)
        self.shapes[NEW] = self.shapes[PR]
        for stack, floor_stack in FLOOR_OF.items():
            (self.floor_dir / f"{floor_stack}.json").write_text(json.dumps(self.shapes[stack]))
            self.floor(floor_stack, "stack", "init", floor_stack)
            if stack != NEW:
                self.floor(floor_stack, "up", "--stack", floor_stack, "--yes", *QUIET)
        self.control._call("POST", "knobs", {"latency_ms": self.latency_ms, "deploy_duration_ms": self.deploy_ms})

    def one_tag_resources(self) -> str:
        """The compose a one-tag change updates on the PR stack (from a preview's steps): its name fragment."""
        self.set_tag(1)
        proc = self.ours(PR, "preview", "--stack", PR, "--json")
        steps = json.loads(proc.stdout).get("steps") or []
        self.set_tag(0)
        names = [s["urn"].rsplit("::", 1)[1] for s in steps if s.get("op") == "update"]
        composes = [n for n in names if "compose" in n.lower()] or names
        if not composes:
            raise SystemExit(f"a tag change updates nothing on {PR}: {proc.stdout[-2000:]}")
        return min(composes, key=len)

    def set_tag(self, i: int) -> None:
        tag = f"pr-7-{(i % 2) * 1111111:07d}"
        subprocess.run(
            ["pulumi", "--non-interactive", "config", "set", "--stack", PR, "financeReport:imageTag", tag],
            cwd=self.clone.root,
            env=self.ours_env(PR),
            check=True,
            capture_output=True,
        )

    # --- one measured run ---------------------------------------------------------------------------------

    def measure(self, run: Callable[[], subprocess.CompletedProcess[str]], counted: bool) -> Sample:
        assert self.control is not None
        if counted:
            self.control.reset_stats()
        wall, start = time.time(), time.perf_counter()
        proc = run()
        sample = Sample(seconds=time.perf_counter() - start, returncode=proc.returncode)
        if proc.returncode:
            sample.tail = (proc.stdout + proc.stderr)[-3000:]
        if counted:
            log = [e for e in self.control.requests() if e["procedure"] is not None]
            sample.reads = sum(e["kind"] == "read" for e in log)
            sample.writes = sum(e["kind"] != "read" for e in log)
            sample.log = log
            sample.critical_path = critical_path(log)
            sample.by_procedure = dict(Counter(f"{e['procedure']} ({e['kind']})" for e in log))
            sample.first_request_s = (min(float(e["time"]) for e in log) - wall) if log else None
            sample.deploys = sum(e["procedure"] == "compose.deploy" for e in log)
            sample.detection_s = self.detection(log)
        return sample

    def detection(self, log: list[dict[str, Any]]) -> list[float]:
        """Per deployment of this run: its finish -> the end of the first poll that saw it finished."""
        delays = []
        latency_s = self.latency_ms / 1000
        for compose_id in {
            str((e.get("input") or {}).get("composeId")) for e in log if e["procedure"] == "compose.deploy"
        }:
            rows = self.clone.api("deployment.allByCompose", composeId=compose_id) or []
            finished = [iso_seconds(r["finishedAt"]) for r in rows if r.get("finishedAt")]
            if not finished:
                continue
            done = max(finished)
            polls = [
                float(e["time"]) + float(e.get("duration_ms") or 0) / 1000
                for e in log
                if e["procedure"] == "deployment.allByCompose"
                and str((e.get("input") or {}).get("composeId")) == compose_id
                and float(e["time"]) + latency_s >= done
            ]
            if polls:
                delays.append(min(polls) - done)
        return delays

    def pair(self, figure: Figure, ours: Callable[[], Any], floor: Callable[[], Any] | None) -> None:
        figure.ours.append(self.measure(ours, counted=True))
        if floor is not None:
            figure.floor.append(self.measure(floor, counted=False))
        s = figure.ours[-1]
        f = f", floor {figure.floor[-1].seconds:.2f} s" if floor is not None else ""
        flag = f"  <-- exit {s.returncode}\n{s.tail}" if s.returncode else ""
        print(
            f"  {figure.name:34} {s.seconds:6.2f} s{f}; {s.reads} reads, {s.writes} writes, "
            f"path {s.critical_path}{flag}",
            flush=True,
        )


NOOP = {
    "preview": (["preview", "--expect-no-changes"], PREFLIGHT_CHAIN),
    "preview --refresh": (["preview", "--refresh", "--expect-no-changes"], PREFLIGHT_CHAIN + 1),
    "refresh": (["refresh", "--yes", "--expect-no-changes"], 1),  # refresh does not run the program
    "up (no-op)": (["up", "--yes", "--expect-no-changes"], PREFLIGHT_CHAIN),
}


def run(
    runs: int,
    latency_ms: float,
    deploy_ms: float,
    neighbours: list[int],
    long_deploy_ms: float,
    save: Callable[[dict[str, Any]], object],
) -> dict[str, Any]:
    load_before = os.getloadavg()
    started = time.perf_counter()
    figures: dict[str, Figure] = {}
    long_wait: dict[str, Any] | None = None
    startup: dict[str, Any] | None = None

    def checkpoint() -> None:  # a partial result after each group: a run cut short still leaves its figures
        save(assemble(figures, runs, latency_ms, deploy_ms, long_deploy_ms, load_before, started, long_wait, None))

    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        b = Bench(Path(tmp), latency_ms, deploy_ms)
        try:
            b.setup()
            chain = chain_length(b.shapes[PR])
            for stack, label in ((STAGING, "staging-shaped (local)"), (PR, f"PR-shaped ({PR})")):
                fs = FLOOR_OF[stack]
                b.ours(stack, "preview", "--stack", stack, *QUIET)  # warm-up, not measured
                b.floor(fs, "preview", "--stack", fs, *QUIET)
                for op, (args, need) in NOOP.items():
                    fig = figures.setdefault(f"{op}, {label}", Figure(f"{op}, {label}", stack, need))
                    for _ in range(runs):
                        b.pair(
                            fig,
                            functools.partial(b.ours, stack, *args, "--stack", stack, *QUIET, check=False),
                            functools.partial(b.floor, fs, *args, "--stack", fs, *QUIET, check=False),
                        )
                    checkpoint()
            # The counterfactual: the same preview with no latency at all: what is left is the processes' own time.
            assert b.control is not None
            b.control._call("POST", "knobs", {"latency_ms": 0})
            cf = Figure(
                "preview, staging-shaped, 0 ms latency (counterfactual)", STAGING, PREFLIGHT_CHAIN, latency_ms=0
            )
            cf.floor_from = "preview, staging-shaped (local)"
            for _ in range(runs):
                b.pair(
                    cf,
                    lambda: b.ours(STAGING, "preview", "--stack", STAGING, "--expect-no-changes", *QUIET, check=False),
                    None,
                )
            figures[cf.name] = cf
            b.control._call("POST", "knobs", {"latency_ms": latency_ms})
            checkpoint()
            up_new = lambda: b.ours(NEW, "up", "--stack", NEW, "--yes", *QUIET, check=False)  # noqa: E731
            destroy_new = lambda: b.ours(NEW, "destroy", "--stack", NEW, "--yes", *QUIET, check=False)  # noqa: E731
            fn = FLOOR_OF[NEW]
            up_floor = lambda: b.floor(fn, "up", "--stack", fn, "--yes", *QUIET, check=False)  # noqa: E731
            destroy_floor = lambda: b.floor(fn, "destroy", "--stack", fn, "--yes", *QUIET, check=False)  # noqa: E731
            new = figures.setdefault(
                f"up of a new {NEW}, 0 neighbours",
                Figure(f"up of a new {NEW}, 0 neighbours", NEW, PREFLIGHT_CHAIN + chain + 1),
            )
            gone = figures.setdefault(f"destroy of {NEW}", Figure(f"destroy of {NEW}", NEW, chain))
            for _ in range(runs):
                b.pair(new, up_new, up_floor)
                b.pair(gone, destroy_new, destroy_floor)
            new.deploys = int(statistics.median(s.deploys for s in new.ours))
            checkpoint()
            tag = figures.setdefault("one-tag change (PR)", Figure("one-tag change (PR)", PR, PREFLIGHT_CHAIN + 3))
            fp = FLOOR_OF[PR]
            for i in range(runs):
                b.set_tag(i + 1)
                b.pair(
                    tag,
                    lambda: b.ours(PR, "up", "--stack", PR, "--yes", *QUIET, check=False),
                    functools.partial(b.floor, fp, "up", "--stack", fp, "--yes", *QUIET, rev=str(i + 1), check=False),
                )
            tag.deploys = int(statistics.median(s.deploys for s in tag.ours))
            checkpoint()
            long_wait = measure_long_deploy(b, runs + 1, long_deploy_ms)
            seeded = 0
            for size in neighbours:
                assert b.control is not None
                if size > seeded:
                    b.control.seed(
                        projects=size - seeded,
                        environments_per_project=1,
                        composes_per_environment=4,
                        domains_per_compose=1,
                        deployments_per_compose=1,
                        name_prefix=f"neighbour-pr-{seeded}",
                    )
                    seeded = size
                pv = Figure(
                    f"preview, PR-shaped, {size} neighbours",
                    PR,
                    PREFLIGHT_CHAIN,
                    floor_from=f"preview, PR-shaped ({PR})",
                )
                nu = Figure(f"up of a new {NEW}, {size} neighbours", NEW, new.chain, floor_from=new.name)
                nu.deploys = new.deploys
                for _ in range(runs):
                    b.pair(
                        pv,
                        lambda: b.ours(PR, "preview", "--stack", PR, "--expect-no-changes", *QUIET, check=False),
                        None,
                    )
                    b.pair(nu, up_new, None)
                    b.measure(destroy_new, counted=False)
                figures[pv.name], figures[nu.name] = pv, nu
                checkpoint()
            startup = measure_startup(b, runs)
        finally:
            if b.control is not None:
                b.control.close()
            b.clone.script("local-servers.sh", "stop", check=False)
    return assemble(figures, runs, latency_ms, deploy_ms, long_deploy_ms, load_before, started, long_wait, startup)


def assemble(
    figures: dict[str, Figure],
    runs: int,
    latency_ms: float,
    deploy_ms: float,
    long_deploy_ms: float,
    load_before: tuple[float, float, float],
    started: float,
    long_wait: dict[str, Any] | None,
    startup: dict[str, Any] | None,
) -> dict[str, Any]:
    done = {k: f for k, f in figures.items() if f.ours}
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "complete": startup is not None,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": f"{platform.machine()} {platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "load_average_start": [round(x, 2) for x in load_before],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        },
        "knobs": {"latency_ms": latency_ms, "deploy_duration_ms": deploy_ms, "long_deploy_ms": long_deploy_ms},
        "runs": runs,
        "total_minutes": round((time.perf_counter() - started) / 60, 2),
        "figures": [f.summary(latency_ms / 1000, deploy_ms / 1000, done) for f in done.values()],
        "deploy_wait_long": long_wait,
        "startup": startup,
    }


def measure_long_deploy(b: Bench, i: int, long_ms: float) -> dict[str, Any]:
    """One one-tag change whose deployment runs `long_ms`: the deploy wait's polls per minute while it runs."""
    assert b.control is not None
    b.control._call("POST", "knobs", {"deploy_duration_ms": long_ms})
    b.set_tag(i)
    try:
        sample = b.measure(lambda: b.ours(PR, "up", "--stack", PR, "--yes", *QUIET, check=False), counted=True)
        log = sample.log
    finally:
        b.control._call("POST", "knobs", {"deploy_duration_ms": b.deploy_ms})
    deployed = {str((e.get("input") or {}).get("composeId")) for e in log if e["procedure"] == "compose.deploy"}
    polls = sorted(
        float(e["time"])
        for e in log
        if e["procedure"] == "deployment.allByCompose" and str((e.get("input") or {}).get("composeId")) in deployed
    )
    span = (polls[-1] - polls[0]) if len(polls) > 1 else 0.0
    # The most polls in any 60 s window (the first minute, with the ramp from 0.1 s, is the worst).
    window = max((sum(1 for t in polls if p <= t < p + 60) for p in polls), default=0)
    print(
        f"  long deploy ({long_ms / 1000:.0f} s): {len(polls)} polls over {span:.1f} s, {window} in the busiest minute"
    )
    return {
        "deploy_s": long_ms / 1000,
        "seconds": round(sample.seconds, 3),
        "polls": len(polls),
        "polls_in_busiest_minute": window if span >= 60 else None,
        "polls_per_minute": window if span >= 60 else (round((len(polls) - 1) / span * 60, 1) if span else None),
        "detection_s": [round(d, 3) for d in sample.detection_s],
        "returncode": sample.returncode,
    }


def measure_startup(b: Bench, runs: int) -> dict[str, Any]:
    """Importing the program (`python -X importtime`), against a bare interpreter, in the copy of the repository."""
    python = str(REPO / ".venv" / "bin" / "python")
    env = b.ours_env(STAGING)

    def timed(*args: str) -> float:
        start = time.perf_counter()
        subprocess.run([python, *args], cwd=b.clone.root, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    bare = [timed("-c", "pass") for _ in range(runs)]
    program = [timed("-c", "import components.program") for _ in range(runs)]
    floor = [timed("-c", "import pulumi, pulumi.dynamic") for _ in range(runs)]
    proc = subprocess.run(
        [python, "-X", "importtime", "-c", "import components.program"],
        cwd=b.clone.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    heaviest = sorted(
        (
            (int(m.group(2)), m.group(3).strip())
            for m in re.finditer(r"import time:\s+(\d+) \|\s+(\d+) \|(.*)", proc.stderr)
        ),
        reverse=True,
    )[:12]
    return {
        "python_bare_s": stats(bare),
        "import_program_s": stats(program),
        "import_pulumi_only_s": stats(floor),
        "heaviest_imports_cumulative_us": [[us, name] for us, name in heaviest],
    }


def render(result: dict[str, Any]) -> str:
    m, k = result["machine"], result["knobs"]
    lines = [
        f"Run {result['date']}: {m['cpus']} CPUs ({m['platform']}, Python {m['python']}), load average "
        f"{m['load_average_start'][0]} at the start and {m['load_average_end'][0]} at the end (shared with other "
        f"engineers' work); {k['latency_ms']:.0f} ms added per Dokploy request, deployments of "
        f"{k['deploy_duration_ms']:.0f} ms; {result['runs']} runs per figure; {result['total_minutes']} min in all.",
        "",
        "| figure | ours s (median, min-max) | floor s (engine + added) | ratio | reads | writes | path / needed"
        " | first request s | deploy seen after s |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for f in result["figures"]:
        ms, fl = f["measured_s"], f["floor_s"]
        det = f["deploy_detection_s"]
        seen = "-" if not det else f"{det['median']:.2f} (max {det['max']:.2f})"
        first = f["first_request_s"]["median"]
        lines.append(
            f"| {f['figure']} | {ms['median']:.2f} ({ms['min']:.2f}-{ms['max']:.2f}) | {fl['median']:.2f} "
            f"({f['floor_engine_s']['median']:.2f} + {f['floor_added_s']:.2f}) | {f['ratio']:.2f} "
            f"| {f['reads']['median']:g} | {f['writes']['median']:g} "
            f"| {f['critical_path_requests']['median']:g} / {f['needed_chain_requests']} "
            f"| {'-' if first is None else f'{first:.2f}'} | {seen} |"
        )
    lw, st = result["deploy_wait_long"], result["startup"]
    lines.append("")
    if lw:
        lines.append(
            f"Long deploy ({lw['deploy_s']:.0f} s): {lw['polls']} polls, {lw['polls_per_minute']} per minute; seen "
            f"done after {lw['detection_s']} s."
        )
    if st:
        lines.append(
            f"Start-up: bare Python {st['python_bare_s']['median']:.2f} s, `import components.program` "
            f"{st['import_program_s']['median']:.2f} s, `import pulumi, pulumi.dynamic` (the floor's) "
            f"{st['import_pulumi_only_s']['median']:.2f} s (medians)."
        )
    if not result["complete"]:
        lines.append("**Partial: the run was cut short; only the figures above were measured.**")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench:engine:begin -->", "<!-- bench:engine:end -->"


def write_table(readme: Path, table: str) -> None:
    text = readme.read_text()
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += f"\n{block}\n"
    readme.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument("--latency-ms", type=float, default=float(os.environ.get("BENCH_LATENCY_MS", "50")))
    parser.add_argument("--deploy-ms", type=float, default=float(os.environ.get("BENCH_DEPLOY_MS", "200")))
    parser.add_argument("--long-deploy-ms", type=float, default=float(os.environ.get("BENCH_LONG_DEPLOY_MS", "65000")))
    parser.add_argument("--neighbours", default=os.environ.get("BENCH_NEIGHBOURS", "10,30"), help="besides 0")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results.json")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    neighbours = sorted({int(n) for n in args.neighbours.split(",") if n.strip() and int(n) > 0})

    def save(result: dict[str, Any]) -> str:
        args.output.write_text(json.dumps(result, indent=1) + "\n")
        table = render(result)
        if args.output == REPO / "bench" / "results.json":
            write_table(REPO / "bench" / "README.md", table)
        return table

    print(save(run(args.runs, args.latency_ms, args.deploy_ms, neighbours, args.long_deploy_ms, save)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
