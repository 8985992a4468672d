"""What the dashboard hides in env text and compose files, and what it keeps readable."""

from __future__ import annotations

import pytest

from dokploy_local.dashboard_masking import MASK, env_pairs, mask_line


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("  POSTGRES_PASSWORD: hunter2-value", f"  POSTGRES_PASSWORD: {MASK}"),
        ('VAULT_APP_TOKEN="hvs.abc"', f"VAULT_APP_TOKEN={MASK}"),
        ("      - S3_SECRET_KEY=abc", f"      - S3_SECRET_KEY={MASK}"),
        ("DATABASE_URL=postgresql://app:pw123@db:5432/app", f"DATABASE_URL=postgresql://app:{MASK}@db:5432/app"),
        ("  REDIS_URL: redis://:pw123@redis:6379/0", f"  REDIS_URL: redis://:{MASK}@redis:6379/0"),
        # kept: references to other variables, file locations, plain settings, comments, images
        ('  VAULT_APP_TOKEN: "${VAULT_APP_TOKEN:?not set}"', '  VAULT_APP_TOKEN: "${VAULT_APP_TOKEN:?not set}"'),
        ("  POSTGRES_PASSWORD_FILE: /vault/secrets/pg", "  POSTGRES_PASSWORD_FILE: /vault/secrets/pg"),
        ("LOG_LEVEL=info", "LOG_LEVEL=info"),
        ("# API_TOKEN=see the README", "# API_TOKEN=see the README"),
        ("    image: ghcr.io/x/backend:local", "    image: ghcr.io/x/backend:local"),
    ],
)
def test_mask_line(line: str, shown: str) -> None:
    assert mask_line(line) == shown


def test_env_pairs_flag_what_they_hide() -> None:
    text = 'VAULT_APP_TOKEN="hvs.abc"\nLOG_LEVEL=info\n\n# comment\nexport API_KEY=k'
    assert env_pairs(text) == [("VAULT_APP_TOKEN", MASK, True), ("LOG_LEVEL", "info", False), ("API_KEY", MASK, True)]
