"""Our own JSON Schemas for every emulated procedure's answers, written from the observed v0.30.2 shapes.

Dokploy's OpenAPI document cannot serve: every 200 schema is an empty placeholder and its error schemas lack
`data` (`dokploy-api.md` §6.2). These are strict (every key required, no others) so that a drift in the
emulator, or in a real server checked against them, shows at once.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

ID: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_-]{21}$"}
TIMESTAMP: Schema = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}
NULL: Schema = {"type": "null"}
ANY_ARRAY: Schema = {"type": "array"}
EMPTY_ARRAY: Schema = {"type": "array", "maxItems": 0}
STATUS: Schema = {"enum": ["idle", "running", "done", "error"]}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, NULL]}


def obj(properties: dict[str, Schema]) -> Schema:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def const(value: Any) -> Schema:
    return {"const": value}


PROJECT: dict[str, Schema] = {
    "projectId": ID,
    "name": STRING,
    "description": nullable(STRING),
    "createdAt": TIMESTAMP,
    "organizationId": ID,
    "env": STRING,
}
ENVIRONMENT: dict[str, Schema] = {
    "environmentId": ID,
    "name": STRING,
    "description": nullable(STRING),
    "createdAt": TIMESTAMP,
    "env": STRING,
    "projectId": ID,
    "isDefault": BOOLEAN,
}
_NULLABLE_TEXT = [
    "repository",
    "owner",
    "branch",
    "gitlabRepository",
    "gitlabOwner",
    "gitlabBranch",
    "gitlabPathNamespace",
    "bitbucketRepository",
    "bitbucketRepositorySlug",
    "bitbucketOwner",
    "bitbucketBranch",
    "giteaRepository",
    "giteaOwner",
    "giteaBranch",
    "customGitUrl",
    "customGitBranch",
    "customGitSSHKeyId",
    "icon",
    "githubId",
    "gitlabId",
    "bitbucketId",
    "giteaId",
    "serverId",
]
COMPOSE: dict[str, Schema] = {
    "composeId": ID,
    "name": STRING,
    "appName": {"type": "string", "pattern": "^[a-z0-9._-]+-[a-z0-9]{6}$"},
    "description": nullable(STRING),
    "env": nullable(STRING),
    "composeFile": STRING,
    "refreshToken": nullable(STRING),
    "sourceType": {"enum": ["git", "github", "gitlab", "bitbucket", "gitea", "raw"]},
    "composeType": {"enum": ["docker-compose", "stack"]},
    "autoDeploy": nullable(BOOLEAN),
    "gitlabProjectId": nullable({"type": "number"}),
    "command": STRING,
    "createEnvFile": BOOLEAN,
    "enableSubmodules": BOOLEAN,
    "composePath": STRING,
    "suffix": STRING,
    "randomize": BOOLEAN,
    "isolatedDeployment": BOOLEAN,
    "isolatedDeploymentsVolume": BOOLEAN,
    "triggerType": nullable({"enum": ["push", "tag"]}),
    "composeStatus": STATUS,
    "environmentId": ID,
    "createdAt": TIMESTAMP,
    "watchPaths": nullable(array(STRING)),
    "serviceNetworks": nullable(ANY_ARRAY),
} | {name: nullable(STRING) for name in _NULLABLE_TEXT}
DOMAIN: dict[str, Schema] = {
    "domainId": ID,
    "host": STRING,
    "https": BOOLEAN,
    "port": nullable({"type": "number"}),
    "customEntrypoint": nullable(STRING),
    "path": nullable(STRING),
    "serviceName": nullable(STRING),
    "domainType": nullable({"enum": ["compose", "application", "preview"]}),
    "uniqueConfigKey": INTEGER,
    "createdAt": TIMESTAMP,
    "composeId": nullable(STRING),
    "customCertResolver": nullable(STRING),
    "applicationId": nullable(STRING),
    "previewDeploymentId": nullable(STRING),
    "certificateType": {"enum": ["letsencrypt", "none", "custom"]},
    "internalPath": nullable(STRING),
    "stripPath": BOOLEAN,
    "middlewares": nullable(array(STRING)),
    "forwardAuthEnabled": BOOLEAN,
    "enabled": BOOLEAN,
}
# `deployment.queueList` (v0.30.x): a job of the in-memory queue; `data` is the deploy job's payload.
QUEUE_JOB: Schema = {
    "type": "object",
    "properties": {
        "id": STRING,
        "name": nullable(STRING),
        "data": {"type": "object"},
        "timestamp": nullable({"type": "number"}),
        "processedOn": nullable({"type": "number"}),
        "finishedOn": nullable({"type": "number"}),
        "state": STRING,
        "servicePath": nullable(STRING),
    },
    "required": ["id", "data", "state"],
}
DEPLOYMENT: dict[str, Schema] = {
    "deploymentId": ID,
    "title": STRING,
    "description": nullable(STRING),
    "status": {"enum": ["running", "done", "error", "cancelled"]},
    "logPath": STRING,
    "pid": nullable(STRING),
    "applicationId": nullable(STRING),
    "composeId": nullable(ID),
    "serverId": nullable(STRING),
    "isPreviewDeployment": nullable(BOOLEAN),
    "previewDeploymentId": nullable(STRING),
    "createdAt": TIMESTAMP,
    "startedAt": nullable(TIMESTAMP),
    "finishedAt": nullable(TIMESTAMP),
    "errorMessage": nullable(STRING),
    "scheduleId": nullable(STRING),
    "backupId": nullable(STRING),
    "rollbackId": nullable(STRING),
    "volumeBackupId": nullable(STRING),
    "buildServerId": nullable(STRING),
}
REGISTRY_PUBLIC: dict[str, Schema] = {
    "registryId": ID,
    "registryName": STRING,
    "imagePrefix": nullable(STRING),
    "username": STRING,
    "registryUrl": STRING,
    "createdAt": TIMESTAMP,
    "registryType": const("cloud"),
    "organizationId": ID,
}
REGISTRY = REGISTRY_PUBLIC | {"password": STRING}


def _services(compose_item: Schema) -> dict[str, Schema]:
    empty = {name: EMPTY_ARRAY for name in ("applications", "mariadb", "mongo", "mysql", "postgres", "redis")}
    return empty | {"compose": array(compose_item), "libsql": EMPTY_ARRAY}


_ENV_LISTING = obj(
    {"name": STRING, "environmentId": ID, "isDefault": BOOLEAN}
    | _services(obj({"composeId": ID, "name": STRING, "composeStatus": STATUS}))
)
_PROJECT_COMPOSE = obj(
    {
        "name": STRING,
        "description": nullable(STRING),
        "appName": STRING,
        "createdAt": TIMESTAMP,
        "serverId": nullable(STRING),
        "composeId": ID,
        "composeStatus": STATUS,
        "server": NULL,
    }
)
_ENV_ONE_COMPOSE = obj(
    {
        "composeId": ID,
        "name": STRING,
        "createdAt": TIMESTAMP,
        "composeStatus": STATUS,
        "description": nullable(STRING),
        "serverId": nullable(STRING),
        "icon": nullable(STRING),
        "server": NULL,
    }
)
_ENV_BY_PROJECT_COMPOSE = obj(
    {
        "name": STRING,
        "description": nullable(STRING),
        "appName": STRING,
        "createdAt": TIMESTAMP,
        "serverId": nullable(STRING),
        "composeId": ID,
        "composeStatus": STATUS,
        "icon": nullable(STRING),
        "server": NULL,
    }
)
_COMPOSE_RELATIONS: dict[str, Schema] = {
    "environment": obj(ENVIRONMENT | {"project": obj(PROJECT)}),
    "deployments": array(obj(DEPLOYMENT)),
    "mounts": ANY_ARRAY,
    "domains": array(obj(DOMAIN)),
    "github": NULL,
    "gitlab": NULL,
    "bitbucket": NULL,
    "gitea": NULL,
    "server": NULL,
    "backups": ANY_ARRAY,
}
_ENVIRONMENT_ONE: dict[str, Schema] = {
    "name": STRING,
    "description": nullable(STRING),
    "environmentId": ID,
    "isDefault": BOOLEAN,
    "projectId": ID,
    "env": STRING,
}


def _queued(message: str) -> Schema:
    return obj({"success": const(True), "message": const(message), "composeId": ID})


SUCCESS: dict[str, Schema] = {
    "project.create": obj(
        {
            "project": obj(PROJECT),
            "environment": obj(ENVIRONMENT | {"name": const("production"), "isDefault": const(True)}),
        }
    ),
    "project.all": array(obj(PROJECT | {"environments": array(_ENV_LISTING), "projectTags": ANY_ARRAY})),
    "project.one": obj(
        PROJECT | {"environments": array(obj(ENVIRONMENT | _services(_PROJECT_COMPOSE))), "projectTags": ANY_ARRAY}
    ),
    "project.update": obj(PROJECT),
    "project.remove": obj(PROJECT),
    "environment.create": obj(ENVIRONMENT),
    "environment.one": obj(_ENVIRONMENT_ONE | _services(_ENV_ONE_COMPOSE) | {"project": obj(PROJECT)}),
    "environment.byProjectId": array(
        obj(
            {k: _ENVIRONMENT_ONE[k] for k in ("name", "description", "environmentId", "isDefault")}
            | _services(_ENV_BY_PROJECT_COMPOSE)
            | {"project": obj(PROJECT)}
        )
    ),
    "environment.update": obj(ENVIRONMENT),
    "environment.remove": obj(ENVIRONMENT),
    "compose.create": obj(COMPOSE),
    "compose.one": obj(
        COMPOSE | _COMPOSE_RELATIONS | {"hasGitProviderAccess": BOOLEAN, "unauthorizedProvider": nullable(STRING)}
    ),
    "compose.update": obj(COMPOSE),  # an unknown id: 200 with an empty body, which has no schema
    "compose.saveEnvironment": const(True),
    "compose.delete": obj(COMPOSE | _COMPOSE_RELATIONS),
    "compose.deploy": _queued("Deployment queued"),
    "compose.redeploy": _queued("Redeployment queued"),
    "compose.stop": const(True),
    "compose.start": const(True),
    "domain.create": obj(DOMAIN),
    "domain.one": obj(DOMAIN | {"application": nullable({"type": "object"})}),
    "domain.update": obj(DOMAIN),
    "domain.delete": obj(DOMAIN),
    "domain.byComposeId": array(obj(DOMAIN | {"compose": obj({"composeId": ID, "appName": STRING, "name": STRING})})),
    "deployment.allByCompose": array(obj(DEPLOYMENT)),
    "deployment.all": array(obj(DEPLOYMENT)),
    "deployment.allByType": array(obj(DEPLOYMENT | {"rollback": NULL})),
    "deployment.queueList": array(QUEUE_JOB),
    "registry.create": obj(REGISTRY),
    "registry.all": array(obj(REGISTRY)),
    "registry.one": obj(REGISTRY_PUBLIC),
    "registry.update": const(True),
    "registry.remove": obj(REGISTRY),
    "registry.testRegistry": const(True),
    "settings.getDokployVersion": {"type": "string", "pattern": r"^v?\d+\.\d+\.\d+"},
    # better-auth's record of the new key, with the key itself shown this once
    "user.createApiKey": {
        "type": "object",
        "properties": {"id": STRING, "name": STRING, "start": STRING, "key": {"type": "string", "minLength": 32}},
        "required": ["id", "name", "start", "key"],
    },
    "user.deleteApiKey": const(True),
}

HEALTH: Schema = obj({"ok": const(True)})
# Before routing, for a missing, wrong or exhausted key: this body and nothing else.
UNAUTHORIZED: Schema = obj({"message": const("Unauthorized")})

_ISSUE: Schema = {
    "type": "object",
    "properties": {"code": STRING, "path": array({"type": ["string", "integer"]}), "message": STRING},
    "required": ["code", "path", "message"],
}
_ZOD_ERROR: Schema = obj(
    {
        "formErrors": array(STRING),
        "fieldErrors": {"type": "object", "additionalProperties": array(STRING)},
    }
)


def trpc_error(procedure: str | None, status: int) -> Schema:
    """A tRPC error answered by `procedure` (None: no procedure matched) with HTTP `status`."""
    data: dict[str, Schema] = {"code": STRING, "httpStatus": const(status)}
    if procedure is not None:
        data["path"] = const(procedure)
    data["zodError"] = nullable(_ZOD_ERROR)
    properties: dict[str, Schema] = {"message": STRING, "code": STRING, "data": obj(data)}
    schema = obj(properties)
    if status == 400:
        schema = {**schema, "properties": {**properties, "issues": array(_ISSUE)}}
    return schema
