#!/usr/bin/env bash
# Puts the pinned Pulumi CLI, its Python language host and the Python helper scripts the engine runs
# into .tools/bin. An installed `pulumi` of exactly the pinned version is used as is; otherwise the
# tools are built from the Go module proxy once and cached outside the clone, keyed by everything
# that decides the build, so a second clone or a CI run reuses them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/tools/pulumi-build"
version=$(cat "$build/PULUMI_VERSION")
# The language host moved into its own module in v3.80, which the Go module proxy does not serve;
# v3.79.0 is the newest sdk/v3 release that carries it (see tools/pulumi-build/language-python/go.mod).
langhost_sdk=v3.79.0
bin="$root/.tools/bin"
mkdir -p "$bin"

if command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$bin/pulumi" ] \
   && [ "$(pulumi version 2>/dev/null)" = "v$version" ]; then
  echo "setup-pulumi: using installed $(command -v pulumi) (v$version)"
  ln -sf "$(command -v pulumi)" "$bin/pulumi"
  exit 0
fi

key=$(cat "$0" "$build"/cli/go.mod "$build"/cli/go.sum "$build"/cli/tools.go \
          "$build"/language-python/go.mod "$build"/language-python/go.sum "$build"/language-python/tools.go \
          "$build"/language-python-shim/go.mod "$build"/language-python-shim/go.sum "$build"/language-python-shim/main.go \
      | sha256sum | cut -c1-16)
cache="${FINANCE_REPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finance-report}/pulumi-$version-$key"

if [ ! -f "$cache/.complete" ]; then
  echo "setup-pulumi: building Pulumi v$version from the Go module proxy into $cache (first time only; ~10-20 min on 2 cores)"
  start=$(date +%s)
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  export GOFLAGS=-mod=mod CGO_ENABLED=0
  (cd "$build/cli" && go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$cache.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  (cd "$build/language-python" && go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$langhost_sdk" \
      -o "$cache.tmp/pulumi-language-python-host" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
  # Our front for that host: forwards everything to it and starts policy packs as current hosts do.
  (cd "$build/language-python-shim" && go build -trimpath -ldflags "-s -w" -o "$cache.tmp/pulumi-language-python" .)
  # The Python helper scripts come from the pinned version's own sources (sdk/v3@v$version);
  # pulumi-analyzer-policy-python was dropped from sdk/python/dist after v3.79, so it comes with the host.
  sdk_new=$(cd "$build/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  sdk_old=$(cd "$build/language-python" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  install -m 0755 "$sdk_new/python/cmd/pulumi-language-python-exec" "$cache.tmp/"
  install -m 0755 "$sdk_new/python/dist/pulumi-resource-pulumi-python" "$cache.tmp/"
  install -m 0755 "$sdk_old/python/dist/pulumi-analyzer-policy-python" "$cache.tmp/"
  echo "$(( $(date +%s) - start ))" > "$cache.tmp/.build-seconds"
  touch "$cache.tmp/.complete"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
  echo "setup-pulumi: built in $(cat "$cache/.build-seconds") s"
fi

for f in pulumi pulumi-language-python pulumi-language-python-host pulumi-language-python-exec pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
  ln -sf "$cache/$f" "$bin/$f"
done
echo "setup-pulumi: $("$bin/pulumi" version) at $bin/pulumi"
