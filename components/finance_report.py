"""The FinanceReport component: one environment of Finance Report on Dokploy, wired from the model.

Dependency injection: it reads no stack name and no config. It gets the environment model and what the
lower components produced - the image references to run (`components.images.Images`), each service's
Vault token (`components.vault.component.VaultSecrets`) and, for a stack that does not own the shared
Dokploy projects, the id of the project its environment lives in - and creates, on Dokploy:

    [owner stacks] the shared projects finance_report and finance_report-preview (protected)
    the stack's environment (production: the project's default environment, adopted)
    one compose per service (postgres, redis: docker-compose; app: stack; pr-<N>: one docker-compose)
    the app's two domains on one host (api -> backend:8000, web -> frontend:3000)
    one deployment per compose; app's compose and deployment come after postgres' and redis' deployments

A compose's Dokploy env holds what the Vault component says its vault-agent needs: nothing on staging,
production and local (their agents read a host-issued AppRole secret_id), a PR's own token on pr-<N>.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi

from components import dokploy
from components.compose import Images, domains, plan
from components.environment import Environment

DATA_SERVICES = ("postgres", "redis")


class ImageRefs(Protocol):
    """What FinanceReport needs of the images component: component -> reference (tag or digest)."""

    refs: pulumi.Output[dict[str, str]]


class ServiceTokens(Protocol):
    """What FinanceReport needs of the Vault component: service -> its compose's Dokploy env (secret values)."""

    agent_env: dict[str, dict[str, pulumi.Output[str]]]


@dataclass(frozen=True)
class FinanceReportArgs:
    env: Environment
    images: ImageRefs
    vault: ServiceTokens
    # Non-owner stacks: the id of the project their environment lives in (the program looks it up).
    project_id: pulumi.Input[str] | None = None


def _images(refs: Mapping[str, str]) -> Images:
    return Images(backend=refs["backend"], frontend=refs["frontend"])


class FinanceReport(pulumi.ComponentResource):
    url: str
    api_url: str
    project_id: pulumi.Output[str]
    environment_id: pulumi.Output[str]
    compose_ids: dict[str, pulumi.Output[str]]
    domain_ids: dict[str, pulumi.Output[str]]
    deployment_ids: dict[str, pulumi.Output[str]]
    images: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: FinanceReportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        env = args.env
        if env.owns_projects == (args.project_id is not None):
            raise ValueError(
                f"stack {env.stack}: an owner stack creates the shared projects and takes no project_id; "
                "every other stack needs one"
            )
        missing = [s for s in env.services if s not in args.vault.agent_env]
        if missing:
            raise ValueError(f"no vault-agent env for service(s) {missing} of {env.name}")
        super().__init__("financeReport:index:FinanceReport", name, None, opts)
        self.env = env

        self.projects = {
            p: dokploy.Project(
                p,
                name=p,
                description="Finance Report (shared by every stack; owned by this one)",
                adopt_id=env.adoption.project(p),
                opts=self._child(protect=env.protect_data),
            )
            for p in env.shared_projects
        }
        project_id = self.projects[env.dokploy_project].project_id if env.owns_projects else args.project_id
        assert project_id is not None
        self.environment = dokploy.Environment(
            f"{env.name}-environment",
            project_id=project_id,
            name=None if env.adopt_default_environment else env.dokploy_environment,
            description=None if env.adopt_default_environment else f"Finance Report {env.name}",
            adopt_default=env.adopt_default_environment,
            adopt_id=env.adoption.environment,
            opts=self._child(protect=env.protect_data),
        )

        texts = args.images.refs.apply(lambda refs: {f.name: f.text for f in plan(env, _images(refs))})
        files = plan(env, Images("backend", "frontend"))  # names and types only: they never depend on images
        self.composes: dict[str, dokploy.Compose] = {}
        self.deployments: dict[str, dokploy.ComposeDeployment] = {}
        self.domains: dict[str, dokploy.Domain] = {}
        for f in files:
            data = f.name in DATA_SERVICES
            after = [] if data else [self.deployments[s] for s in DATA_SERVICES if s in self.deployments]
            compose = dokploy.Compose(
                f"{env.name}-{f.name}",
                environment_id=self.environment.environment_id,
                name=f.name,
                description=f"Finance Report {env.name}: {f.name}",
                compose_file=texts[f.name],
                compose_type=f.compose_type,
                env=args.vault.agent_env[f.name],
                app_name=env.compose_app_name(f.name),
                delete_volumes=env.delete_volumes_on_destroy,
                adopt_id=env.adoption.compose(f.name),
                opts=self._child(protect=env.protect_data and data, depends_on=after),
            )
            routed = []
            for spec in domains(env):
                if spec.compose != f.name:
                    continue
                routed.append(
                    dokploy.Domain(
                        f"{env.name}-{spec.key}",
                        compose_id=compose.id,
                        host=spec.host,
                        port=spec.port,
                        service_name=spec.service_name,
                        path=spec.path,
                        strip_path=spec.strip_path,
                        https=spec.https,
                        certificate_type=spec.certificate_type,
                        adopt_id=env.adoption.domain(spec.key),
                        opts=self._child(),
                    )
                )
                self.domains[spec.key] = routed[-1]
            self.composes[f.name] = compose
            self.deployments[f.name] = dokploy.ComposeDeployment.of(
                f"{env.name}-{f.name}-deploy",
                compose,
                routed,
                timeout_seconds=env.deploy_timeout_seconds,
                opts=self._child(depends_on=after),
            )

        self.url = env.url
        self.api_url = env.api_url
        self.project_id = pulumi.Output.from_input(project_id)
        self.environment_id = self.environment.environment_id
        self.compose_ids = {n: c.compose_id for n, c in self.composes.items()}
        self.domain_ids = {k: d.domain_id for k, d in self.domains.items()}
        self.deployment_ids = {n: d.deployment_id for n, d in self.deployments.items()}
        self.images = args.images.refs
        self.register_outputs(
            {
                "url": self.url,
                "api_url": self.api_url,
                "project_id": self.project_id,
                "environment_id": self.environment_id,
                "compose_ids": self.compose_ids,
                "domain_ids": self.domain_ids,
                "images": self.images,
            }
        )

    def _child(self, *, protect: bool = False, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, protect=protect, depends_on=list(depends_on))

    def outputs(self) -> dict[str, object]:
        """What the stack exports: URL, API URL, Dokploy ids, image references."""
        out: dict[str, object] = {
            "url": self.url,
            "api_url": self.api_url,
            "dokploy": {
                "project_id": self.project_id,
                "environment_id": self.environment_id,
                "compose_ids": self.compose_ids,
                "domain_ids": self.domain_ids,
                "deployment_ids": self.deployment_ids,
            },
            "images": self.images,
        }
        if self.projects:
            out["shared_project_ids"] = {p: r.project_id for p, r in self.projects.items()}
        return out
