"""Finance Report's policy pack: `pulumi preview --policy-pack policy` (CI runs it on every preview)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the program's own modules

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from components.environment import requires_digest_images
from policy.rules import compose_host_access, protection_violation, stack_of, unpinned_app_images

APP_IMAGE_PREFIX = "ghcr.io/"


def _protected_data(args: ResourceValidationArgs, report: ReportViolation) -> None:
    message = protection_violation(args.urn, args.resource_type, args.name, bool(args.opts.protect))
    if message:
        report(message, args.urn)


def _digest_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.endswith("dokploy:Compose") or not requires_digest_images(stack_of(args.urn)):
        return
    for ref in unpinned_app_images(args.props, APP_IMAGE_PREFIX):
        report(f"{args.name} runs {ref} by tag; production runs released images by digest only", args.urn)


def _compose_host_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for finding in compose_host_access(args.urn, args.resource_type, args.name, args.props):
        report(f"{args.name} asks for the host: {finding}", args.urn)


PolicyPack(
    name="finance-report",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="protected-data",
            description="Data-bearing Dokploy objects are protected wherever the environment model protects data.",
            validate=_protected_data,
        ),
        ResourceValidationPolicy(
            name="compose-host-access",
            description="Where the environment model enforces the compose policy, no compose asks for the host.",
            validate=_compose_host_access,
        ),
        ResourceValidationPolicy(
            name="digest-pinned-images",
            description="Environments that verify images run them by digest only.",
            validate=_digest_images,
        ),
    ],
)
