"""Every stack config key the program reads, in the namespaces it owns (financeReport, dokploy, vault).

An unknown key in one of these namespaces is an error, not a warning: a misspelt `financeReport:imagTag`
means the user asked for a change the program would silently not make, and under `up --yes` in CI a
warning scrolls past while the old image stays deployed. Failing before any change costs one re-run; the
message names the nearest valid key (difflib), so the fix is obvious. Other namespaces (`pulumi:`,
`github:`, a provider's own) belong to someone else and are left alone.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# financeReport:* read into the environment model (components/environment.py `environment_for`).
MODEL_KEYS = (
    "baseDomain",
    "imageTag",
    "imageRepository",
    "vaultMount",
    "ownsProjects",
    "manageGithub",
    "site",
    "apiPath",
    "stripApiPrefix",
    "healthPath",
    "deployTimeoutSeconds",
    "vaultAgentAddress",
    "projectId",
    "dataPath",
    "vaultAgentCredentialsDir",
)
# financeReport:* read by components/program.py itself (object values, run options, the GitHub side).
PROGRAM_KEYS = ("adopt", "vaultAccess", "githubRepository", "productionReviewers", "releaseAppId")
# vault:* (components/vault/connection.py `VaultConnection.from_config`).
VAULT_KEYS = ("address", "authMethod", "authMount", "role", "jwtAudience", "skipVerify", "caCert")
# dokploy:* (components/dokploy/client.py `resolve_settings`).
DOKPLOY_KEYS = ("url", "apiKey", "serverId")

KNOWN: dict[str, tuple[str, ...]] = {
    "financeReport": MODEL_KEYS + PROGRAM_KEYS,
    "dokploy": DOKPLOY_KEYS,
    "vault": VAULT_KEYS,
}
ALL_KNOWN = tuple(f"{ns}:{k}" for ns, keys in KNOWN.items() for k in keys)


def nearest(key: str) -> str | None:
    """The known key closest to `key` (case-insensitive), if one is close: first the whole `ns:name`,
    then the name alone (a key set without our namespace, e.g. in the project's `finance-report:`)."""
    by_full = {k.lower(): k for k in ALL_KNOWN}
    by_name = {k.split(":", 1)[1].lower(): k for k in ALL_KNOWN}
    # Strict on the whole key: a shared namespace alone makes keys look alike (replicas ~ releaseAppId).
    for table, probe, cutoff in ((by_full, key, 0.9), (by_name, key.rpartition(":")[2], 0.8)):
        match = difflib.get_close_matches(probe.lower(), list(table), n=1, cutoff=cutoff)
        if match:
            return table[match[0]]
    return None


def unknown_key_message(keys: Iterable[str], project: str | None = None) -> str | None:
    """One line about the first unknown key (sorted, so the message is stable) in our namespaces, or in the
    project's own namespace (`pulumi config set replicas 3` lands in `<project>:replicas`, which nothing
    reads); None if every such key is known."""
    ours = {ns.lower(): ns for ns in KNOWN}
    for key in sorted(keys):
        namespace, sep, name = key.partition(":")
        if not sep:
            continue
        canonical = ours.get(namespace.lower())
        if canonical is None and namespace != project:
            continue
        if canonical == namespace and name in KNOWN[namespace]:
            continue
        hint = nearest(key)
        known = KNOWN.get(canonical or "", ())
        fix = f"did you mean {hint}?" if hint else f"the known {canonical} keys are {', '.join(known)}"
        if not hint and not known:
            fix = f"the program reads no {namespace}:* keys; its keys are financeReport:*, dokploy:*, vault:*"
        return f"unknown config key {key}: {fix} (remove it with `pulumi config rm {key}`)"
    return None
