"""An installation token of the release GitHub App, minted in the job that needs it (staging's release job).

The App is the one bypass actor of the release tags' ruleset (components/github.py), and its private key is
a secret of the `staging` environment only. Unlike GITHUB_TOKEN, a tag pushed with the App's token starts
`production.yml`. The token is scoped to this repository and `contents: write`, and lives one hour.
"""

from __future__ import annotations

import time

import httpx
import jwt


def installation_token(
    app_id: str,
    private_key: str,
    repository: str,
    *,
    api_url: str = "https://api.github.com",
    transport: httpx.BaseTransport | None = None,
) -> str:
    now = int(time.time())
    assertion = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(app_id)}, private_key, algorithm="RS256")
    headers = {
        "authorization": f"Bearer {assertion}",
        "accept": "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
    }
    with httpx.Client(base_url=api_url, headers=headers, timeout=30.0, transport=transport) as http:
        found = http.get(f"/repos/{repository}/installation")
        found.raise_for_status()
        minted = http.post(
            f"/app/installations/{found.json()['id']}/access_tokens",
            json={"repositories": [repository.split("/", 1)[1]], "permissions": {"contents": "write"}},
        )
        minted.raise_for_status()
        return str(minted.json()["token"])
