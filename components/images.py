"""Which image each environment runs, and how it gets there.

- PR and staging (`ImagePolicy.BUILD`): CI builds and pushes `<repo>-<component>:<tag>` with
  docker/build-push-action (`build_plan` says exactly what, with the frontend's build argument), and the
  compose uses it by tag. The program builds only when asked to (`BuildOptions`), and then needs Docker.
- production (`VERIFY_DIGEST`): never built. The release tag vX.Y.Z must exist for both images; the
  program looks both up over the OCI distribution API *before registering anything* and the compose gets
  `<repo>-<component>@sha256:<digest>` only. A tag is not proof (any job with `packages: write` can move
  it), so each digest must also equal the one staging recorded in Vault when it released vX.Y.Z
  (`record_release`, under a path only staging's identity writes, once): a moved tag is refused.
- local (`LOCAL_TAG`): by tag, no registry check.
Where the images are built from (`AppSource`): this repository's `apps/` when it holds one (the Finance
Report monorepo), otherwise the Finance Report repository named by the workflows' `APP_REPOSITORY`/`APP_REF`
variables, checked out beside this one at `APP_CHECKOUT` (this program as a separate infrastructure repository).
`release_images` is the release step: the same manifests get the tag vX.Y.Z through the registry API.
"""

from __future__ import annotations

import os
import posixpath
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import pulumi

from components.environment import Environment, ImagePolicy, validate_image_tag
from components.oci import Credentials, ImageName, ManifestNotFound, RegistryClient
from components.plugins import require_plugin

COMPONENTS: tuple[str, ...] = ("backend", "frontend")
RELEASE_TAG = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_DIGEST_REF = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$")
APPS_DIR = "apps"  # the Finance Report repository keeps backend/ and frontend/ here
APP_CHECKOUT = ".app-source"  # where a workflow checks the Finance Report repository out when this one has no apps/
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")

# (image without tag, tag) -> digest of what the tag points to
Resolver = Callable[[str, str], str]


class ImagePolicyError(ValueError):
    """An image rule was broken; one line naming the image, the rule and the fix."""


class ImageBuildUnavailable(RuntimeError):
    """A stack was asked to build images where it cannot; says what is missing and the alternative."""


def build_args(env: Environment, component: str) -> dict[str, str]:
    # The frontend appends `/api/...` itself, so the API URL is the environment's origin (env.api_url).
    return {"NEXT_PUBLIC_API_URL": env.api_url} if component == "frontend" else {}


def image_name(env: Environment, component: str) -> str:
    if component not in COMPONENTS:
        raise ImagePolicyError(f"unknown image component {component!r}; expected one of {', '.join(COMPONENTS)}")
    return f"{env.image_repository}-{component}"


def is_digest_reference(ref: str) -> bool:
    """`registry/repo@sha256:<64 hex>` with no tag: the only form production's compose may use."""
    return bool(_DIGEST_REF.fullmatch(ref))


@dataclass(frozen=True)
class AppSource:
    """The Finance Report source the images are built from: this checkout, or the app repository beside it."""

    repository: str = ""  # owner/name to check out at APP_CHECKOUT; "" when this checkout holds apps/
    ref: str = ""  # its branch, tag or commit; "" its default branch

    @property
    def root(self) -> str:
        """The directory holding `apps/`, relative to the workspace."""
        return APP_CHECKOUT if self.repository else "."


def app_source(workspace: Path, repository: str | None = None, ref: str | None = None) -> AppSource:
    """This repository when it holds `apps/` (the monorepo); otherwise the repository the variables name."""
    if (workspace / APPS_DIR).is_dir():
        return AppSource()
    repository, ref = (repository or "").strip(), (ref or "").strip()
    if not repository:
        raise ImagePolicyError(
            f"this repository has no {APPS_DIR}/ to build images from; set the repository variable APP_REPOSITORY "
            "to the Finance Report repository (owner/name) and APP_REF to its branch or tag"
        )
    if not _GITHUB_REPOSITORY.fullmatch(repository):
        raise ImagePolicyError(
            f"APP_REPOSITORY={repository!r} is not a GitHub owner/name, e.g. wangzitian0/finance_report"
        )
    if ref and (not _GIT_REF.fullmatch(ref) or ".." in ref):
        raise ImagePolicyError(f"APP_REF={ref!r} is not a branch, tag or commit name; e.g. main or v1.2.3")
    return AppSource(repository=repository, ref=ref)


