"""Latency spikes: a fraction of the Dokploy requests wait 2 s (the client's timeout here is 2 s, so a spiked
write is an uncertain one), during `up` and `destroy` of a new pr-<N>. Fixed seed, at most 3 runs each; the
objects on the server are counted after every run (no duplicate), and the state is checked for known secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.conftest import OWNER_KEY
from tests.reliability.harness import Servers
from tests.reliability.test_faults_and_crash import EXPECTED, _converge, _counts, _delta, _destroy, _row, _stack
from tests.support.leaks import find_leaks
from tests.support.pulumi_cli import pulumi_available

pytestmark = [
    pytest.mark.engine,
    pytest.mark.slow,
    pytest.mark.skipif(not pulumi_available(), reason="run `make setup` to build .tools/bin/pulumi"),
]


def test_up_and_destroy_converge_under_2s_latency_spikes(tmp_path: Path, servers: Servers) -> None:
    cli, env = _stack(tmp_path, servers, "pr-44")
    base = _counts(servers)
    seq = max((e["seq"] for e in servers.dokploy.requests()), default=0)
    servers.dokploy.set_knobs(spike_rate=0.15, spike_ms=2000, seed=13)
    try:
        runs = _converge(cli, env, "pr-44", servers, base)
        found = _delta(servers, base)
        assert found == EXPECTED
        destroy_runs = _destroy(cli, env, "pr-44", servers, base)
    finally:
        servers.dokploy.set_knobs(spike_rate=0)
    spiked = [e for e in servers.dokploy.requests(seq) if float(e.get("duration_ms") or 0) >= 2000]
    assert spiked, "no request was delayed: the scenario did not run"
    leaks = find_leaks(cli.state_text(), [OWNER_KEY, servers.openbao.root_token])
    assert not leaks
    _row(
        "faults-2s-latency-spikes",
        f"15 % of Dokploy requests delayed 2 s (client timeout 2 s), seed 13; up then destroy of pr-44; "
        f"{len(spiked)} requests spiked",
        f"up {runs}, destroy {destroy_runs}",
        found,
        "converged; no duplicate after any run; destroy left nothing",
        len(leaks),
    )
