"""The bad-input table for the whole project: every input a user can get wrong, what the run must say.

Each case is one stack run (`pulumi up --yes --skip-preview` of the program, in process under Pulumi mocks
against the real local Dokploy server and OpenBao, see harness.py; the `cli` ones through the real CLI)
that must fail before any change with one line matching `expect`: no traceback, no secret, and the
servers' request log (Dokploy) and KV/token listing (OpenBao) unchanged.

Placeholders in config and env values, filled by the harness: {dokploy} the local Dokploy URL, {port} its
port, {vault} OpenBao's address, {free} a loopback URL where nothing listens, {html} a web server that is
not Dokploy, {old} a Dokploy older than v0.25, {key} the owner key, {member} a member key limited to the
main project, {main} the main project's id, {production_env} its default environment's, {registry} a local
registry's repository (registry-* conditions). A value of None removes the key or variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What every case starts from, per stack: a run that passes (see test_bad_input.py's control cases).
BASE_CONFIG: dict[str, dict[str, str]] = {
    "local": {},
    "pr-7": {"financeReport:manageGithub": "false"},
    "staging": {"financeReport:imageTag": "sha-abc1234", "financeReport:manageGithub": "false"},
    "production": {"financeReport:imageTag": "v1.0.0", "financeReport:manageGithub": "false"},
}
COMMON_CONFIG = {
    "dokploy:url": "{dokploy}",
    "vault:address": "{vault}",
    "financeReport:baseDomain": "localhost.localdomain",
    "financeReport:deployTimeoutSeconds": "120",
}


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    stack: str
    expect: str  # a regular expression the one-line message must contain (re.search)
    config: dict[str, str | None] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)
    condition: str | None = None  # a server condition the harness sets up: vault-sealed, weak-token, registry-*
    what: str = ""  # the input, for RELIABILITY.md (defaults to the config/env change)

    def describe(self) -> str:
        if self.what:
            return self.what
        parts = [f"{k}={v!r}" for k, v in {**self.config, **self.env}.items()]
        return f"stack {self.stack}: " + (", ".join(parts) or "defaults")


def _fr(key: str, value: str | None) -> dict[str, str | None]:
    return {f"financeReport:{key}": value}


CASES: tuple[Case, ...] = (
    # --- stack names ---------------------------------------------------------------------------------
    Case("stack-unknown", "stack name", "prod", r"unknown stack name 'prod'; valid stack names: pr-<N>"),
    Case("stack-pr-zero", "stack name", "pr-0", r"unknown stack name 'pr-0'; valid stack names"),
    Case("stack-pr-leading-zero", "stack name", "pr-07", r"unknown stack name 'pr-07'"),
    Case("stack-upper-case", "stack name", "PR-7", r"unknown stack name 'PR-7'"),
    Case("stack-suffix", "stack name", "staging-2", r"unknown stack name 'staging-2'"),
    # --- financeReport:* values and types ------------------------------------------------------------
    Case(
        "baseDomain-spaces", "config value", "local", r"baseDomain=.*is not a DNS name", _fr("baseDomain", "my domain")
    ),
    Case(
        "baseDomain-no-tld",
        "config value",
        "local",
        r"baseDomain='example' is not a DNS name",
        _fr("baseDomain", "example"),
    ),
    Case(
        "imageTag-local-invalid",
        "config value",
        "local",
        r"image tag 'bad tag!' is not a valid OCI tag",
        _fr("imageTag", "bad tag!"),
    ),
    Case(
        "imageTag-staging-not-sha",
        "config value",
        "staging",
        r"staging image tag 'latest' is not sha-<7 hex>",
        _fr("imageTag", "latest"),
    ),
    Case(
        "imageTag-staging-missing",
        "missing key",
        "staging",
        r"stack staging needs financeReport:imageTag",
        _fr("imageTag", None),
    ),
    Case(
        "imageTag-production-not-version",
        "config value",
        "production",
        r"production image tag 'latest' is not a release tag vX.Y.Z",
        _fr("imageTag", "latest"),
    ),
    Case(
        "imageTag-production-partial-version",
        "config value",
        "production",
        r"production image tag 'v1.0' is not a release tag",
        _fr("imageTag", "v1.0"),
    ),
    Case(
        "imageTag-pr-other-pr",
        "config value",
        "pr-7",
        r"image tag 'pr-8-abcdef0' does not match pr-7-<7 hex>",
        _fr("imageTag", "pr-8-abcdef0"),
    ),
    Case(
        "imageRepository-spaces",
        "config value",
        "local",
        r"imageRepository=.*is not an OCI repository",
        _fr("imageRepository", "ghcr.io/acme/finance report"),
    ),
    Case(
        "imageRepository-dollar",
        "config value",
        "local",
        r"imageRepository=.*is not an OCI repository",
        _fr("imageRepository", "ghcr.io/$USER/finance_report"),
    ),
    Case(
        "imageRepository-upper-case",
        "config value",
        "local",
        r"imageRepository=.*is not an OCI repository",
        _fr("imageRepository", "ghcr.io/Acme/FR"),
    ),
    Case(
        "healthPath-quotes",
        "config value",
        "local",
        r"healthPath=.*is not a URL path",
        _fr("healthPath", '/api/health"; echo x'),
    ),
    Case(
        "healthPath-relative",
        "config value",
        "local",
        r"healthPath='health' is not a URL path",
        _fr("healthPath", "health"),
    ),
    Case("apiPath-relative", "config value", "local", r"apiPath='api' is not a URL path", _fr("apiPath", "api")),
    Case(
        "apiPath-trailing-slash",
        "config value",
        "local",
        r"apiPath='/api/' must start with '/' and not end with one",
        _fr("apiPath", "/api/"),
    ),
    Case(
        "vaultMount-spaces",
        "config value",
        "local",
        r"vaultMount='se cret' is not a Vault mount path",
        _fr("vaultMount", "se cret"),
    ),
    Case(
        "ownsProjects-not-bool",
        "config type",
        "local",
        r"ownsProjects='maybe' is not a boolean",
        _fr("ownsProjects", "maybe"),
    ),
    Case(
        "ownsProjects-on-pr",
        "config value",
        "pr-7",
        r"stack pr-7 is a PR stack and can never own the shared projects",
        _fr("ownsProjects", "true"),
    ),
    Case(
        "manageGithub-not-bool", "config type", "local", r"manageGithub='2' is not a boolean", _fr("manageGithub", "2")
    ),
    Case(
        "stripApiPrefix-not-bool",
        "config type",
        "local",
        r"stripApiPrefix='yes please' is not a boolean",
        _fr("stripApiPrefix", "yes please"),
    ),
    Case(
        "deployTimeoutSeconds-word",
        "config type",
        "local",
        r"deployTimeoutSeconds='ten' is not an integer",
        _fr("deployTimeoutSeconds", "ten"),
    ),
    Case(
        "deployTimeoutSeconds-zero",
        "config value",
        "local",
        r"deployTimeoutSeconds=0 is below 1",
        _fr("deployTimeoutSeconds", "0"),
    ),
    Case(
        "deployTimeoutSeconds-list",
        "config type",
        "local",
        r"deployTimeoutSeconds='\[120\]' is not an integer",
        _fr("deployTimeoutSeconds", "[120]"),
    ),
    Case(
        "vaultAgentAddress-not-http",
        "config value",
        "local",
        r"vaultAgentAddress='ftp://vault' is not an http\(s\) URL",
        _fr("vaultAgentAddress", "ftp://vault"),
    ),
    Case(
        "projectId-not-an-id",
        "config value",
        "pr-7",
        r"projectId='abc def' is not a Dokploy id",
        _fr("projectId", "abc def"),
    ),
    Case(
        "projectId-on-owner",
        "config value",
        "local",
        r"this stack owns the shared projects; adopt a live one with adopt.projects",
        _fr("projectId", "abc"),
    ),
    Case(
        "dataPath-relative",
        "config value",
        "local",
        r"dataPath='data/fr' is not an absolute host path",
        _fr("dataPath", "data/fr"),
    ),
    Case(
        "dataPath-on-pr",
        "config value",
        "pr-7",
        r"a pr-<N> stack keeps throwaway data in volumes; remove financeReport:dataPath",
        _fr("dataPath", "/data/fr"),
    ),
    Case(
        "adopt-not-an-object",
        "config type",
        "local",
        r"financeReport:adopt is not a JSON/YAML object",
        _fr("adopt", "compose=abc"),
    ),
    Case(
        "adopt-unknown-part",
        "config value",
        "local",
        r"config financeReport:adopt has unknown keys \['compose'\]",
        _fr("adopt", '{"compose": {"app": "x"}}'),
    ),
    Case(
        "adopt-on-pr",
        "config value",
        "pr-7",
        r"a pr-<N> stack adopts nothing",
        _fr("adopt", '{"composes": {"pr-7": "x"}}'),
    ),
    Case(
        "vaultAccess-unknown",
        "config value",
        "local",
        r"vaultAccess='admin' is not one of write, read, none",
        _fr("vaultAccess", "admin"),
    ),
    Case(
        "githubRepository-no-owner",
        "config value",
        "staging",
        r"githubRepository='finance_report' is not owner/name",
        {**_fr("githubRepository", "finance_report"), **_fr("manageGithub", None)},
    ),
    Case(
        "productionReviewers-list",
        "config type",
        "staging",
        r"productionReviewers must be \{\"users\"",
        {**_fr("productionReviewers", '["alice"]'), **_fr("manageGithub", None)},
    ),
    # --- unknown and misspelt keys: an error naming the nearest valid key (components/config_keys.py) ----
    Case(
        "unknown-imagTag",
        "unknown key",
        "local",
        r"unknown config key financeReport:imagTag: did you mean financeReport:imageTag\?",
        _fr("imagTag", "v2"),
    ),
    Case(
        "unknown-project-namespace",
        "unknown key",
        "local",
        r"unknown config key finance-report:replicas: the program reads no finance-report:\* keys",
        {"finance-report:replicas": "3"},
    ),
    Case(
        "unknown-wrong-namespace",
        "unknown key",
        "local",
        r"unknown config key finance-report:imageTag: did you mean financeReport:imageTag\?",
        {"finance-report:imageTag": "v2"},
    ),
    Case(
        "unknown-namespace-case",
        "unknown key",
        "local",
        r"unknown config key financereport:baseDomain: did you mean financeReport:baseDomain\?",
        {"financereport:baseDomain": "example.com"},
    ),
    Case(
        "unknown-dokploy-key-case",
        "unknown key",
        "local",
        r"unknown config key dokploy:apikey: did you mean dokploy:apiKey\?",
        {"dokploy:apikey": "x"},
    ),
    Case(
        "unknown-vault-misspelt",
        "unknown key",
        "local",
        r"unknown config key vault:adress: did you mean vault:address\?",
        {"vault:adress": "http://x"},
    ),
    # --- Dokploy: where it is, what answers, the key -----------------------------------------------------
    Case(
        "dokploy-url-not-a-port",
        "dokploy",
        "local",
        r"Dokploy URL 'http://127.0.0.1:notaport' has no valid port",
        {"dokploy:url": "http://127.0.0.1:notaport"},
    ),
    Case(
        "dokploy-url-no-scheme",
        "dokploy",
        "local",
        r"Dokploy URL '127.0.0.1:\d+' is not an http\(s\) URL",
        {"dokploy:url": "127.0.0.1:{port}"},
    ),
    Case(
        "dokploy-url-https-on-http",
        "dokploy",
        "local",
        r"Dokploy settings.getDokployVersion: cannot connect to https://127.0.0.1:\d+",
        {"dokploy:url": "https://127.0.0.1:{port}"},
    ),
    Case(
        "dokploy-unreachable",
        "dokploy",
        "local",
        r"Dokploy settings.getDokployVersion: cannot connect to http://127.0.0.1:\d+",
        {"dokploy:url": "{free}"},
    ),
    Case(
        "dokploy-url-not-dokploy",
        "dokploy",
        "local",
        r"HTTP 404: an HTML page answered, not Dokploy's API; check dokploy:url",
        {"dokploy:url": "{html}"},
    ),
    Case(
        "dokploy-old-version",
        "dokploy",
        "local",
        r"Dokploy v0.24.3 is not supported: .*upgrade Dokploy to v0.25.0",
        {"dokploy:url": "{old}"},
    ),
    Case(
        "dokploy-key-missing",
        "missing key",
        "local",
        r"no Dokploy API key: set `pulumi config set --secret dokploy:apiKey",
        env={"DOKPLOY_API_KEY": None},
    ),
    Case("dokploy-key-blank", "dokploy", "local", r"no Dokploy API key", env={"DOKPLOY_API_KEY": "   "}),
    Case(
        "dokploy-key-newline",
        "dokploy",
        "local",
        r"the Dokploy API key .* contains a space, line break or non-ASCII character",
        env={"DOKPLOY_API_KEY": "{key}\nsecond-line"},
    ),
    Case(
        "dokploy-key-wrong",
        "dokploy",
        "local",
        r"401 Unauthorized - the API key is wrong, expired or rate-limited",
        env={"DOKPLOY_API_KEY": "not-the-key-0123456789"},
    ),
    Case(
        "dokploy-member-key-outside-project",
        "dokploy",
        "pr-7",
        r"has no project 'finance_report-preview' created by an owner stack",
        env={"DOKPLOY_API_KEY": "{member}"},
    ),
    Case(
        "pr-pointed-at-main-project",
        "protection",
        "pr-7",
        r"project \S+ is 'finance_report', not 'finance_report-preview'",
        _fr("projectId", "{main}"),
    ),
    Case(
        "pr-pointed-at-production-environment",
        "protection",
        "pr-7",
        r"a pr-<N> stack adopts nothing",
        _fr("adopt", '{"environment": "{production_env}"}'),
        what="stack pr-7: financeReport:adopt.environment = the id of production's Dokploy environment",
    ),
    Case(
        "pr-pointed-at-staging-vault-path",
        "protection",
        "pr-7",
        r"unknown config key financeReport:vaultPrefix",
        _fr("vaultPrefix", "finance_report/staging"),
        what="stack pr-7: financeReport:vaultPrefix='finance_report/staging' (a PR's Vault path is its own, "
        "from the environment model; no key moves it)",
    ),
    Case(
        "second-owner-stack",
        "ownership",
        "staging",
        r"already has project 'finance_report' \(\S+, made by stack local\); one stack owns the shared projects",
        what="stack staging on a Dokploy server whose shared projects stack local made",
    ),
    # --- Vault -------------------------------------------------------------------------------------------
    Case(
        "vault-address-no-scheme",
        "vault",
        "local",
        r"config vault:address \(or VAULT_ADDR\)='vault.example.com' is not an http\(s\) URL",
        {"vault:address": "vault.example.com"},
    ),
    Case("vault-down", "vault", "local", r"Vault at http://127.0.0.1:\d+.*unreachable", {"vault:address": "{free}"}),
    Case(
        "vault-sealed",
        "vault",
        "local",
        r"Vault at http://127.0.0.1:\d+ is sealed",
        condition="vault-sealed",
        what="stack local, OpenBao sealed",
    ),
    Case(
        "vault-permission-denied",
        "vault",
        "local",
        r"Vault at .*: this identity lacks .* on secret/",
        condition="weak-token",
        what="stack local, a Vault token with the default policy only",
    ),
    Case(
        "vault-token-wrong",
        "vault",
        "local",
        r"Vault at .*(token|permission denied|invalid)",
        env={"VAULT_TOKEN": "s.not-a-real-token-0123456789"},
    ),
    # --- images (production: only released digests) ----------------------------------------------------
    Case(
        "production-image-missing",
        "image",
        "production",
        r"production image \S+-backend:v1.0.0 and \S+-frontend:v1.0.0 not found in the registry",
        _fr("imageRepository", "{registry}"),
        condition="registry-empty",
        what="stack production at v1.0.0, the registry has no such images",
    ),
    Case(
        "production-image-unreleased",
        "image",
        "production",
        r"-backend:v1.0.0 was never released by staging",
        _fr("imageRepository", "{registry}"),
        condition="registry-unreleased",
        what="stack production at v1.0.0, images pushed by hand but never released by staging",
    ),
    Case(
        "vault-provided-secret-missing",
        "vault",
        "production",
        r"provided key .* is missing; set it by hand - the program never invents it",
        what="stack production, its OPENROUTER/S3 keys not in Vault",
    ),
)
