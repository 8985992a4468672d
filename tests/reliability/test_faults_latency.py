"""Latency spikes: a fraction of the Dokploy requests wait 2 s (the client's timeout here is 2 s, so a spiked
write is an uncertain one), during `up` and `destroy` of a new pr-<N>. Fixed seed, at most 3 runs each; the
objects on the server are counted after every run (no duplicate), and no secret leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.harness import Servers
from tests.reliability.scenario import PrStack
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def test_up_and_destroy_converge_under_2s_latency_spikes(tmp_path: Path, servers: Servers) -> None:
    s = PrStack.new(tmp_path, servers, "pr-44")
    seq = servers.last_seq()
    servers.dokploy.set_knobs(spike_rate=0.15, spike_ms=2000, seed=13)
    try:
        runs = s.converge()
        found = s.delta()
        destroy_runs = s.destroy()
    finally:
        servers.dokploy.set_knobs(spike_rate=0)
    spiked = [e for e in servers.dokploy.requests(seq) if float(e.get("duration_ms") or 0) >= 2000]
    assert spiked, "no request was delayed: the scenario did not run"
    s.record(
        "faults-2s-latency-spikes",
        f"15 % of Dokploy requests delayed 2 s (client timeout 2 s), seed 13; up then destroy of pr-44; "
        f"{len(spiked)} requests spiked",
        f"up {runs}, destroy {destroy_runs}",
        found,
        "converged; no duplicate after any run; destroy left nothing",
    )
