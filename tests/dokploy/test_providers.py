"""The providers' methods against the local Dokploy server, in-process (no engine): fast and precise.

The engine tests (test_engine_*.py) prove the same through the real CLI; these pin the details: no diff
right after create or refresh, create-and-locate after a lost answer, ambiguity, adoption, already-gone
deletes, drift seen by read.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.output import Unknown

from components.dokploy.base import UNKNOWN, DokployProvider
from components.dokploy.compose import ComposeProvider
from components.dokploy.deployment import ComposeDeploymentProvider
from components.dokploy.domain import DomainProvider
from components.dokploy.environment import EnvironmentProvider
from components.dokploy.errors import AmbiguousMarkerError, DokployError
from components.dokploy.preflight import preflight
from components.dokploy.project import ProjectProvider
from dokploy_local.testing import LocalDokploy
from tests.support.dokploy import call_api as api  # behind Pulumi's back, as a person in the UI would

COMPOSE_FILE = "services:\n  web:\n    image: nginx:alpine\n"


def configured(cls: type[DokployProvider], server: LocalDokploy) -> Any:
    provider = cls()
    provider.configure(ConfigureRequest(Config({"dokploy:url": server.url, "dokploy:apiKey": server.api_key}, "t")))
    return provider


def checked(provider: Any, news: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, news)
    assert result.failures == [], [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


class Stack:
    """Project -> environment -> compose -> domain, created through the providers."""

    def __init__(self, server: LocalDokploy) -> None:
        self.server = server
        self.projects = configured(ProjectProvider, server)
        self.envs = configured(EnvironmentProvider, server)
        self.composes = configured(ComposeProvider, server)
        self.domains = configured(DomainProvider, server)
        self.deploys = configured(ComposeDeploymentProvider, server)

    def project(self, marker: str = "a" * 12, **kw: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
        ins = checked(self.projects, {"name": "finance_report", "description": "Finance", "marker": marker, **kw})
        r = self.projects.create(ins)
        return r.id, ins, r.outs

    def env(self, project_id: str, marker: str = "b" * 12, **kw: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
        ins = checked(self.envs, {"project_id": project_id, "name": "staging", "marker": marker, **kw})
        r = self.envs.create(ins)
        return r.id, ins, r.outs

    def compose(self, env_id: str, marker: str = "c" * 12, **kw: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
        ins = checked(
            self.composes,
            {"environment_id": env_id, "name": "app", "compose_file": COMPOSE_FILE, "app_name_base": "fr-app",
             "env": {"A": "1", "TOKEN": "s3cr3t 'x' #y"}, "marker": marker, **kw},
        )  # fmt: skip
        r = self.composes.create(ins)
        return r.id, ins, r.outs

    def domain(self, compose_id: str, **kw: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
        ins = checked(
            self.domains,
            {"compose_id": compose_id, "host": "report.example.com", "port": 3000, "service_name": "web", **kw},
        )
        r = self.domains.create(ins)
        return r.id, ins, r.outs


def test_create_read_diff_delete_round_trip_without_spurious_diffs(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, pins, pouts = s.project()
    eid, eins, eouts = s.env(pid)
    cid, cins, couts = s.compose(eid)
    did, dins, douts = s.domain(cid, https=True, path="/api", strip_path=True)
    for provider, rid, ins, outs in (
        (s.projects, pid, pins, pouts),
        (s.envs, eid, eins, eouts),
        (s.composes, cid, cins, couts),
        (s.domains, did, dins, douts),
    ):
        assert not provider.diff(rid, outs, ins).changes  # nothing from server defaults or normalisation
        refreshed = provider.read(rid, outs)
        assert refreshed.id == rid and refreshed.outs == outs
    assert couts["env"] == {"A": "1", "TOKEN": "s3cr3t 'x' #y"} and couts["app_name"].startswith("fr-app-cccccccccccc-")
    assert douts["certificate_type"] == "letsencrypt"
    assert dokploy.count_objects()["composes"] == 1
    for provider, rid, outs in ((s.domains, did, douts), (s.composes, cid, couts), (s.envs, eid, eouts)):
        provider.delete(rid, outs)
        provider.delete(rid, outs)  # already gone is success
    s.projects.delete(pid, pouts)
    s.projects.delete(pid, pouts)
    counts = dokploy.count_objects()
    assert (counts["projects"], counts["environments"], counts["composes"], counts["domains"]) == (0, 0, 0, 0)


def test_diffs_are_field_precise_and_replace_only_what_cannot_change_in_place(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    cid, cins, couts = s.compose(eid)
    d = s.composes.diff(cid, couts, {**cins, "description": "new"})
    assert d.changes and d.replaces == []
    d = s.composes.diff(cid, couts, {**cins, "env": {**cins["env"], "A": "2"}})
    assert d.changes and d.replaces == []
    d = s.composes.diff(cid, couts, {**cins, "environment_id": "other"})
    assert d.replaces == ["environment_id"]
    did, dins, douts = s.domain(cid)
    assert s.domains.diff(did, douts, {**dins, "compose_id": "other"}).replaces == ["compose_id"]
    assert s.domains.diff(did, douts, {**dins, "port": 8080}).replaces == []


def test_lost_create_answers_are_located_not_duplicated(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    creates = ["project.create", "environment.create", "compose.create", "domain.create", "compose.deploy"]
    dokploy.set_knobs(commit_drop_rate=1.0, fault_procedures=creates)  # every create commits, then no answer
    pid, _, pouts = s.project()
    eid, _, _ = s.env(pid)
    cid, _, _ = s.compose(eid)
    s.domain(cid)
    dins = checked(s.deploys, {"compose_id": cid, "run_hash": "1" * 64, "marker": "d" * 12})
    deployed = s.deploys.create(dins)
    assert deployed.outs["status"] == "done"
    counts = dokploy.count_objects()
    assert [counts[k] for k in ("projects", "environments", "composes", "domains", "deployments")] == [1, 2, 1, 1, 1]
    assert pouts["project_id"] == pid
    # The same resource created again (a crash before Pulumi saved it) adopts, it does not duplicate.
    dokploy.set_knobs(commit_drop_rate=0)
    assert s.project()[0] == pid and s.env(pid)[0] == eid and s.compose(eid)[0] == cid
    # A finished run cannot be recognised (Dokploy overwrote its title when it ended), so it deploys once more:
    # a new deployment, no other object duplicated. (A run still under way is followed: test_deploy_wait.py.)
    again = s.deploys.create(dins).outs
    assert again["deployment_id"] != deployed.outs["deployment_id"] and again["status"] == "done"
    counts = dokploy.count_objects()
    assert [counts[k] for k in ("projects", "environments", "composes", "domains", "deployments")] == [1, 2, 1, 1, 2]


def test_two_objects_with_one_marker_is_an_error_naming_both(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    ids = [
        api(dokploy, "project.create", {"name": "x", "description": f"copy {i} [pulumi:{'e' * 12}]"})["project"][
            "projectId"
        ]
        for i in range(2)
    ]
    with pytest.raises(AmbiguousMarkerError) as info:
        s.project(marker="e" * 12)
    assert all(i in str(info.value) for i in ids)
    assert dokploy.count_objects()["projects"] == 2


def test_adopting_by_id_takes_over_a_live_compose(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    live = api(dokploy, "compose.create", {"name": "hand-made", "environmentId": eid})
    cid, cins, couts = s.compose(eid, adopt_id=live["composeId"])
    assert cid == live["composeId"] and couts["app_name"] == live["appName"]
    assert couts["name"] == "app" and couts["compose_file"] == COMPOSE_FILE and couts["marker"] == "c" * 12
    assert not s.composes.diff(cid, couts, cins).changes
    assert dokploy.count_objects()["composes"] == 1


def test_the_default_environment_is_adopted_and_never_deleted(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, pouts = s.project()
    eid, eins, eouts = s.env(pid, adopt_default=True, name=None)
    assert eid == pouts["default_environment_id"] and eouts["is_default"] and eouts["name"] == "production"
    assert not s.envs.diff(eid, eouts, eins).changes
    s.envs.delete(eid, eouts)
    assert api(dokploy, "environment.one", environmentId=eid)["environmentId"] == eid
    bad = s.envs.check({}, {"project_id": pid, "name": "production", "marker": "f" * 12})
    assert bad.failures and "adopt_default" in bad.failures[0].reason


def test_read_sees_drift_made_behind_pulumis_back(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, pins, pouts = s.project()
    eid, _, _ = s.env(pid)
    cid, cins, couts = s.compose(eid)
    did, _, douts = s.domain(cid)
    api(dokploy, "compose.update", {"composeId": cid, "env": "A=hacked", "description": "edited by hand"})
    api(dokploy, "project.update", {"projectId": pid, "description": "no tag any more"})
    api(dokploy, "domain.delete", {"domainId": did})
    read = s.composes.read(cid, couts).outs
    assert read["env"] == {"A": "hacked"} and read["description"] == "edited by hand" and read["marker"] == ""
    diff = s.composes.diff(cid, read, cins)
    assert diff.changes and not diff.replaces
    assert s.domains.read(did, douts).id == ""
    pread = s.projects.read(pid, pouts).outs
    assert s.projects.diff(pid, pread, pins).changes  # the missing marker is drift too
    restored = s.composes.update(cid, read, cins).outs
    assert restored == couts


def test_project_delete_refuses_to_orphan_unmanaged_services(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, pouts = s.project()
    eid, _, _ = s.env(pid)
    api(dokploy, "compose.create", {"name": "someone-elses", "environmentId": eid})
    with pytest.raises(DokployError, match="someone-elses"):
        s.projects.delete(pid, pouts)
    assert dokploy.count_objects()["projects"] == 1


def test_check_refuses_bad_inputs_with_clear_reasons(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    failures = s.composes.check({}, {"environment_id": "e", "name": "x", "marker": "c" * 12}).failures
    assert [f.property for f in failures] == ["compose_file"]
    failures = s.composes.check(
        {}, {"environment_id": "e", "name": "x", "compose_file": "a", "env": {"1BAD": "v"}, "marker": "c" * 12}
    ).failures
    assert [f.property for f in failures] == ["env"]
    failures = s.domains.check({}, {"compose_id": "c", "host": "https://x.com/", "port": 0, "https": True}).failures
    assert {f.property for f in failures} == {"host", "port", "service_name"}


@pytest.mark.parametrize("unknown", [Unknown(), UNKNOWN], ids=["Unknown", "sentinel"])
def test_check_during_preview_validates_what_is_known(dokploy: LocalDokploy, unknown: Any) -> None:
    s = Stack(dokploy)
    domain = {"compose_id": unknown, "host": "report.example.com", "port": 3000, "service_name": "web"}
    assert s.domains.check({}, domain).failures == []
    assert s.domains.check({}, {**domain, "https": unknown}).failures == []
    assert [f.property for f in s.domains.check({}, {**domain, "host": "bad host"}).failures] == ["host"]
    compose = {"environment_id": unknown, "name": "x", "compose_file": "a", "marker": "c" * 12}
    assert s.composes.check({}, {**compose, "env": {"A": unknown}}).failures == []
    assert [f.property for f in s.composes.check({}, {**compose, "env": {"1A": unknown}}).failures] == ["env"]
    assert s.composes.check({}, {**compose, "env": unknown}).failures == []
    assert s.composes.diff("c1", {"environment_id": "e1"}, {"environment_id": unknown}).replaces == ["environment_id"]
    deployment = {"compose_id": unknown, "run_hash": unknown, "marker": "d" * 12}
    assert s.deploys.check({}, deployment).failures == []


def test_preflight(dokploy: LocalDokploy) -> None:
    assert preflight(dokploy.url, dokploy.api_key) is None
    bad_key = preflight(dokploy.url, "not-the-key")
    assert bad_key and "401" in bad_key and "not-the-key" not in bad_key and "\n" not in bad_key
    refused = preflight("http://127.0.0.1:9", dokploy.api_key, timeout_attempts=1)
    assert refused and "cannot connect" in refused


def test_server_id_config_places_composes_on_that_server(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    provider = ComposeProvider()
    provider.configure(
        ConfigureRequest(
            Config({"dokploy:url": dokploy.url, "dokploy:apiKey": dokploy.api_key, "dokploy:serverId": "srv-1"}, "t")
        )
    )
    ins = checked(provider, {"environment_id": eid, "name": "app", "compose_file": "x", "marker": "9" * 12})
    assert ins["server_id"] == "srv-1"
    # The local server has no remote servers, so it refuses the id as Dokploy does for a server one may not use.
    with pytest.raises(DokployError, match="not authorized to access this server") as info:
        provider.create(ins)
    assert "wrong, expired" not in str(info.value)
    sent = [e for e in dokploy.requests() if e["procedure"] == "compose.create"]
    assert sent[-1]["input"]["serverId"] == "srv-1"


def test_a_member_key_is_told_apart_from_a_bad_key(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, pouts = s.project()
    dokploy.add_member_key("member-key-0123456789", [])
    member = ProjectProvider()
    member.configure(
        ConfigureRequest(Config({"dokploy:url": dokploy.url, "dokploy:apiKey": "member-key-0123456789"}, "t"))
    )
    with pytest.raises(DokployError) as info:
        member.read(pid, pouts)
    assert "owner or admin" in str(info.value) and "member-key-0123456789" not in str(info.value)


def test_git_and_github_sources_and_stack_type_round_trip(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    pid, _, _ = s.project()
    eid, _, _ = s.env(pid)
    git = {"url": "https://github.com/wangzitian0/infra2.git", "branch": "main", "compose_path": "fr/compose.yaml"}
    cid, cins, couts = s.compose(eid, compose_file=None, git=git, compose_type="stack")
    assert couts["source_type"] == "git" and couts["compose_file"] is None and couts["compose_type"] == "stack"
    assert couts["git"] == {**git, "ssh_key_id": None}
    assert not s.composes.diff(cid, s.composes.read(cid, couts).outs, cins).changes
    github = {"github_id": "126refcRlCoWj6pmPXElU", "owner": "wangzitian0", "repository": "finance_report"}
    gins = checked(s.composes, {**cins, "git": None, "github": github})
    assert s.composes.diff(cid, couts, gins).replaces == []  # a new source is an update in place
    gouts = s.composes.update(cid, couts, gins).outs
    assert gouts["github"] == {**github, "branch": "main", "compose_path": "./docker-compose.yml"}
    assert gouts["git"] is None and not s.composes.diff(cid, s.composes.read(cid, gouts).outs, gins).changes


def test_adopting_live_project_environment_and_domain_by_id(dokploy: LocalDokploy) -> None:
    s = Stack(dokploy)
    live = api(dokploy, "project.create", {"name": "live", "description": "made by hand"})
    pid, pins, pouts = s.project(adopt_id=live["project"]["projectId"])
    assert pid == live["project"]["projectId"] and pouts["name"] == "finance_report" and pouts["marker"] == "a" * 12
    env = api(dokploy, "environment.create", {"name": "staging", "projectId": pid})
    eid, _, eouts = s.env(pid, adopt_id=env["environmentId"])
    assert eid == env["environmentId"] and eouts["marker"] == "b" * 12
    cid, _, _ = s.compose(eid)
    dom = api(dokploy, "domain.create", {"host": "old.example.com", "composeId": cid, "domainType": "compose"})
    did, dins, douts = s.domain(cid, adopt_id=dom["domainId"])
    assert did == dom["domainId"] and douts["host"] == "report.example.com" and douts["service_name"] == "web"
    assert not s.domains.diff(did, douts, dins).changes
    assert s.projects.diff(pid, pouts, {**pins, "adopt_id": "another"}).replaces == ["adopt_id"]
    counts = dokploy.count_objects()
    assert (counts["projects"], counts["environments"], counts["domains"]) == (1, 2, 1)