@dataclass(frozen=True)
class BuildSpec:
    component: str
    context: str  # relative to the workspace (the checkout the workflow builds in)
    tags: tuple[str, ...]  # full references to push
    build_args: Mapping[str, str]


# Why a stack whose image policy is not BUILD never builds (the end of build_plan's message).
_NEVER_BUILT: Mapping[ImagePolicy, str] = {
    ImagePolicy.VERIFY_DIGEST: "production runs the vX.Y.Z images staging released",
    ImagePolicy.LOCAL_TAG: "local uses local tags",
}


def build_plan(env: Environment, source: AppSource | None = None) -> tuple[BuildSpec, ...]:
    """What CI builds and pushes for this environment, from `source` (default: this checkout's apps/)."""
    if env.image_policy is not ImagePolicy.BUILD:
        raise ImagePolicyError(
            f"stack {env.stack} never builds images ({env.image_policy.value}); " + _NEVER_BUILT[env.image_policy]
        )
    tags = (env.image_tag, *env.floating_tags)
    return tuple(
        BuildSpec(
            component=c,
            context=posixpath.normpath(f"{(source or AppSource()).root}/{APPS_DIR}/{c}"),
            tags=tuple(f"{image_name(env, c)}:{t}" for t in tags),
            build_args=build_args(env, c),
        )
        for c in COMPONENTS
    )


# ---- release records: the digests staging released, kept in Vault ------------------------------------


class KvStore(Protocol):
    """What the release records need of Vault (components.vault.client.VaultClient)."""

    @property
    def address(self) -> str: ...

    def kv_read(self, mount: str, path: str) -> tuple[dict[str, str] | None, int]: ...

    def kv_write(self, mount: str, path: str, data: Mapping[str, str], cas: int) -> int: ...


class UnreleasedImage(ImagePolicyError):
    """Production asked for a digest staging never recorded for that version (a moved or forged tag)."""


@dataclass(frozen=True)
class ReleaseRecords:
    """`<mount>/finance_report/release/<version>` = {component: digest}: written once by staging's identity
    (its policy has create but not update there), read by production's. Nothing a PR job holds can write it."""

    store: KvStore
    mount: str = "secret"

    def where(self, version: str) -> str:
        from components.vault.authority import release_path

        return f"{self.mount}/{release_path(version)}"

    def read(self, version: str) -> dict[str, str] | None:
        from components.vault.authority import release_path

        return self.store.kv_read(self.mount, release_path(version))[0]

    def record(self, version: str, digests: Mapping[str, str]) -> None:
        """Record a release once. The same digests again is a no-op; other digests are refused."""
        from components.vault.authority import release_path

        if not RELEASE_TAG.fullmatch(version):
            raise ImagePolicyError(f"release version {version!r} is not vX.Y.Z; nothing was recorded")
        current = self.read(version)
        if current is not None:
            if current == dict(digests):
                return
            raise ImagePolicyError(
                f"release {version} is already recorded at {self.where(version)} with other digests; a release "
                "is never re-recorded (cut a new version)"
            )
        self.store.kv_write(self.mount, release_path(version), dict(digests), cas=0)  # cas=0: create only


