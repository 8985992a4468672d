"""`python -m dokploy_local` arguments: loopback by default, member keys and knobs from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dokploy_local.__main__ import parse_args

BASE = ["--data", "/tmp/x", "--api-key", "k"]


def test_binds_loopback_by_default() -> None:
    assert parse_args(BASE).host == "127.0.0.1"


def test_data_dir_is_a_path() -> None:
    assert parse_args(BASE).data == Path("/tmp/x")


def test_member_keys_by_id_or_name() -> None:
    args = parse_args([*BASE, "--member-key", "m1=finance_report,abc", "--member-key", "m2=x"])
    assert args.member_key == {"m1": ["finance_report", "abc"], "m2": ["x"]}


def test_knobs_from_json_and_single_flags() -> None:
    args = parse_args([*BASE, "--knobs", '{"drop_rate": 0.1}', "--knob", "deploy_outcome=error"])
    assert args.knobs == {"drop_rate": 0.1, "deploy_outcome": "error"}


def test_bad_knob_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_args([*BASE, "--knob", "drop_rate=2"])


def test_api_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOKPLOY_LOCAL_API_KEY", raising=False)
    with pytest.raises(SystemExit):
        parse_args(["--data", "/tmp/x"])
