"""GitHub environments, their deployment policies and variables, and `main`'s ruleset (pulumi-github).

Who owns what:
- the one long-lived owner stack (`env.owns_projects`: staging) owns the shared objects, protected:
  `main`'s ruleset (required checks, a reviewed pull request), the release tags' ruleset (only the release
  GitHub App may create, move or delete `v*` tags) and the environments `staging`, `production`,
  `production-readonly`, `staging-preview` (kept: it holds nothing), `pr-reaper` and `pr-admission`. It
  owns production's gate too because GitHub silently creates a missing environment, unprotected, the first
  time a job names it: the gate must exist before production's first run, and staging runs first.
- every stack owns its own variables (stack name, URL) in its environment(s);
- a PR stack owns `pr-<N>` and its variables, created by `pulumi up` and deleted by `pulumi destroy`.
No secret is ever written to GitHub: credentials come from Vault through OIDC at run time.

The gates, and why each (docs/security.md): a release tag starts production's plan and is what the
`production-readonly` and `production` environments admit, so who may create one is a gate. The tag
ruleset has exactly one bypass actor, the release GitHub App, whose private key is a secret of the
`staging` environment only (main's code); `staging.yml` mints the App's token to tag, and, because the
App is not GITHUB_TOKEN, its tag push does start `production.yml`. Everything that admits tags has
required reviewers.

`pulumi_github` is imported inside the component only, so a stack without GitHub never needs its plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components.environment import Environment
from components.plugins import require_plugin

if TYPE_CHECKING:
    import pulumi_github

# The CI job names `main` requires, exactly as `.github/workflows/ci.yml` names its jobs (the check
# context of a job is its `name:`, or its id without one). tests/github/test_required_checks.py keeps them equal.
REQUIRED_CHECKS: tuple[str, ...] = ("make test",)
# GitHub Actions' app id: a required check only counts when GitHub Actions reported it, so no other app
# (or a personal token's commit status) can satisfy it under the same name.
GITHUB_ACTIONS_APP_ID = 15368

MAIN_BRANCH = "main"
RELEASE_TAG_PATTERN = "v*.*.*"  # GitHub's fnmatch syntax; the program itself then insists on vX.Y.Z
RELEASE_TAG_REFS = "refs/tags/v*"  # the tag ruleset covers every v-tag, not only well-formed ones
MAIN_REVIEWS = 1  # approving reviews a pull request into main needs (the last pusher's excluded)
READONLY_ENVIRONMENT = "production-readonly"
PREVIEW_ENVIRONMENT = "staging-preview"
REAPER_ENVIRONMENT = "pr-reaper"
ADMISSION_ENVIRONMENT = "pr-admission"  # pr-target.yml admits each PR's Vault identity from main's code
STACK_VARIABLE = "PULUMI_STACK"  # vars.PULUMI_STACK in the workflows
URL_VARIABLE = "ENVIRONMENT_URL"  # vars.ENVIRONMENT_URL; the deploying job sets `environment.url` from it
MAX_REVIEWERS = 6  # GitHub's limit for required reviewers (users and teams together)
MAX_WAIT_TIMER_MINUTES = 43_200  # 30 days, GitHub's limit


class GithubConfigError(ValueError):
    """Bad GitHub settings; one line naming the setting and the fix. Raised before anything is registered."""


@dataclass(frozen=True)
class EnvironmentSpec:
    name: str
    branch_patterns: tuple[str, ...] = ()
    tag_patterns: tuple[str, ...] = ()
    reviewed: bool = False  # required reviewers, no self review, no admin bypass, optional wait timer
    shared: bool = False  # owned by the long-lived owner stack and protected from `pulumi destroy`


@dataclass(frozen=True)
class GithubPlan:
    """What one stack owns on GitHub; pure data, derived from the environment model only."""

    environments: tuple[EnvironmentSpec, ...]
    variables: tuple[tuple[str, str, str], ...]  # (environment, name, value)
    owns_main_protection: bool


def plan_for(env: Environment) -> GithubPlan:
    variables = ((STACK_VARIABLE, env.stack), (URL_VARIABLE, env.url))
    if env.github.own_environment:  # pr-<N>; the model already refuses a PR stack that claims ownership
        return GithubPlan(
            environments=(EnvironmentSpec(env.name),),
            variables=tuple((env.name, k, v) for k, v in variables),
            owns_main_protection=False,
        )
    if not env.github.supported:
        raise GithubConfigError(f"stack {env.stack} does not manage GitHub (managers.github is off)")
    # staging and production: variables in their own environment; production's also in the read-only
    # environment its preview and drift jobs run in.
    var_envs = (env.name, READONLY_ENVIRONMENT) if env.github.readonly_variables else (env.name,)
    gates: tuple[EnvironmentSpec, ...] = ()
    if env.owns_projects:
        gates = (
            EnvironmentSpec("staging", branch_patterns=(MAIN_BRANCH,), shared=True),
            EnvironmentSpec("production", tag_patterns=(RELEASE_TAG_PATTERN,), reviewed=True, shared=True),
            # Production's plan job runs on the release tag before approval, and drift runs from main. It
            # admits tags, so it is reviewed too: a tag alone never reaches production's KV or keys.
            EnvironmentSpec(
                READONLY_ENVIRONMENT,
                branch_patterns=(MAIN_BRANCH,),
                tag_patterns=(RELEASE_TAG_PATTERN,),
                reviewed=True,
                shared=True,
            ),
            # PR previews run on PR branches: no branch policy; its Vault role can only decrypt staging's state.
            EnvironmentSpec(PREVIEW_ENVIRONMENT, shared=True),
            # The reaper holds the only token that may delete pr-<N> environments: main's code only.
            EnvironmentSpec(REAPER_ENVIRONMENT, branch_patterns=(MAIN_BRANCH,), shared=True),
            # PR admission (pull_request_target, main's code): main only, so no PR-defined job gets its claim.
            EnvironmentSpec(ADMISSION_ENVIRONMENT, branch_patterns=(MAIN_BRANCH,), shared=True),
        )
    return GithubPlan(
        environments=gates,
        variables=tuple((e, k, v) for e in var_envs for k, v in variables),
        owns_main_protection=env.owns_projects,
    )


@dataclass(frozen=True)
class Reviewers:
    """Production's required reviewers: GitHub user logins or numeric ids, team ids or slugs."""

    users: tuple[int | str, ...] = ()
    teams: tuple[int | str, ...] = ()

    def validate(self, stack: str) -> None:
        count = len(self.users) + len(self.teams)
        if count == 0:
            raise GithubConfigError(
                "the production environment needs at least one required reviewer; set "
                "financeReport:productionReviewers on this stack ({users: [<GitHub login or id>], teams: [...]}), "
                f"e.g. `make init-stack STACK={stack} REVIEWERS=<login>`"
            )
        if count > MAX_REVIEWERS:
            raise GithubConfigError(f"{count} production reviewers given; GitHub allows at most {MAX_REVIEWERS}")


