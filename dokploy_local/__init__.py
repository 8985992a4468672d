"""A local Dokploy v0.30.x API server: Dokploy's HTTP API as the real server answers it, on one machine.

Start it with `python -m dokploy_local --port N --data DIR --api-key KEY` (it prints its URL when ready), or
from tests with `dokploy_local.testing.running_server(...)`. Sources of truth, in order:
what a running v0.30.2 did (the team's reference notes; the behaviours and their tests are listed in
components/dokploy/README.md), Dokploy's source, then its OpenAPI document for request schemas (vendored in
vendor/dokploy/openapi.json, extracted to `schemas/requests.json`).

Modules: `http_server` (the request pipeline), `app` (state, routing, one call), `validation` (zod semantics),
`procedures/` (one module per Dokploy router), `views`/`rows` (response shapes and defaults), `store`
(SQLite), `deploy_queue` (deployments), `knobs` (faults), `request_log`, `control` (the `/__local/` API),
`seed`, `schemas/` (our response schemas and `check_response`), `testing` (the subprocess handle).

Where the references are silent we mimic Dokploy's code paths, and say so here:

- Foreign-key failures carry Postgres's message (`insert or update on table "domain" violates foreign key
  constraint "domain_composeId_compose_composeId_fk"`), wrapped as each router wraps errors (400 for
  `domain.create` and `environment.create`, an unhandled 500 for `compose.update` and `environment.update`
  moves).
- Member keys: access by project (all environments and services inside); project create/remove refused with
  "Permission denied"; registry calls refused by `adminProcedure` (401 `UNAUTHORIZED`). See `context`.
- `compose.create` with a `serverId` answers 401 "You are not authorized to access this server": no remote
  server exists here. Applications and databases are not emulated: `deployment.all` answers 404
  "Application not found", and the 560-odd other procedures answer the unknown-procedure 404.
- `domain.one` returns the plain row (observed), not the `application` relation the source suggests.
- A compose keeps at most 11 deployment rows right after a job starts (`removeLastTenDeployments` prunes to 10
  before inserting); a restart marks `running` deployments `cancelled` and leaves `composeStatus` alone.
- Trailing slashes get Next.js's 308 redirect; `Referrer-Policy` is `strict-origin-when-cross-origin` (the
  observed header's value was not recorded); bodies over 1 MB get Next's plain-text 413.
- docker login (`registry.*`) is not run: logins succeed unless the `registry_login_error` knob is set; the
  host[:port] message for a bad `registryUrl` is ours.
- Deployments run nothing: they take `deploy_duration_ms` and end `done` (or the `deploy_outcome` knob).
"""
