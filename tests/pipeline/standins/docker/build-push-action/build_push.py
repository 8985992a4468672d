"""STAND-IN for docker/build-push-action (see action.yml): an OCI image of the context, pushed with skopeo."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def blob(layout: Path, data: bytes, media_type: str) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def context_layer(context: Path) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in context.rglob("*") if p.is_file() and ".git" not in p.parts):
            info = tar.gettarinfo(str(path), arcname=f"app/{path.relative_to(context)}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    return raw.getvalue()


def main() -> int:
    env = os.environ
    context = Path(env["INPUT_CONTEXT"] or ".")
    tags = [t.strip() for t in env["INPUT_TAGS"].replace(",", "\n").splitlines() if t.strip()]
    args = [a.strip() for a in env["INPUT_BUILD_ARGS"].splitlines() if a.strip()]
    if not context.is_dir():
        print(f"::error::build-push stand-in: unable to prepare context: path {str(context)!r} not found")
        return 1
    if not tags:
        print("::error::build-push stand-in: no tags to build")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        layout = Path(tmp) / "oci"
        (layout / "blobs" / "sha256").mkdir(parents=True)
        (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        tar = context_layer(context)
        layer = blob(layout, gzip.compress(tar, mtime=0), LAYER)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": args,
                "Labels": {"org.opencontainers.image.revision": env.get("GITHUB_SHA", "")},
                "WorkingDir": "/app",
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        }
        cfg = blob(layout, json.dumps(config, sort_keys=True).encode(), CONFIG)
        manifest = blob(
            layout,
            json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "config": cfg, "layers": [layer]}).encode(),
            MANIFEST,
        )
        (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest]}))
        if env.get("INPUT_PUSH") != "true":
            print(f"built {manifest['digest']} (not pushed)")
        else:
            auth = ["--authfile", env["REGISTRY_AUTH_FILE"]] if env.get("REGISTRY_AUTH_FILE") else []
            for tag in tags:
                proc = subprocess.run(
                    ["skopeo", "--insecure-policy", "copy", "--quiet", *auth, f"oci:{layout}", f"docker://{tag}"],
                    capture_output=True,
                    text=True,
                )
                if proc.returncode != 0:
                    print(f"::error::build-push stand-in: push of {tag} failed: {proc.stderr.strip()}")
                    return 1
                print(f"pushed {tag} = {manifest['digest']} (stand-in)")
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
        fh.write(f"digest={manifest['digest']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