@dataclass(frozen=True)
class GithubArgs:
    environment: Environment
    owner: str
    repository: str
    token: pulumi.Input[str] | None = None  # None: the provider reads GITHUB_TOKEN from its environment
    reviewers: Reviewers = field(default_factory=Reviewers)
    wait_timer_minutes: int | None = None
    required_checks: tuple[str, ...] = REQUIRED_CHECKS
    # The release GitHub App (its numeric app id): the only actor that may create `v*` tags.
    release_app_id: int | None = None

    def validate(self, plan: GithubPlan) -> None:
        if not self.owner or not self.repository or "/" in self.repository:
            raise GithubConfigError(
                f"GitHub owner {self.owner!r} / repository {self.repository!r}: "
                "give both, the repository without its owner"
            )
        if any(spec.reviewed for spec in plan.environments):
            self.reviewers.validate(self.environment.stack)
        if self.wait_timer_minutes is not None and not 0 <= self.wait_timer_minutes <= MAX_WAIT_TIMER_MINUTES:
            raise GithubConfigError(
                f"wait timer {self.wait_timer_minutes} min is outside 0..{MAX_WAIT_TIMER_MINUTES} (GitHub's limit)"
            )
        if plan.owns_main_protection and not self.required_checks:
            raise GithubConfigError("main's protection needs at least one required CI check name")
        if plan.owns_main_protection and (not isinstance(self.release_app_id, int) or self.release_app_id <= 0):
            raise GithubConfigError(
                "the release tags' ruleset needs the release GitHub App's id: create the App (docs/security.md), "
                "then `pulumi config set financeReport:releaseAppId <app id>` on the owner stack"
            )


def preflight(args: GithubArgs) -> GithubPlan:
    """Every check that can fail, with no registration: call it before registering anything in the stack."""
    plan = plan_for(args.environment)
    args.validate(plan)
    require_plugin("github", "pulumi_github", f"stack {args.environment.stack} (GitHub environments)")
    return plan


