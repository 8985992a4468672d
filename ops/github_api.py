"""The handful of GitHub REST calls the workflows make through ops (httpx, the job's token).

Comments and the drift issue are found by the hidden marker their body starts with AND by their author:
only what the bot identity wrote is ours. Anyone can paste our marker into a comment or an issue; matching
the marker alone would let them steer which text we overwrite (or which issue we close).
"""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

import httpx
from nacl import encoding, public

from ops.comments import marker
from ops.reaper import PrState

# The login GitHub shows for writes made with a job's GITHUB_TOKEN. A GitHub App posts as `<slug>[bot]`:
# set GITHUB_BOT_LOGIN then. (GITHUB_TOKEN cannot call /user, so the login is configured, not asked.)
DEFAULT_BOT_LOGIN = "github-actions[bot]"


class GitHub:
    def __init__(
        self,
        repository: str,
        token: str,
        *,
        api_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        bot_login: str | None = None,
    ) -> None:
        self.repository = repository
        self.bot_login = bot_login or os.environ.get("GITHUB_BOT_LOGIN") or DEFAULT_BOT_LOGIN
        self._owner_kinds: dict[str, str] = {}  # package owner -> "orgs" | "users"
        self._http = httpx.Client(
            base_url=api_url or os.environ.get("GITHUB_API_URL", "https://api.github.com"),
            headers={
                "authorization": f"Bearer {token}",
                "accept": "application/vnd.github+json",
                "x-github-api-version": "2022-11-28",
            },
            timeout=30.0,
            transport=transport,
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _paged(self, path: str, *, absent_ok: bool = False, **params: str) -> list[dict]:
        out: list[dict] = []
        for page in range(1, 51):  # 5,000 items: beyond any PR thread, and a package the reaper keeps pruned
            resp = self._http.get(path, params={**params, "per_page": "100", "page": str(page)})
            if absent_ok and resp.status_code == 404 and page == 1:
                return []
            resp.raise_for_status()
            batch = resp.json()
            out.extend(batch)
            if len(batch) < 100:
                break
        return out

    def _ours(self, item: dict, key: str) -> bool:
        """Written by the bot identity and starting with our marker for `key`."""
        user = item.get("user") or {}
        return (
            user.get("login") == self.bot_login
            and user.get("type") == "Bot"
            and str(item.get("body") or "").startswith(marker(key))
        )

    # ---- PR comments -------------------------------------------------------------------------------
    def upsert_comment(self, number: int, key: str, body: str) -> str:
        """Edit the bot's comment that starts with our marker for `key`, or create it. Returns 'created'/'updated'."""
        for comment in self._paged(f"/repos/{self.repository}/issues/{number}/comments"):
            if self._ours(comment, key):
                r = self._http.patch(f"/repos/{self.repository}/issues/comments/{comment['id']}", json={"body": body})
                r.raise_for_status()
                return "updated"
        r = self._http.post(f"/repos/{self.repository}/issues/{number}/comments", json={"body": body})
        r.raise_for_status()
        return "created"

    # ---- the drift issue ---------------------------------------------------------------------------
    def upsert_issue(self, key: str, title: str, body: str, labels: list[str]) -> str:
        for issue in self._paged(f"/repos/{self.repository}/issues", state="open"):
            if "pull_request" not in issue and self._ours(issue, key):
                r = self._http.patch(
                    f"/repos/{self.repository}/issues/{issue['number']}", json={"title": title, "body": body}
                )
                r.raise_for_status()
                return "updated"
        r = self._http.post(f"/repos/{self.repository}/issues", json={"title": title, "body": body, "labels": labels})
        r.raise_for_status()
        return "created"

    def close_issue(self, key: str, comment: str) -> bool:
        for issue in self._paged(f"/repos/{self.repository}/issues", state="open"):
            if "pull_request" not in issue and self._ours(issue, key):
                n = issue["number"]
                self._http.post(
                    f"/repos/{self.repository}/issues/{n}/comments", json={"body": comment}
                ).raise_for_status()
                r = self._http.patch(f"/repos/{self.repository}/issues/{n}", json={"state": "closed"})
                r.raise_for_status()
                return True
        return False

    # ---- reaper ------------------------------------------------------------------------------------
    def pr_state(self, number: int) -> PrState:
        resp = self._http.get(f"/repos/{self.repository}/pulls/{number}")
        if resp.status_code == 404:
            return PrState.MISSING
        resp.raise_for_status()
        return PrState.OPEN if resp.json().get("state") == "open" else PrState.CLOSED

    def delete_environment(self, name: str) -> bool:
        """Delete a `pr-<N>` deployment environment (needs a token with administration rights)."""
        resp = self._http.delete(f"/repos/{self.repository}/environments/{name}")
        if resp.status_code == 404:
            return False
        resp.raise_for_status()
        return True

    def set_secret(self, name: str, value: str, environment: str = "") -> None:
        """Write an Actions secret (of the repository, or of `environment`): sealed with its public key, as
        GitHub requires, so the plaintext never leaves this process."""
        scope = f"environments/{environment}" if environment else "actions"
        base = f"/repos/{self.repository}/{scope}/secrets"
        resp = self._http.get(f"{base}/public-key")
        resp.raise_for_status()
        pk = resp.json()
        box = public.SealedBox(public.PublicKey(pk["key"].encode(), encoding.Base64Encoder))
        sealed = base64.b64encode(box.encrypt(value.encode())).decode()
        resp = self._http.put(f"{base}/{name}", json={"encrypted_value": sealed, "key_id": pk["key_id"]})
        resp.raise_for_status()

    # ---- PR image versions (GHCR, through the Packages API) ----------------------------------------
    def _package(self, owner: str, package: str) -> str:
        """`/orgs|users/<owner>/packages/container/<package>`: GitHub addresses a package by its owner's kind."""
        if owner not in self._owner_kinds:
            resp = self._http.get(f"/users/{quote(owner, safe='')}")
            resp.raise_for_status()
            self._owner_kinds[owner] = "orgs" if resp.json().get("type") == "Organization" else "users"
        return f"/{self._owner_kinds[owner]}/{quote(owner, safe='')}/packages/container/{quote(package, safe='')}"

    def package_versions(self, owner: str, package: str) -> list[dict]:
        """Every version (one per manifest digest) with `metadata.container.tags` and `updated_at`; [] when
        the package does not exist."""
        return self._paged(f"{self._package(owner, package)}/versions", absent_ok=True)

    def delete_package_version(self, owner: str, package: str, version_id: int) -> None:
        """Delete one version (its manifest and every tag on it): the job's token needs `packages: write`."""
        resp = self._http.delete(f"{self._package(owner, package)}/versions/{int(version_id)}")
        resp.raise_for_status()