def released_resolver(resolve: Resolver, records: ReleaseRecords) -> Resolver:
    """Production's resolver: the registry's digest for the tag, accepted only if staging recorded it."""

    def check(image: str, tag: str) -> str:
        digest = resolve(image, tag)
        component = image.rsplit("-", 1)[-1]
        recorded = (records.read(tag) or {}).get(component)
        if recorded is None:
            raise UnreleasedImage(
                f"{image}:{tag} was never released by staging (no {component} digest at {records.where(tag)}); "
                "deploy only a version staging's workflow released; nothing was changed"
            )
        if recorded != digest:
            raise UnreleasedImage(
                f"{image}:{tag} points to {digest}, but staging released {recorded} as {tag} "
                f"({records.where(tag)}): the tag was moved after the release; refusing it, nothing was changed"
            )
        return digest

    return check


def registry_resolver(credentials: Credentials | None = None, **client_kw: object) -> Resolver:
    """Resolve through the registry API; credentials default to the environment's read-only ones
    (Credentials.for_reading)."""

    def resolve(image: str, tag: str) -> str:
        name = ImageName.parse(image)
        creds = credentials or Credentials.for_reading(name.registry)
        with RegistryClient(name.registry, credentials=creds, **client_kw) as client:  # type: ignore[arg-type]
            return client.resolve(name.repository, tag)

    return resolve


@dataclass(frozen=True)
class ImageSet:
    refs: Mapping[str, str]  # component -> the reference the compose uses
    digests: Mapping[str, str]  # component -> sha256:... (production only)
    build_args: Mapping[str, Mapping[str, str]]


def resolve_images(env: Environment, resolver: Resolver | None = None) -> ImageSet:
    """The images this environment runs. For production this talks to the registry, and raises before any change."""
    validate_image_tag(env.kind, env.image_tag, env.pr_number)  # the model's rule and message, again at the edge
    args = {c: build_args(env, c) for c in COMPONENTS}
    if env.image_policy is not ImagePolicy.VERIFY_DIGEST:
        return ImageSet(refs={c: env.image(c) for c in COMPONENTS}, digests={}, build_args=args)
    resolve = resolver or registry_resolver()
    digests: dict[str, str] = {}
    missing: list[str] = []
    for c in COMPONENTS:
        try:
            digests[c] = resolve(image_name(env, c), env.image_tag)
        except ManifestNotFound:
            missing.append(f"{image_name(env, c)}:{env.image_tag}")
    if missing:
        raise ManifestNotFound(
            f"{env.stack} image {' and '.join(missing)} not found in the registry; deploy only a version "
            "staging released (its workflow tags the images vX.Y.Z); nothing was changed"
        )
    refs = {c: f"{image_name(env, c)}@{digests[c]}" for c in COMPONENTS}
    bad = [r for r in refs.values() if not is_digest_reference(r)]
    if bad:
        raise ImagePolicyError(f"production image references must be image@sha256:<digest>; got {', '.join(bad)}")
    return ImageSet(refs=refs, digests=digests, build_args=args)


def release_images(
    repository: str,
    source_tag: str,
    version: str,
    *,
    client: RegistryClient | None = None,
    components: tuple[str, ...] = COMPONENTS,
) -> dict[str, str]:
    """Tag `<repository>-<component>:<source_tag>` as `version` for every component, without rebuilding.

    Checks everything first (version form, both sources present, no release tag pointing elsewhere), so a
    failure tags nothing. Returns component -> digest (the same before and after). Idempotent.
    """
    if not RELEASE_TAG.fullmatch(version):
        raise ImagePolicyError(f"release version {version!r} is not vX.Y.Z (e.g. v1.0.45); nothing was tagged")
    name = ImageName.parse(f"{repository}-{components[0]}")
    own = client is None
    client = client or RegistryClient(name.registry, credentials=Credentials.for_pushing(name.registry))
    try:
        repos = {c: ImageName.parse(f"{repository}-{c}").repository for c in components}
        sources = {}
        for c, repo in repos.items():
            sources[c] = client.find_manifest(repo, source_tag)
        missing = [f"{repository}-{c}:{source_tag}" for c, m in sources.items() if m is None]
        if missing:
            raise ManifestNotFound(f"cannot release {version}: {' and '.join(missing)} not found; nothing was tagged")
        for c, repo in repos.items():
            existing = client.find_manifest(repo, version)
            source = sources[c]
            assert source is not None
            if existing is not None and existing.digest != source.digest:
                raise ImagePolicyError(
                    f"{repository}-{c}:{version} already points to {existing.digest}, not {source_tag}'s "
                    f"{source.digest}; a release tag is never moved (cut a new version); nothing was tagged"
                )
        return {c: client.retag(repo, source_tag, version) for c, repo in repos.items()}
    finally:
        if own:
            client.close()


