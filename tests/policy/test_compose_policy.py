"""Hostile: a compose that asks for the host is refused in a staging run (before anything changes) and by
the policy pack; a PR run only warns (its code is the PR's, it could drop any check), so the separate
Dokploy instance for PRs is what keeps PR composes off the production host (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose import policy, templates
from components.compose.policy import ComposePolicyError, host_access
from components.environment import ComposePolicy, environment_for
from policy.rules import compose_host_access
from tests.support.pulumi_cli import copy_repo_program, pulumi_available

HOSTILE = """
services:
  backend:
    image: x
    privileged: true
    network_mode: host
    pid: host
    cap_add: [SYS_ADMIN]
    devices: ["/dev/mem:/dev/mem"]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - type: bind
        source: /
        target: /host
      - data:/data
secrets:
  shadow: {file: /etc/shadow}
volumes:
  data: {}
  sneaky:
    driver: local
    driver_opts: {type: none, o: bind, device: /etc}
"""


def test_every_way_of_asking_for_the_host_is_found() -> None:
    assert host_access(HOSTILE) == [
        "service backend sets privileged",
        "service backend sets cap_add: ['SYS_ADMIN']",
        "service backend sets devices: ['/dev/mem:/dev/mem']",
        "service backend shares the host's network namespace",
        "service backend shares the host's pid namespace",
        "service backend mounts the host path /var/run/docker.sock",
        "service backend mounts the host path /",
        "secret shadow reads the host file /etc/shadow",
        "volume sneaky binds the host path /etc",
    ]


def test_the_data_path_may_be_bound_but_never_the_docker_socket() -> None:
    volumes = "['/data/fr/pg:/var/lib/postgresql/data', '/data/fr/docker.sock:/s']"
    text = f"services:\n  db:\n    image: x\n    volumes: {volumes}\n"
    assert host_access(text, ("/data/fr",)) == ["service db mounts the host path /data/fr/docker.sock"]


def _hostile_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app template of a merged change that asks for the host (what a PR could have slipped in)."""
    for name in ("app_compose", "preview_compose"):
        original = getattr(templates, name)

        def asking(*args: object, _original: object = original) -> dict:
            doc = _original(*args)  # type: ignore[operator]
            service = doc["services"]["backend"]
            service["privileged"] = True
            service.setdefault("volumes", []).append("/var/run/docker.sock:/var/run/docker.sock")
            return dict(doc)

        monkeypatch.setattr(templates, name, asking)


def test_a_staging_run_refuses_a_compose_that_asks_for_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    _hostile_app(monkeypatch)
    env = environment_for("staging", {"imageTag": "sha-abc1234"})
    assert env.compose_policy is ComposePolicy.ENFORCE
    with pytest.raises(ComposePolicyError) as err:
        policy.check_environment(env)
    message = str(err.value)
    assert "\n" not in message and message.startswith("stack staging refuses a compose that asks for the host (")
    assert "app: service backend sets privileged" in message
    assert "app: service backend mounts the host path /var/run/docker.sock" in message


@pytest.mark.parametrize(("stack", "tag"), [("production", "v1.2.3"), ("local", "local")])
def test_production_and_local_enforce_too(monkeypatch: pytest.MonkeyPatch, stack: str, tag: str) -> None:
    _hostile_app(monkeypatch)
    with pytest.raises(ComposePolicyError):
        policy.check_environment(environment_for(stack, {"imageTag": tag}))


def test_a_pr_run_is_advised_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _hostile_app(monkeypatch)
    env = environment_for("pr-7", {"imageTag": "pr-7-abc1234"})
    warned: list[str] = []
    monkeypatch.setattr(policy, "_warn", warned.append)
    findings = policy.check_environment(env)
    assert findings and warned == [f"compose policy (advisory in pr-7): {f}" for f in findings]


@pytest.mark.parametrize("stack", ["pr-7", "staging", "production", "local"])
def test_the_shipped_templates_ask_for_nothing(stack: str) -> None:
    tags = {"staging": "sha-abc1234", "production": "v1.2.3"}
    assert policy.check_environment(environment_for(stack, {"imageTag": tags.get(stack, "")})) == []


def test_the_policy_pack_enforces_it_where_the_model_does() -> None:
    props = {"compose_file": HOSTILE}
    urn = "urn:pulumi:{}::finance-report::financeReport:dokploy:Compose::{}"
    assert compose_host_access(urn.format("staging", "app"), "financeReport:dokploy:Compose", "app", props)
    assert compose_host_access(urn.format("production", "x"), "financeReport:dokploy:Compose", "x", props)
    assert compose_host_access(urn.format("pr-7", "pr-7"), "financeReport:dokploy:Compose", "pr-7", props) == []
    # a data compose may bind its data directory, never the socket
    data = {"compose_file": "services:\n  pg:\n    image: x\n    volumes: ['/data/pg:/d', '/run/docker.sock:/s']\n"}
    found = compose_host_access(urn.format("staging", "p"), "financeReport:dokploy:Compose", "staging-postgres", data)
    assert found == ["service pg mounts the host path /run/docker.sock"]


@pytest.mark.parametrize(("stack", "tag"), [("staging", "sha-abc1234"), ("production", "v1.2.3")])
def test_the_policy_pack_passes_the_shipped_composes(stack: str, tag: str) -> None:
    from components.compose.render import plan
    from components.compose.templates import Images

    for f in plan(environment_for(stack, {"imageTag": tag}), Images("b", "f")):
        urn = f"urn:pulumi:{stack}::finance-report::financeReport:dokploy:Compose::{stack}-{f.name}"
        assert (
            compose_host_access(urn, "financeReport:dokploy:Compose", f"{stack}-{f.name}", {"compose_file": f.text})
            == []
        )


@pytest.mark.engine
def test_a_staging_up_with_the_real_cli_stops_before_registering_anything(tmp_path: Path) -> None:
    """The same refusal through the engine: a copy of the program whose app template was changed to ask
    for the host (what a merged PR could carry); `pulumi up --stack staging` fails with one line and
    registers nothing (it never reaches Dokploy, Vault or GitHub, none of which this test provides)."""
    if not pulumi_available():
        pytest.skip("run `make setup` to build .tools/bin/pulumi")
    cli = copy_repo_program(tmp_path)
    templates_py = cli.workdir / "components" / "compose" / "templates.py"
    text = templates_py.read_text()
    volumes = '"volumes": [f"{SECRETS_VOLUME}:/secrets:ro"]'
    hook = f'        {volumes},\n        "healthcheck": _healthcheck(backend_health_test'
    assert hook in text, "the app template changed; update this test's hook"
    socket = '"/var/run/docker.sock:/run/d.sock"'
    asking = f'"privileged": True,\n        "volumes": [f"{{SECRETS_VOLUME}}:/secrets:ro", {socket}]'
    templates_py.write_text(text.replace(hook, hook.replace(volumes, asking), 1))
    cli.run("stack", "init", "staging")
    for key, value in {"financeReport:imageTag": "sha-abc1234", "financeReport:manageGithub": "false"}.items():
        cli.run("config", "set", "--stack", "staging", key, value)
    res = cli.up("staging", check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "stack staging refuses a compose that asks for the host (app: service backend sets privileged; " in out
    assert "app: service backend mounts the host path /var/run/docker.sock" in out
    assert "Traceback" not in out
    deployment: dict = cli.export("staging")["deployment"]  # type: ignore[assignment]
    resources = deployment.get("resources") or []
    assert {r["type"] for r in resources} <= {"pulumi:pulumi:Stack"}, "something was registered"
