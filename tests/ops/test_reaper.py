"""Reaper selection: open, closed, expired, never-a-PR stacks; markerless Dokploy objects left alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ops import orphans, reaper
from ops.orphans import DokployObject
from ops.reaper import PrState, StackInfo

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=168)
FRESH = NOW - timedelta(hours=2)
OLD = NOW - timedelta(days=8)


def decide(name: str, state: PrState | None, updated: datetime | None = FRESH) -> reaper.Decision:
    number = reaper.pr_number_of(name)
    states = {number: state} if number is not None and state is not None else {}
    (d,) = reaper.select([StackInfo(name, updated)], states, NOW, TTL)
    return d


def test_open_and_recent_is_kept() -> None:
    d = decide("pr-7", PrState.OPEN)
    assert not d.reap and d.pr_number == 7 and "open" in d.reason


def test_closed_is_reaped_whatever_its_age() -> None:
    assert decide("pr-7", PrState.CLOSED, FRESH).reap
    assert decide("pr-7", PrState.CLOSED, None).reap
    assert "closed" in decide("pr-7", PrState.CLOSED).reason


def test_open_but_idle_past_the_ttl_is_reaped() -> None:
    d = decide("pr-7", PrState.OPEN, OLD)
    assert d.reap and "idle 192h, TTL 168h" in d.reason
    assert not decide("pr-7", PrState.OPEN, NOW - TTL + timedelta(minutes=1)).reap  # just inside the TTL


def test_pr_stack_whose_number_is_no_pr_waits_for_the_ttl() -> None:
    assert not decide("pr-9999", PrState.MISSING, FRESH).reap
    d = decide("pr-9999", PrState.MISSING, OLD)
    assert d.reap and "not a pull request" in d.reason


def test_never_a_pr_stacks_are_never_touched() -> None:
    for name in ("staging", "production", "local", "pr-0", "pr-07", "feature-x", "organization/finance-report/pr"):
        d = decide(name, None, OLD)
        assert not d.reap and d.reason == "not a PR stack", name


def test_unknown_age_or_failed_lookup_keeps_the_stack() -> None:
    assert not decide("pr-7", PrState.OPEN, None).reap
    d = decide("pr-7", None, OLD)  # the PR lookup failed: no state
    assert not d.reap and "unknown" in d.reason


def test_parse_stack_ls_output() -> None:
    # The shape `pulumi stack ls --json` prints (3.260), including a never-updated stack.
    text = json.dumps(
        [
            {"name": "pr-3", "current": True, "lastUpdate": "2026-11-26T15:12:25.159Z", "resourceCount": 0},
            {"name": "organization/finance-report/staging", "current": False, "resourceCount": 9},
        ]
    )
    stacks = reaper.parse_stack_ls(text)
    assert stacks == [
        StackInfo("pr-3", datetime(2026, 11, 26, 15, 12, 25, 159000, tzinfo=UTC)),
        StackInfo("staging", None),
    ]


# ---- Dokploy objects ----------------------------------------------------------------------------------
M_LIVE, M_GONE, M_GONE2 = "a" * 12, "b" * 12, "c" * 12


def obj(name: str, description: str | None, kind: str = "compose") -> DokployObject:
    return DokployObject(kind, f"id-{name}", name, description)


def test_marker_is_the_dokploy_components_description_tag() -> None:
    assert obj("x", f"Finance Report pr-7 [pulumi:{M_LIVE}]").marker == M_LIVE
    assert obj("x", f"[pulumi:{M_LIVE}] moved to the front by hand").marker is None
    assert obj("x", "[pulumi:not-hex]").marker is None
    assert obj("x", None).marker is None and obj("x", "").marker is None


def test_only_marked_objects_no_live_stack_holds_are_orphans() -> None:
    objects = [
        obj("pr-5", f"Finance Report pr-5: pr-5 [pulumi:{M_GONE}]"),
        obj("pr-5", f"Finance Report pr-5 [pulumi:{M_GONE2}]", kind="environment"),
        obj("pr-7", f"Finance Report pr-7 [pulumi:{M_LIVE}]"),  # in pr-7's state
        obj("pr-7", f"Finance Report pr-7 [pulumi:{M_GONE}]", kind="environment"),  # pr-7 is live: its deploy may run
        obj("hand-made", "made by hand in the UI"),  # markerless
        obj("no-description", None),
        obj("renamed", f"[pulumi:{'d' * 12}]"),  # ours, no live stack holds it, no stack named
    ]
    found = orphans.select_orphans(objects, live_markers={M_LIVE}, live_stacks={"pr-7", "staging"})
    assert [(o.kind, o.name, s) for o, s in found] == [
        ("compose", "pr-5", "pr-5"),
        ("environment", "pr-5", "pr-5"),
        ("compose", "renamed", "unknown"),
    ]


def test_markers_in_state_reads_every_resources_marker() -> None:
    export = {
        "version": 3,
        "deployment": {
            "resources": [
                {"urn": "stack", "outputs": {"url": "https://x"}},
                {"urn": "env", "inputs": {"marker": M_LIVE, "name": "pr-7"}, "outputs": {"marker": M_LIVE}},
                {"urn": "compose", "outputs": {"__provider": "x", "nested": [{"marker": M_GONE}], "marker": "short"}},
            ]
        },
    }
    assert orphans.markers_in_state(json.dumps(export)) == {M_LIVE, M_GONE}
    assert orphans.markers_in_state({"version": 3, "deployment": {}}) == set()


def test_composes_are_deleted_before_their_environment() -> None:
    pairs = [(obj("e", "", kind="environment"), "pr-5"), (obj("c", ""), "pr-5")]
    assert [o.kind for o, _ in orphans.delete_order(pairs)] == ["compose", "environment"]