# ---- building in Pulumi (opt-in) -------------------------------------------------------------------


def docker_endpoint() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def docker_reachable(endpoint: str | None = None, timeout: float = 2.0) -> bool:
    url = urlparse(endpoint or docker_endpoint())
    try:
        if url.scheme == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(url.path)
        elif url.scheme in ("tcp", "http", "https") and url.hostname:
            socket.create_connection((url.hostname, url.port or 2375), timeout=timeout).close()
        else:
            return False
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class BuildOptions:
    """Build in `pulumi up` instead of CI: needs a Docker daemon and the docker-build plugin."""

    context_root: str  # a checkout of the application repository
    push: bool = True


@dataclass(frozen=True)
class ImagesArgs:
    environment: Environment
    resolver: Resolver | None = None  # production's registry lookups; default: the OCI API with env credentials
    build: BuildOptions | None = None
    registry_credentials: Credentials | None = field(default=None, repr=False)  # for pushing when building


def _check_can_build(env: Environment, build: BuildOptions) -> None:
    if env.image_policy is not ImagePolicy.BUILD:
        raise ImagePolicyError(
            f"stack {env.stack} never builds images ({env.image_policy.value}); drop the build option"
        )
    plan = ", ".join(t for spec in build_plan(env) for t in spec.tags)
    if not docker_reachable():
        raise ImageBuildUnavailable(
            f"stack {env.stack} must build {plan} but no Docker daemon answers at {docker_endpoint()}; start "
            "Docker (or set DOCKER_HOST), or let CI build and push them and run without the build option"
        )
    require_plugin("docker-build", "pulumi_docker_build", f"building the images of stack {env.stack}")


class Images(pulumi.ComponentResource):
    """The images' references (by digest for production), their digests and build arguments."""

    refs: pulumi.Output[dict[str, str]]
    digests: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: ImagesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        env = args.environment
        # Everything that can fail does so here, before the component or any child is registered.
        images = resolve_images(env, args.resolver)
        if args.build is not None:
            _check_can_build(env, args.build)
        super().__init__("financeReport:images:Images", name, None, opts)
        if args.build is not None:
            self._build(name, env, args.build, args.registry_credentials)
        self.refs = pulumi.Output.from_input(dict(images.refs))
        self.digests = pulumi.Output.from_input(dict(images.digests))
        self.build_args = {c: dict(a) for c, a in images.build_args.items()}
        self.register_outputs({"refs": self.refs, "digests": self.digests, "build_args": self.build_args})

    def _build(self, name: str, env: Environment, build: BuildOptions, creds: Credentials | None) -> None:
        import pulumi_docker_build as docker_build

        registry = ImageName.parse(image_name(env, COMPONENTS[0])).registry
        creds = creds or Credentials.for_pushing(registry)
        registries = (
            [
                docker_build.RegistryArgs(
                    address=registry, username=creds.username, password=pulumi.Output.secret(creds.password)
                )
            ]
            if creds
            else None
        )
        for spec in build_plan(env):
            docker_build.Image(
                f"{name}-{spec.component}",
                context=docker_build.BuildContextArgs(location=f"{build.context_root}/{spec.context}"),
                tags=list(spec.tags),
                build_args=dict(spec.build_args),
                push=build.push,
                registries=registries,
                opts=pulumi.ResourceOptions(parent=self),
            )
