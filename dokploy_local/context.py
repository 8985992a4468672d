"""Who is calling and what they may touch: the owner key, or a member key limited to some projects.

Dokploy checks a member against its lists of accessible projects, environments and services
(`services/permission.ts`). Here a member key lists projects (by id, or by name for keys set up before the
project exists) and may use every environment and service inside them, as a member who was also given each
service it creates. Members cannot create or remove projects (Dokploy's default member role) nor use the
registry router (`adminProcedure`). Outside its projects a member gets Dokploy's answers: 401 UNAUTHORIZED for
projects and services, checked before existence, and 403 FORBIDDEN from `environment.one`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dokploy_local.errors import not_found, unauthorized

if TYPE_CHECKING:
    from dokploy_local.deploy_queue import DeployQueue
    from dokploy_local.knobs import KnobState
    from dokploy_local.store import Store

Row = dict[str, Any]


@dataclass(frozen=True)
class Principal:
    role: str  # "owner" or "member"
    projects: tuple[str, ...] = field(default=())

    @property
    def is_member(self) -> bool:
        return self.role == "member"


@dataclass
class Context:
    store: Store
    principal: Principal
    deploys: DeployQueue
    knobs: KnobState

    @property
    def organization_id(self) -> str:
        return self.store.organization_id

    def can_access_project(self, project: Row | None) -> bool:
        if project is None:
            return not self.principal.is_member
        if not self.principal.is_member:
            return True
        return project["projectId"] in self.principal.projects or project["name"] in self.principal.projects

    def project_of_environment(self, environment: Row) -> Row | None:
        return self.store.get("project", environment["projectId"])

    def project_of_compose(self, compose: Row) -> Row | None:
        environment = self.store.get("environment", compose["environmentId"])
        return self.project_of_environment(environment) if environment else None

    def require_project_access(self, project_id: str) -> None:
        """`findMemberByUserId(...).accessedProjects.includes(projectId)`: no existence check first."""
        if self.principal.is_member and not self.can_access_project(self.store.get("project", project_id)):
            raise unauthorized("You don't have access to this project")

    def require_service_access(self, compose_id: str) -> None:
        """`checkServiceAccess`: a member sees 401 for any compose outside its projects, even an unknown one."""
        if not self.principal.is_member:
            return
        compose = self.store.get("compose", compose_id)
        if compose is None or not self.can_access_project(self.project_of_compose(compose)):
            raise unauthorized("You don't have access to this service")

    def find_compose(self, compose_id: str) -> Row:
        compose = self.store.get("compose", compose_id)
        if compose is None:
            raise not_found("Compose not found")
        return compose

    def find_environment(self, environment_id: str) -> Row:
        environment = self.store.get("environment", environment_id)
        if environment is None:
            raise not_found("Environment not found")
        return environment

    def find_project(self, project_id: str) -> Row:
        project = self.store.get("project", project_id)
        if project is None:
            raise not_found("Project not found")
        return project

    def in_organization(self, project: Row | None) -> bool:
        """`project.update` accepts `organizationId`; a project moved away is another organisation's."""
        return project is not None and project["organizationId"] == self.organization_id
