"""Every id the reliability suite runs, in RELIABILITY.md's order: the bad-input table, the bad inputs that
go through the real CLI and scripts, and the scenarios."""

from __future__ import annotations

from tests.reliability.cases import CASES

# Bad inputs that only the real CLI or `make up` can show (a traceback printed by pulumi, a YAML file).
CLI_CASES = (
    "cli-stack-file-yaml-error",
    "cli-unknown-key",
    "cli-dokploy-key-newline",
    "cli-dokploy-https-on-http",
)
SCENARIOS = (
    "compose-deleted-by-hand",
    "kv-secret-deleted-by-hand",
    "objects-changed-by-hand",
    "destroy-refused-dokploy-down",
    "destroy-refused-vault-down",
    "destroy-refused-other-stack-in-owned-project",
    "production-and-shared-projects-not-destroyable",
    "local-servers-own-their-processes",
    "faults-20pct-and-commit-then-drop",
    "faults-2s-latency-spikes",
    "dokploy-401-burst-mid-deploy-wait",
    "dokploy-restarted-mid-up-queue-lost",
    "dokploy-restarted-mid-up-deploy-cancelled",
    "openbao-restarted-mid-up",
    "openbao-sealed-mid-up",
    "dokploy-restarted-mid-destroy",
    "openbao-restarted-mid-destroy",
    "openbao-sealed-mid-destroy",
    "pulumi-killed-in-up-and-destroy",
    "pulumi-killed-in-deploy-wait-and-mid-destroy",
    "parallel-10-pr-stacks-on-s3",
)


def all_ids() -> list[str]:
    return [c.id for c in CASES] + list(CLI_CASES) + list(SCENARIOS)
