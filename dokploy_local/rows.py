"""New rows with Dokploy's column defaults (drizzle schema, v0.30.2), in the key order the API returns.

A key present in the input overrides the default even when it is null, as a drizzle insert does; only absent
keys take defaults. Columns a newer Dokploy added (e.g. `project.wildcardDomain`) are left out: the observed
v0.30.2 rows do not have them.
"""

from __future__ import annotations

from typing import Any

from dokploy_local.ids import build_app_name, log_stamp, nanoid, now_iso

Row = dict[str, Any]


def _merge(defaults: Row, given: Row) -> Row:
    row = dict(defaults)
    for key in defaults:
        if key in given:
            row[key] = given[key]
    return row


def project_row(given: Row, organization_id: str) -> Row:
    defaults = {
        "projectId": nanoid(),
        "name": "",
        "description": None,
        "createdAt": now_iso(),
        "organizationId": organization_id,
        "env": "",
    }
    row = _merge(defaults, given)
    row["projectId"], row["organizationId"] = defaults["projectId"], organization_id
    return row


def environment_row(given: Row, *, is_default: bool = False) -> Row:
    defaults = {
        "environmentId": nanoid(),
        "name": "",
        "description": None,
        "createdAt": now_iso(),
        "env": "",
        "projectId": "",
        "isDefault": is_default,
    }
    return _merge(defaults, {k: v for k, v in given.items() if k in ("name", "description", "projectId")})


def production_environment_row(project_id: str) -> Row:
    return environment_row(
        {"name": "production", "description": "Production environment", "projectId": project_id}, is_default=True
    )


def compose_row(given: Row) -> Row:
    defaults: Row = {
        "composeId": nanoid(),
        "name": "",
        "appName": "",
        "description": None,
        "env": None,
        "composeFile": "",
        "refreshToken": nanoid(),
        "sourceType": "github",
        "composeType": "docker-compose",
        "repository": None,
        "owner": None,
        "branch": None,
        "autoDeploy": True,
        "gitlabProjectId": None,
        "gitlabRepository": None,
        "gitlabOwner": None,
        "gitlabBranch": None,
        "gitlabPathNamespace": None,
        "bitbucketRepository": None,
        "bitbucketRepositorySlug": None,
        "bitbucketOwner": None,
        "bitbucketBranch": None,
        "giteaRepository": None,
        "giteaOwner": None,
        "giteaBranch": None,
        "customGitUrl": None,
        "customGitBranch": None,
        "customGitSSHKeyId": None,
        "command": "",
        "createEnvFile": True,
        "enableSubmodules": False,
        "composePath": "./docker-compose.yml",
        "suffix": "",
        "randomize": False,
        "isolatedDeployment": False,
        "isolatedDeploymentsVolume": False,
        "triggerType": "push",
        "composeStatus": "idle",
        "icon": None,
        "environmentId": "",
        "createdAt": now_iso(),
        "watchPaths": None,
        "githubId": None,
        "gitlabId": None,
        "bitbucketId": None,
        "giteaId": None,
        "serverId": None,
        "serviceNetworks": [],
    }
    row = _merge(defaults, given)
    row["composeId"] = defaults["composeId"]
    row["appName"] = build_app_name("compose", given.get("appName"))
    # createCompose writes `composeFile: input.composeFile || ""`.
    row["composeFile"] = given.get("composeFile") or ""
    return row


def domain_row(given: Row, unique_config_key: int) -> Row:
    defaults: Row = {
        "domainId": nanoid(),
        "host": "",
        "https": False,
        "port": 3000,
        "customEntrypoint": None,
        "path": "/",
        "serviceName": None,
        "domainType": "application",
        "uniqueConfigKey": unique_config_key,
        "createdAt": now_iso(),
        "composeId": None,
        "customCertResolver": None,
        "applicationId": None,
        "previewDeploymentId": None,
        "certificateType": "none",
        "internalPath": "/",
        "stripPath": False,
        "middlewares": [],
        "forwardAuthEnabled": False,
        "enabled": True,
    }
    row = _merge(defaults, given)
    row["domainId"], row["uniqueConfigKey"] = defaults["domainId"], unique_config_key
    return row


def deployment_row(compose: Row, title: str, description: str) -> Row:
    app = compose["appName"]
    now = now_iso()
    return {
        "deploymentId": nanoid(),
        "title": title,
        "description": description,
        "status": "running",
        "logPath": f"/etc/dokploy/logs/{app}/{app}-{log_stamp()}.log",
        "pid": None,
        "applicationId": None,
        "composeId": compose["composeId"],
        "serverId": None,
        "isPreviewDeployment": False,
        "previewDeploymentId": None,
        "createdAt": now,
        "startedAt": now,
        "finishedAt": None,
        "errorMessage": None,
        "scheduleId": None,
        "backupId": None,
        "rollbackId": None,
        "volumeBackupId": None,
        "buildServerId": None,
    }


def registry_row(given: Row, organization_id: str) -> Row:
    defaults: Row = {
        "registryId": nanoid(),
        "registryName": "",
        "imagePrefix": None,
        "username": "",
        "password": "",
        "registryUrl": "",
        "createdAt": now_iso(),
        "registryType": "cloud",
        "organizationId": organization_id,
    }
    row = _merge(defaults, given)
    row["registryId"], row["organizationId"] = defaults["registryId"], organization_id
    return row
