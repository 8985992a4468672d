"""STAND-IN for hashicorp/vault-action, `method: jwt` only (see action.yml). Prints no token."""

from __future__ import annotations

import os
import sys

import httpx


def main() -> int:
    env = os.environ
    if env["INPUT_METHOD"] != "jwt" or env.get("INPUT_SECRETS", "").strip():
        print("::error::vault stand-in: only `method: jwt` login with exportToken is supported")
        return 1
    request_url, request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not request_url or not request_token:
        print("::error::vault stand-in: no OIDC token for this job (does it have `permissions: id-token: write`?)")
        return 1
    with httpx.Client(timeout=30, trust_env=False) as http:
        # act gives all jobs of a run one request token; the job id tells the OIDC stand-in which job asks.
        params = {"audience": env["INPUT_AUDIENCE"], "job": env["GITHUB_JOB"]}
        r = http.get(request_url, params=params, headers={"authorization": f"bearer {request_token}"})
        if r.status_code != 200:
            print(f"::error::vault stand-in: the OIDC token request failed: HTTP {r.status_code}")
            return 1
        jwt = r.json()["value"]
        login = http.post(
            f"{env['INPUT_URL'].rstrip('/')}/v1/auth/{env['INPUT_PATH']}/login",
            json={"role": env["INPUT_ROLE"], "jwt": jwt},
        )
        if login.status_code != 200:
            errors = "; ".join(login.json().get("errors", [])) if login.content else ""
            role = env["INPUT_ROLE"]
            print(f"::error::vault stand-in: login as role {role} refused: HTTP {login.status_code} {errors}")
            return 1
        token = login.json()["auth"]["client_token"]
    print(f"::add-mask::{token}")
    if env.get("INPUT_EXPORT") == "true":
        with open(env["GITHUB_ENV"], "a", encoding="utf-8") as fh:
            fh.write(f"VAULT_TOKEN={token}\n")
    print(f"logged into {env['INPUT_URL']} as role {env['INPUT_ROLE']} (stand-in)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
