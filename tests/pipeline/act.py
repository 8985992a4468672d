"""Run one workflow file for one event under nektos/act on the host (`-P ubuntu-24.04=-self-hosted`).

A whole workflow per event, never `-j`: act decides which jobs run from `if:` and `needs:` as GitHub
would. Every `uses:` of a third-party action is mapped (`--local-repository`) to our stand-in of the same
name under tests/pipeline/standins/; an action with no stand-in makes `stand_in_map` raise, so a new
action in a workflow fails the tests until it has one. Secrets, variables and the job environment go to
act in files (`--secret-file`, `--var-file`, `--env-file`), never on its command line.

`ActRun` is what a user reads off the Actions tab: each job's result (`success`, `failure`, `skipped`),
each step's outcome, the annotations (`::error::` and the like), each job's summary, and the log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ACT = REPO / ".tools" / "bin" / "act"
STANDINS = Path(__file__).resolve().parent / "standins"
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([^\s#]+)", re.MULTILINE)


def act_available() -> bool:
    return ACT.exists()


def uses_in(root: Path) -> set[str]:
    """Every `uses:` of the workflows and composite actions under `root/.github`."""
    found: set[str] = set()
    github = root / ".github"
    for path in [*(github / "workflows").glob("*.y*ml"), *(github / "actions").rglob("action.y*ml")]:
        found |= set(_USES.findall(path.read_text()))
    return found


def stand_in_map(root: Path) -> dict[str, Path]:
    """`owner/repo@ref` -> our stand-in folder, for every remote action the workflows use."""
    out: dict[str, Path] = {}
    missing = []
    for uses in sorted(uses_in(root)):
        if uses.startswith("./"):
            continue  # the project's own composite actions run as written
        name, _, ref = uses.partition("@")
        owner_repo = "/".join(name.split("/")[:2])
        folder = STANDINS / owner_repo
        if not (folder / "action.yml").exists():
            missing.append(uses)
            continue
        out[f"{owner_repo}@{ref}"] = folder
    if missing:
        raise LookupError(f"no stand-in under {STANDINS} for: {', '.join(missing)}")
    return out


def _env_file(path: Path, values: Mapping[str, str]) -> Path:
    lines = []
    for key, value in values.items():
        if "\n" in value:  # godotenv (act's reader) expands \n inside double quotes
            if '"' in value or "\\" in value:
                raise ValueError(f"{key}: a multi-line value with quotes or backslashes cannot go into an env file")
            value = '"' + value.replace("\n", "\\n") + '"'
        lines.append(f"{key}={value}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@dataclass
class ActRun:
    run_id: str
    returncode: int
    jobs: dict[str, str]  # job id -> success | failure | skipped
    steps: dict[tuple[str, str], str] = field(default_factory=dict)  # (job id, step name) -> outcome
    log: str = ""
    seconds: float = 0.0
    dispatched: list[ActRun] = field(default_factory=list)  # workflow_dispatch runs this run started
    annotations: list[tuple[str, str, str, str]] = field(default_factory=list)  # (job, step, level, message)
    summaries: dict[str, str] = field(default_factory=dict)  # job id -> its steps' $GITHUB_STEP_SUMMARY, in order

    def ran(self) -> set[str]:
        return {j for j, r in self.jobs.items() if r != "skipped"}

    def job_log(self, job: str) -> str:
        return "\n".join(line for line in self.log.splitlines() if line.startswith(f"[{job}]"))

    def explain(self) -> str:
        return f"jobs={self.jobs}\n--- log tail ---\n{self.log[-12000:]}"


def run_act(
    *,
    workdir: Path,
    workflow: str,
    event_name: str,
    event: Mapping[str, object],
    env: Mapping[str, str],
    secrets: Mapping[str, str],
    variables: Mapping[str, str],
    scratch: Path,
    process_env: Mapping[str, str],
    actor: str = "octo-dev",
    timeout: float = 900,
) -> ActRun:
    scratch.mkdir(parents=True, exist_ok=True)
    event_path = scratch / "event.json"
    event_path.write_text(json.dumps(event))
    args = [
        str(ACT),
        event_name,
        "--workflows",
        str(workdir / ".github" / "workflows" / workflow),
        "--directory",
        str(workdir),
        "--eventpath",
        str(event_path),
        "--platform",
        "ubuntu-24.04=-self-hosted",
        "--no-skip-checkout",
        "--action-offline-mode",
        "--no-cache-server",
        "--action-cache-path",
        str(scratch / "action-cache"),
        "--defaultbranch",
        "main",
        "--actor",
        actor,
        "--json",
        "--verbose",
        "--secret-file",
        str(_env_file(scratch / "secrets.env", secrets)),
        "--var-file",
        str(_env_file(scratch / "vars.env", variables)),
        "--env-file",
        str(_env_file(scratch / "job.env", env)),
    ]
    for ref, folder in stand_in_map(workdir).items():
        args += ["--local-repository", f"{ref}={folder}"]
    started = time.monotonic()
    proc = subprocess.run(args, cwd=workdir, env=dict(process_env), capture_output=True, text=True, timeout=timeout)
    (scratch / "act.log").write_text(proc.stdout + proc.stderr)
    run = parse(proc.returncode, proc.stdout + proc.stderr, workdir / ".github" / "workflows" / workflow, started)
    run.run_id = env.get("GITHUB_RUN_ID", "")
    return run


def parse(returncode: int, output: str, workflow: Path, started: float) -> ActRun:
    jobs: dict[str, str] = {}
    steps: dict[tuple[str, str], str] = {}
    annotations: list[tuple[str, str, str, str]] = []
    summaries: dict[str, str] = {}
    log: list[str] = []
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            log.append(line)
            continue
        if not isinstance(entry, dict):
            continue
        job = str(entry.get("jobID") or entry.get("job") or "")
        msg = str(entry.get("msg", "")).rstrip()
        if entry.get("raw_output") or entry.get("level") in ("info", "warning", "error"):
            log.append(f"[{job}] {msg}")
        if "jobResult" in entry:
            jobs[job] = str(entry["jobResult"])
        command = entry.get("command")
        if command in ("error", "warning", "notice"):
            annotations.append((job, str(entry.get("step", "")), str(command), str(entry.get("arg", ""))))
        if command == "summary":
            summaries[job] = summaries.get(job, "") + str(entry.get("content", ""))
        if "stepResult" in entry and entry.get("stage") == "Main":
            steps[(job, str(entry.get("step", "")))] = str(entry["stepResult"])
    # A job act never started (its `needs` failed) shows no result line: GitHub shows it as skipped.
    for job in yaml.safe_load(workflow.read_text()).get("jobs") or {}:
        jobs.setdefault(job, "skipped")
    run = ActRun("", returncode, jobs, steps, "\n".join(log), time.monotonic() - started)
    run.annotations, run.summaries = annotations, summaries
    return run


def base_process_env(home: Path) -> dict[str, str]:
    """act's own environment (host mode passes it on to the jobs): the machine's tools, a private HOME."""
    path = os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/go/bin", str(Path.home() / "go/bin")])
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(home)}
