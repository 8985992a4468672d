"""Which Dokploy versions the provider accepts: the one place that says so (components/dokploy/README.md explains).

- Refused: before v0.25.0 (no environments, which every resource here needs) and v0.28.0 (it served the API at
  slash paths, `/api/project/one`).
- Accepted: v0.25.0 up to the newest minor version this provider knows (`NEWEST_KNOWN`, v0.31.x), whose API
  differences it handles (a 1 MB body limit with 413 from v0.30.3, `freshVolumes` from v0.30.5, which is never
  sent). v0.30.2 is the version the provider and the contract suite were run against on a real server.
- Newer minor versions of v0 (v0.32.0 and later): accepted **with a warning** naming `make contract`. Dokploy ships
  a release every week or two and has kept its REST surface additive; refusing would block security updates for
  every user until this file changes, while the warning says exactly how to check the server first. A change of
  major version (v1 and later) is a stated break and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.dokploy.errors import UnsupportedVersionError

Version = tuple[int, int, int]

MIN_VERSION: Version = (0, 25, 0)
REFUSED: dict[Version, str] = {
    (0, 28, 0): "v0.28.0 served the API at slash paths (/api/project/one); upgrade to v0.28.1 or later"
}
NEWEST_KNOWN: tuple[int, int] = (0, 31)  # the newest minor version whose API changes are handled here
CHECKED_ON_A_REAL_SERVER = "v0.30.2"
PROCEDURE = "settings.getDokployVersion"
SUPPORTED = "v0.25.0 and later except v0.28.0"


@dataclass(frozen=True)
class Verdict:
    version: str  # normalised, e.g. "v0.30.2"
    warning: str | None = None  # set when the version is accepted but newer than what this provider knows


def parse(raw: Any) -> Version:
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(raw).strip())
    if not match:
        raise UnsupportedVersionError(
            f"Dokploy reported version {str(raw)[:40]!r}, which is not vX.Y.Z; this provider supports {SUPPORTED}",
            procedure=PROCEDURE,
        )
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def judge(raw: Any) -> Verdict:
    """The verdict on the version `settings.getDokployVersion` answered, or UnsupportedVersionError saying why."""
    version = parse(raw)
    text = "v{}.{}.{}".format(*version)
    if version < MIN_VERSION:
        raise UnsupportedVersionError(
            f"Dokploy {text} is not supported: environments arrived in v0.25.0 and this provider needs them; "
            f"upgrade Dokploy to v0.25.0 or later ({CHECKED_ON_A_REAL_SERVER} is what it was checked against)",
            procedure=PROCEDURE,
        )
    if version in REFUSED:
        raise UnsupportedVersionError(f"Dokploy {text} is not supported: {REFUSED[version]}", procedure=PROCEDURE)
    if version[0] > NEWEST_KNOWN[0]:
        raise UnsupportedVersionError(
            f"Dokploy {text} is a new major version, which this provider does not know (it knows up to "
            f"v{NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]}.x); run `make contract DOKPLOY_URL=... DOKPLOY_API_KEY=...` "
            "against it and update components/dokploy/versions.py",
            procedure=PROCEDURE,
        )
    if version[:2] > NEWEST_KNOWN:
        return Verdict(
            text,
            f"Dokploy {text} is newer than the newest version this provider knows "
            f"(v{NEWEST_KNOWN[0]}.{NEWEST_KNOWN[1]}.x); carrying on, but check it first with "
            "`make contract DOKPLOY_URL=... DOKPLOY_API_KEY=...` (see components/dokploy/README.md)",
        )
    return Verdict(text)
