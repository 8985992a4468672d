"""RELIABILITY.md lists exactly the suite's cases and scenarios (it is rewritten at the end of every run of
this suite, so a stale file, e.g. a case added without running the suite, fails here)."""

from __future__ import annotations

from tests.reliability import report
from tests.reliability.suite import all_ids
from tests.support.pulumi_cli import REPO


def test_reliability_md_lists_the_suites_cases() -> None:
    listed = report.listed(REPO / "RELIABILITY.md")
    suite = set(all_ids())
    assert not suite - listed, f"not in RELIABILITY.md (run tests/reliability): {sorted(suite - listed)}"
    assert not listed - suite, f"in RELIABILITY.md but not in the suite: {sorted(listed - suite)}"


def test_the_table_is_big_enough_and_unique() -> None:
    ids = all_ids()
    assert len(ids) == len(set(ids))
    assert sum(1 for i in ids if not i.startswith("cli-")) >= 45
