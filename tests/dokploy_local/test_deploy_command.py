"""The deploy command model (dokploy_local/deploy_command.py): a compose's env lands on the command line
real Dokploy builds, and a failed deploy prints that command into the server log."""

from __future__ import annotations

from dokploy_local import deploy_command
from dokploy_local.testing import LocalDokploy
from tests.contract.api import Api, wait_for
from tests.support.leaks import find_leaks

VALUE = "a-value-in-the-compose-env-0123456789"


def _deploy(server: LocalDokploy, compose_type: str, outcome: str) -> tuple[dict[str, object], str]:
    server.set_knobs(deploy_duration_ms=50, deploy_outcome=outcome)
    api = Api.of(server)
    created = api.project()
    compose = api.compose(created["environment"]["environmentId"], composeType=compose_type)
    api.ok("POST", "compose.update", composeId=compose["composeId"], env=f"TOKEN={VALUE}\nPLAIN=x")
    api.ok("POST", "compose.deploy", composeId=compose["composeId"])
    (seen,) = wait_for(lambda: deploy_command.recorded(server.data_dir))
    log = server.data_dir / deploy_command.SERVER_LOG
    return seen, log.read_text() if log.exists() else ""


def test_a_stack_compose_s_env_is_on_its_deploy_command_and_in_the_failure_log(dokploy_server: LocalDokploy) -> None:
    seen, log = _deploy(dokploy_server, "stack", "error")
    argv = seen["argv"]
    assert isinstance(argv, list) and argv[:2] == ["bash", "-c"]
    assert f"TOKEN={VALUE}" in argv[2] and "docker stack deploy" in argv[2] and argv[2].count("env -i") == 1
    assert log.startswith("Error: Command failed: ") and VALUE in log


def test_a_docker_compose_env_goes_into_dot_env_base64_still_on_the_command(dokploy_server: LocalDokploy) -> None:
    seen, log = _deploy(dokploy_server, "docker-compose", "done")
    argv = seen["argv"]
    assert isinstance(argv, list) and "docker compose -p" in argv[2] and VALUE not in argv[2]
    assert find_leaks(argv[2], [VALUE])  # base64-encoded, which is no protection
    assert log == ""  # a deploy that succeeded logs no command
