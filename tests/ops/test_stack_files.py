"""ops.stack_files decisions, with `pulumi` answered by a fake (the real CLI: tests/stacks/test_pr_stack_checkouts.py,
test_init_stack.py).

What a job's checkout gets for each state the backend can be in, and the one-line refusals that name the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.environment import ConfigError
from ops import pulumi_cli, stack_files
from ops.pulumi_cli import Result

STAGING_FILE = """# staging, as committed
secretsprovider: hashivault://finance-report-staging
config:
  financeReport:baseDomain: zitian.party
"""


def export(secrets_providers: object) -> str:
    return json.dumps({"version": 3, "deployment": {"manifest": {}, "secrets_providers": secrets_providers}})


def cloud(url: str, key: str = "dmF1bHQ6djE6eHl6") -> dict[str, object]:
    return {"type": "cloud", "state": {"url": url, "encryptedkey": key}}


class FakePulumi:
    def __init__(self, exported: str | None) -> None:
        self.exported = exported
        self.calls: list[tuple[str, ...]] = []
        self.with_vault: list[str] = []  # the commands that got Vault's variables (pulumi_cli.run secrets=True)

    def __call__(
        self, *args: str, cwd: Path, timeout: float = 0, program: bool = False, secrets: bool = False
    ) -> Result:
        self.calls.append(args)
        if secrets:
            self.with_vault.append(" ".join(args[:2]))
        if args[:2] == ("stack", "export"):
            if self.exported is None:
                return Result(255, f"error: no stack named '{args[3]}' found\n")
            return Result(0, self.exported)
        return Result(0, "")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    f = FakePulumi(None)
    monkeypatch.setattr(pulumi_cli, "run", f)
    return f


def test_each_stack_group_has_its_transit_key_and_local_a_passphrase() -> None:
    assert stack_files.secrets_provider("pr-12") == "hashivault://finance-report-preview"
    assert stack_files.secrets_provider("staging") == "hashivault://finance-report-staging"
    assert stack_files.secrets_provider("production") == "hashivault://finance-report-production"
    assert stack_files.secrets_provider("local") == "passphrase"


def test_a_missing_stack_is_created_on_its_provider_or_left_alone(fake: FakePulumi, tmp_path: Path) -> None:
    assert stack_files.ensure_stack("pr-3", tmp_path, create=False) == "missing"
    assert fake.calls == [("stack", "export", "--stack", "pr-3")]
    assert stack_files.ensure_stack("pr-3", tmp_path) == "created"
    assert fake.calls[-1] == ("stack", "init", "pr-3", "--secrets-provider", "hashivault://finance-report-preview")
    assert fake.with_vault == ["stack init"]  # reading the state needs no Vault token; creating the key does


def test_a_fresh_checkout_gets_the_keys_from_the_state_and_a_second_open_changes_nothing(
    fake: FakePulumi, tmp_path: Path
) -> None:
    fake.exported = export(cloud("hashivault://finance-report-preview", "a2V5"))
    assert stack_files.ensure_stack("pr-3", tmp_path) == "restored"
    assert stack_files.file_secrets(tmp_path / "Pulumi.pr-3.yaml") == {
        "secretsprovider": "hashivault://finance-report-preview",
        "encryptedkey": "a2V5",
    }
    assert stack_files.ensure_stack("pr-3", tmp_path) == "unchanged"
    assert not any(c[:2] == ("stack", "init") for c in fake.calls)


def test_a_committed_file_naming_the_provider_keeps_its_comments_and_config(fake: FakePulumi, tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(STAGING_FILE)
    fake.exported = export(cloud("hashivault://finance-report-staging", "c3RhZ2luZw=="))
    assert stack_files.ensure_stack("staging", tmp_path) == "restored"
    assert path.read_text() == STAGING_FILE + "encryptedkey: c3RhZ2luZw==\n"  # only the missing key, appended


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            cloud("hashivault://finance-report-staging"),
            "stack pr-3 keeps its secrets with hashivault://finance-report-staging, not "
            "hashivault://finance-report-preview (its group's); move it with "
            "`pulumi stack change-secrets-provider --stack pr-3 hashivault://finance-report-preview`",
        ),
        (
            {"type": "passphrase", "state": {"salt": "v1:abc"}},
            "stack pr-3 keeps its secrets with passphrase, not hashivault://finance-report-preview",
        ),
        (None, "stack pr-3's state records no secrets provider; set one with `pulumi stack change-secrets-provider"),
    ],
)
def test_a_stack_on_another_provider_is_refused_before_anything_is_written(
    fake: FakePulumi, tmp_path: Path, state: object, message: str
) -> None:
    fake.exported = export(state)
    with pytest.raises(ConfigError) as err:
        stack_files.ensure_stack("pr-3", tmp_path)
    assert str(err.value).startswith(message)
    assert not (tmp_path / "Pulumi.pr-3.yaml").exists()


def test_a_file_naming_another_provider_is_refused(fake: FakePulumi, tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text("secretsprovider: hashivault://finance-report-production\n")
    fake.exported = export(cloud("hashivault://finance-report-staging"))
    with pytest.raises(
        ConfigError, match=r"Pulumi.staging.yaml names secrets provider hashivault://finance-report-pro"
    ):
        stack_files.ensure_stack("staging", tmp_path)


def test_init_of_staging_without_what_its_github_side_needs_changes_nothing_and_names_the_keys(
    fake: FakePulumi, tmp_path: Path
) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(STAGING_FILE)
    with pytest.raises(ConfigError) as err:
        stack_files.init_stack("staging", cwd=tmp_path)
    assert str(err.value) == (
        "stack staging needs financeReport:productionReviewers and financeReport:releaseAppId; run "
        "`make init-stack STACK=staging REVIEWERS=<github login>[,<login>...] (or REVIEWER_TEAMS=<team slug>) "
        "RELEASE_APP_ID=<the release GitHub App's id, docs/security.md>`"
    )
    with pytest.raises(ConfigError, match=r"^stack staging needs financeReport:releaseAppId; run"):
        stack_files.init_stack("staging", reviewers=["alice"], cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"^RELEASE_APP_ID='app' is not a GitHub App id"):
        stack_files.init_stack("staging", reviewers=["alice"], release_app_id="app", cwd=tmp_path)
    assert fake.calls == []


def test_init_of_staging_sets_what_it_is_given_in_one_config_call(fake: FakePulumi, tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text(STAGING_FILE)
    done = stack_files.init_stack("staging", ["alice", "42"], ["ops"], "123456", cwd=tmp_path)
    assert done[0] == "created: stack staging on hashivault://finance-report-staging"
    assert fake.calls[-1] == (
        "config", "set-all", "--stack", "staging", "--path",
        "--plaintext", "financeReport:productionReviewers.users[0]=alice",
        "--plaintext", "financeReport:productionReviewers.users[1]=42",
        "--plaintext", "financeReport:productionReviewers.teams[0]=ops",
        "--plaintext", "financeReport:releaseAppId=123456",
    )  # fmt: skip
    assert done[-1] == "now commit Pulumi.staging.yaml"


def test_init_of_production_needs_no_reviewers_and_a_pr_stack_is_refused(fake: FakePulumi, tmp_path: Path) -> None:
    assert stack_files.init_stack("production", cwd=tmp_path)[0] == (
        "created: stack production on hashivault://finance-report-production"
    )
    with pytest.raises(ConfigError, match="stack pr-4 is a PR stack: its workflow creates and opens it"):
        stack_files.init_stack("pr-4", cwd=tmp_path)
    with pytest.raises(ConfigError, match="stack local keeps its secrets with a passphrase and `make up` creates it"):
        stack_files.init_stack("local", cwd=tmp_path)
