"""The dashboard's HTML: plain templates as functions, every value through `html.escape`.

No script and no external asset (the CSS is served by the dashboard itself), so the pages work offline and
under a strict Content-Security-Policy. Elements carry `data-*` attributes with ids and statuses, for the
browser tests and for anyone scripting against the page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from dokploy_local.dashboard_masking import env_pairs, mask_text

Row = dict[str, Any]
CSS_PATH = "/dashboard.css"
BANNER = (
    "This is the local Dokploy API imitation (dokploy_local), not Dokploy: the API calls are real and "
    "recorded here, but deployments are simulated. No container runs and nothing answers at the domains below."
)
# Reload while something deploys, so a person watching sees it finish; a static page otherwise.
REFRESH_SECONDS = 2


@dataclass(frozen=True)
class ComposeSummary:
    compose: Row
    latest: Row | None  # the newest deployment
    deployment_count: int
    domains: list[Row]
    queue: str | int | None  # "running", a 1-based queue place, or None


@dataclass(frozen=True)
class EnvironmentView:
    environment: Row
    composes: list[ComposeSummary]


@dataclass(frozen=True)
class ProjectView:
    project: Row
    environments: list[EnvironmentView]


@dataclass(frozen=True)
class ComposeDetail:
    compose: Row
    environment: Row
    project: Row
    deployments: list[Row]  # newest first
    domains: list[Row]
    queue: str | int | None


def h(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def stamp(value: str | None) -> str:
    """`2026-12-01T18:40:12.345Z` -> `2026-12-01 18:40:12 UTC` (plain text)."""
    if not value:
        return "—"
    return value.replace("T", " ").split(".")[0].removesuffix("Z") + " UTC"


def when(value: str | None) -> str:
    return h(stamp(value))


def took(row: Row) -> str:
    try:
        start = datetime.fromisoformat(str(row["startedAt"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(row["finishedAt"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return "—"
    return f"{(end - start).total_seconds():.1f} s"


def status(value: object) -> str:
    text = h(value or "—")
    return f'<span class="status status-{text}" data-status="{text}">{text}</span>'


def queue_note(queue: str | int | None) -> str:
    if queue is None:
        return ""
    if queue == "running":
        return ' <span class="queue" data-queue="running">deploying now</span>'
    return f' <span class="queue" data-queue="{h(queue)}">queued, place {h(queue)}</span>'


def compose_link(compose: Row) -> str:
    return f'<a href="/compose/{quote(str(compose["composeId"]), safe="")}">{h(compose["name"])}</a>'


def page(title: str, body: str, *, refresh: bool = False, nav: bool = True) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    menu = (
        '<nav><a href="/">Projects</a> <a href="/requests">Request log</a>'
        '<form method="post" action="/logout"><button type="submit">Log out</button></form></nav>'
        if nav
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{meta}<title>{h(title)} · local Dokploy</title><link rel="stylesheet" href="{CSS_PATH}"></head>'
        f'<body><header><h1>{h(title)}</h1>{menu}</header><p class="banner" id="simulated">{h(BANNER)}</p>'
        f"<main>{body}</main></body></html>"
    )


def table(head: Iterable[str], rows: Iterable[str], *, empty: str, cls: str = "") -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{h(empty)}</p>'
    header = "".join(f"<th>{h(c)}</th>" for c in head)
    return f'<table class="{cls}"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# pages


def overview(projects: list[ProjectView], counts: dict[str, int]) -> str:
    busy = counts.get("queued_jobs", 0) + counts.get("running_jobs", 0) > 0
    parts = [
        f'<p class="counts">{counts.get("projects", 0)} projects · {counts.get("environments", 0)} environments · '
        f"{counts.get('composes', 0)} composes · {counts.get('deployments', 0)} deployments · "
        f"{counts.get('queued_jobs', 0)} queued, {counts.get('running_jobs', 0)} deploying</p>"
    ]
    if not projects:
        parts.append('<p class="empty">No project yet: run <code>make up</code>.</p>')
    for view in projects:
        project = view.project
        parts.append(
            f'<section class="project" data-project-id="{h(project["projectId"])}"><h2>{h(project["name"])}</h2>'
            f'<p class="description">{h(project.get("description") or "")}</p>'
        )
        if not view.environments:
            parts.append('<p class="empty">No environment.</p>')
        for env_view in view.environments:
            env = env_view.environment
            rows = [_overview_row(s) for s in env_view.composes]
            parts.append(
                f'<section class="environment" data-environment-id="{h(env["environmentId"])}">'
                f"<h3>environment {h(env['name'])}</h3>"
                + table(
                    ("compose", "status", "latest deployment", "finished", "deployments", "domains"),
                    rows,
                    empty="No compose in this environment.",
                    cls="composes",
                )
                + "</section>"
            )
        parts.append("</section>")
    return page("Local Dokploy", "".join(parts), refresh=busy)


def _overview_row(summary: ComposeSummary) -> str:
    compose, latest = summary.compose, summary.latest
    hosts = sorted({f"{d['host']}{d.get('path') or '/'}" for d in summary.domains})
    deployment = (
        f'<span class="deployment" data-deployment-id="{h(latest["deploymentId"])}">{status(latest["status"])} '
        f"{h(latest.get('title'))} · started {when(latest.get('startedAt'))}</span>"
        if latest
        else '<span class="deployment">none yet</span>'
    )
    return (
        f'<tr class="compose" data-compose-id="{h(compose["composeId"])}" data-compose-name="{h(compose["name"])}">'
        f"<td>{compose_link(compose)}<br><small>{h(compose.get('appName'))}</small></td>"
        f"<td>{status(compose.get('composeStatus'))}{queue_note(summary.queue)}</td>"
        f"<td>{deployment}</td><td>{when(latest.get('finishedAt')) if latest else '—'}</td>"
        f"<td>{summary.deployment_count}</td>"
        f"<td>{'<br>'.join(h(x) for x in hosts) or '—'}</td></tr>"
    )


def compose(detail: ComposeDetail) -> str:
    c = detail.compose
    running = detail.queue is not None or any(d.get("status") == "running" for d in detail.deployments)
    crumbs = (
        f'<p class="crumbs"><a href="/">projects</a> &rsaquo; {h(detail.project.get("name"))} &rsaquo; '
        f"environment {h(detail.environment.get('name'))} &rsaquo; compose {h(c['name'])}</p>"
    )
    facts = (
        '<dl class="facts">'
        f"<dt>status</dt><dd>{status(c.get('composeStatus'))}{queue_note(detail.queue)}</dd>"
        f"<dt>appName</dt><dd><code>{h(c.get('appName'))}</code></dd>"
        f"<dt>type</dt><dd>{h(c.get('composeType'))}, source {h(c.get('sourceType'))}</dd>"
        f"<dt>id</dt><dd><code>{h(c['composeId'])}</code></dd>"
        f"<dt>created</dt><dd>{when(c.get('createdAt'))}</dd>"
        f"<dt>description</dt><dd>{h(c.get('description') or '—')}</dd></dl>"
    )
    deployments = "".join(_deployment(d, open_=i == 0) for i, d in enumerate(detail.deployments)) or (
        '<p class="empty">No deployment yet.</p>'
    )
    domain_rows = [
        f'<tr class="domain" data-domain-id="{h(d["domainId"])}"><td>{h(d.get("host"))}</td><td>{h(d.get("path"))}</td>'
        f"<td>{h(d.get('serviceName'))}:{h(d.get('port'))}</td>"
        f"<td>{'https' if d.get('https') else 'http'}, certificate {h(d.get('certificateType'))}</td>"
        f"<td>{'strip' if d.get('stripPath') else 'keep'}</td></tr>"
        for d in detail.domains
    ]
    env_rows = [
        f'<tr class="env{" masked" if hidden else ""}"><td><code>{h(name)}</code></td>'
        f"<td><code>{h(value)}</code></td></tr>"
        for name, value, hidden in env_pairs(c.get("env"))
    ]
    body = (
        crumbs
        + facts
        + f'<section id="deployments"><h2>Deployments ({len(detail.deployments)})</h2>{deployments}</section>'
        + '<section id="domains"><h2>Domains</h2>'
        + table(("host", "path", "service:port", "TLS", "path prefix"), domain_rows, empty="No domain.")
        + "</section>"
        + '<section id="compose-file"><h2>Compose file</h2>'
        + (f"<pre>{h(mask_text(c['composeFile']))}</pre>" if c.get("composeFile") else '<p class="empty">Empty.</p>')
        + '</section><section id="env"><h2>Environment</h2>'
        + table(("name", "value"), env_rows, empty="No variable.", cls="env")
        + '<p class="note">Secret values are hidden by name (tokens, passwords, keys) and in URLs.</p></section>'
    )
    return page(f"compose {c['name']}", body, refresh=running)


def _deployment(d: Row, *, open_: bool) -> str:
    return (
        f'<details class="deployment" data-deployment-id="{h(d["deploymentId"])}" data-status="{h(d.get("status"))}"'
        f"{' open' if open_ else ''}><summary>{status(d.get('status'))} {h(d.get('title'))} · "
        f"started {when(d.get('startedAt'))} · finished {when(d.get('finishedAt'))} · took {took(d)}</summary>"
        f'<pre class="log">{h(simulated_log(d))}</pre></details>'
    )


def simulated_log(d: Row) -> str:
    """What this server knows of a deployment's run, said as a log; Dokploy's would be the build output."""
    lines = [
        f"{stamp(d.get('createdAt'))}  deployment {d['deploymentId']} {d.get('title') or ''!s}".rstrip(),
        f"{stamp(d.get('startedAt'))}  started on the local Dokploy API imitation: simulated, no container is run",
    ]
    if d.get("description"):
        lines.append(f"{'':23}  description: {d['description']}")
    if d.get("finishedAt"):
        lines.append(f"{stamp(d.get('finishedAt'))}  finished: {d.get('status')}")
    else:
        lines.append(f"{'':23}  status: {d.get('status')}")
    lines.append(f"{'':23}  (Dokploy would write the build log to {d.get('logPath')})")
    return "\n".join(lines)


def requests(entries: list[Row], counters: dict[str, Any]) -> str:
    rows = [
        f'<tr class="request" data-seq="{h(e.get("seq"))}"><td>{h(e.get("seq"))}</td>'
        f"<td>{h(datetime.fromtimestamp(float(e.get('time') or 0)).strftime('%H:%M:%S'))}</td>"
        f"<td>{h(e.get('method'))}</td><td><code>{h(e.get('procedure') or e.get('path'))}</code></td>"
        f"<td>{h(e.get('principal') or '—')}</td><td>{h(e.get('status'))}</td><td>{h(e.get('outcome'))}</td>"
        f"<td>{h(e.get('duration_ms'))}</td></tr>"
        for e in reversed(entries)
    ]
    summary = (
        f'<p class="counts">{h(counters.get("total", 0))} calls since the server started: '
        f"{h(counters.get('reads', 0))} reads, {h(counters.get('writes', 0))} writes, "
        f"{h(counters.get('unmatched', 0))} unmatched. Newest first; inputs are not shown (they carry env values).</p>"
    )
    body = summary + table(
        ("#", "time", "method", "procedure", "caller", "status", "outcome", "ms"),
        rows,
        empty="No API call yet.",
        cls="requests",
    )
    return page("Request log", body)


def login(next_path: str, *, error: str | None) -> str:
    problem = f'<p class="error" role="alert">{h(error)}</p>' if error else ""
    body = (
        f'{problem}<form method="post" action="/login" class="login">'
        '<label for="key">Owner API key</label>'
        '<input id="key" name="key" type="password" autocomplete="off" required autofocus>'
        f'<input type="hidden" name="next" value="{h(next_path)}">'
        '<button type="submit">Open the dashboard</button></form>'
        "<p>The dashboard is behind the same key as the API. For <code>make up</code>'s server it is in "
        "<code>.local/dokploy/api-key</code> (<code>cat .local/dokploy/api-key</code>). The session lasts 12 hours.</p>"
    )
    return page("Local Dokploy: log in", body, nav=False)


def not_found(message: str) -> str:
    return page("Not found", f'<p class="empty">{h(message)}</p>')


CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 78rem; padding: 0 1rem 3rem; color: #1d2430; }
header { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
nav { display: flex; gap: 1rem; align-items: baseline; }
nav form { display: inline; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; } h3 { font-size: 1rem; }
.banner { background: #fff6dd; border: 1px solid #e8cf7a; padding: .5rem .75rem; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #f4f6f8; font-weight: 600; }
code, pre { font: 12.5px/1.4 ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .6rem .8rem; overflow-x: auto; border-radius: 4px; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 3px; background: #e3e6eb; font-weight: 600; }
.status-done { background: #d5f0dc; color: #145c2c; } .status-error { background: #f8d7da; color: #842029; }
.status-running { background: #fff0c2; color: #6b4e00; } .status-cancelled { background: #eee; color: #555; }
.queue { color: #6b4e00; } .empty, .note, .description, small { color: #5f6b7a; }
.project { border-top: 2px solid #c9d1db; margin-top: 1.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { color: #5f6b7a; } dl.facts dd { margin: 0; }
details.deployment { margin: .3rem 0; } details.deployment summary { cursor: pointer; }
.login { display: grid; gap: .5rem; max-width: 26rem; } .error { color: #842029; font-weight: 600; }
input, button { font: inherit; padding: .3rem .5rem; }
"""