class GithubRepository(pulumi.ComponentResource):
    """This stack's share of the repository's GitHub settings (see the module docstring for ownership)."""

    environment_names: pulumi.Output[list[str]]
    variable_names: pulumi.Output[list[str]]
    main_ruleset_id: pulumi.Output[str] | None
    tag_ruleset_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: GithubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plan = preflight(args)
        import pulumi_github as github

        super().__init__("financeReport:github:Repository", name, None, opts)
        self._github, self._args = github, args
        token = pulumi.Output.secret(args.token) if args.token is not None else None
        self._provider = github.Provider(
            f"{name}-provider", owner=args.owner, token=token, opts=pulumi.ResourceOptions(parent=self)
        )

        envs = {spec.name: self._environment(name, spec) for spec in plan.environments}
        variables = []
        for env_name, var, value in plan.variables:
            # Depend on our own environment resource when we own it, so destroy removes variables first.
            env_ref: pulumi.Input[str] = envs[env_name].environment if env_name in envs else env_name
            variables.append(
                github.ActionsEnvironmentVariable(
                    f"{name}-var-{env_name}-{var.lower()}",
                    repository=args.repository,
                    environment=env_ref,
                    variable_name=var,
                    value=value,
                    opts=self._child(),
                )
            )
        self.main_ruleset_id = self._main_ruleset(name).id if plan.owns_main_protection else None
        self.tag_ruleset_id = self._tag_ruleset(name).id if plan.owns_main_protection else None

        self.environment_names = pulumi.Output.all(*[e.environment for e in envs.values()]).apply(list)
        self.variable_names = pulumi.Output.all(*[v.variable_name for v in variables]).apply(list)
        self.register_outputs(
            {
                "environment_names": self.environment_names,
                "variable_names": self.variable_names,
                "main_ruleset_id": self.main_ruleset_id,
                "tag_ruleset_id": self.tag_ruleset_id,
            }
        )

    def _child(self, protect: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, protect=protect)

    def _environment(self, name: str, spec: EnvironmentSpec) -> pulumi_github.RepositoryEnvironment:
        github, args = self._github, self._args
        extra: dict[str, Any] = {}
        if spec.branch_patterns or spec.tag_patterns:
            # Custom policies: only refs matching the patterns below may deploy here.
            extra["deployment_branch_policy"] = github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                custom_branch_policies=True, protected_branches=False
            )
        if spec.shared:
            extra["can_admins_bypass"] = False
        if spec.reviewed:
            extra.update(
                reviewers=[self._reviewer_ids()],
                prevent_self_review=True,
                wait_timer=args.wait_timer_minutes,
            )
        env = github.RepositoryEnvironment(
            f"{name}-env-{spec.name}",
            repository=args.repository,
            environment=spec.name,
            opts=self._child(protect=spec.shared),
            **extra,
        )
        patterns = [("branch", p) for p in spec.branch_patterns] + [("tag", p) for p in spec.tag_patterns]
        for i, (kind, pattern) in enumerate(patterns):
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{name}-env-{spec.name}-{kind}-{i}",
                repository=args.repository,
                environment=env.environment,
                opts=self._child(protect=spec.shared),
                **{f"{kind}_pattern": pattern},
            )
        return env

    def _reviewer_ids(self) -> pulumi_github.RepositoryEnvironmentReviewerArgs:
        github, reviewers = self._github, self._args.reviewers
        invoke = pulumi.InvokeOutputOptions(provider=self._provider, parent=self)

        def user(ref: int | str) -> pulumi.Input[int]:
            if isinstance(ref, int):
                return ref
            return github.get_user_output(username=ref, opts=invoke).id.apply(int)

        def team(ref: int | str) -> pulumi.Input[int]:
            if isinstance(ref, int):
                return ref
            return github.get_team_output(slug=ref, opts=invoke).id.apply(int)

        return github.RepositoryEnvironmentReviewerArgs(
            users=[user(u) for u in reviewers.users] or None,
            teams=[team(t) for t in reviewers.teams] or None,
        )

    def _main_ruleset(self, name: str) -> pulumi_github.RepositoryRuleset:
        github, args = self._github, self._args
        checks = [
            github.RepositoryRulesetRulesRequiredStatusChecksRequiredCheckArgs(
                context=check, integration_id=GITHUB_ACTIONS_APP_ID
            )
            for check in args.required_checks
        ]
        return github.RepositoryRuleset(
            f"{name}-main-ruleset",
            repository=args.repository,
            name=f"{MAIN_BRANCH} (finance-report)",
            target="branch",
            enforcement="active",
            conditions=github.RepositoryRulesetConditionsArgs(
                ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                    includes=[f"refs/heads/{MAIN_BRANCH}"], excludes=[]
                )
            ),
            rules=github.RepositoryRulesetRulesArgs(
                deletion=True,
                non_fast_forward=True,
                required_status_checks=github.RepositoryRulesetRulesRequiredStatusChecksArgs(
                    required_checks=checks, strict_required_status_checks_policy=True
                ),
                # Nobody lands code on main alone: a writer's PR needs someone else's approval of its last push.
                pull_request=github.RepositoryRulesetRulesPullRequestArgs(
                    required_approving_review_count=MAIN_REVIEWS,
                    dismiss_stale_reviews_on_push=True,
                    require_last_push_approval=True,
                    require_code_owner_review=False,
                    required_review_thread_resolution=False,
                ),
            ),
            bypass_actors=[],  # no one, admins included
            opts=self._child(protect=True),
        )

    def _tag_ruleset(self, name: str) -> pulumi_github.RepositoryRuleset:
        github, args = self._github, self._args
        return github.RepositoryRuleset(
            f"{name}-release-tags-ruleset",
            repository=args.repository,
            name="release tags (finance-report)",
            target="tag",
            enforcement="active",
            conditions=github.RepositoryRulesetConditionsArgs(
                ref_name=github.RepositoryRulesetConditionsRefNameArgs(includes=[RELEASE_TAG_REFS], excludes=[])
            ),
            rules=github.RepositoryRulesetRulesArgs(creation=True, update=True, deletion=True, non_fast_forward=True),
            bypass_actors=[
                github.RepositoryRulesetBypassActorArgs(
                    actor_id=args.release_app_id, actor_type="Integration", bypass_mode="always"
                )
            ],
            opts=self._child(protect=True),
        )
