#!/usr/bin/env bash
# `make preview`: is the stack what the program says? `pulumi preview --refresh --expect-no-changes` reads every
# object first, so a change made by hand on Dokploy or in Vault shows as a diff (plain `up` trusts the state).
# When it is only that, one line says so and how to put it back.
#   drift-preview.sh STACK [pulumi args...]     (pulumi and the stack's credentials already set up)
set -uo pipefail
stack=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pulumi preview --stack "$stack" --refresh --expect-no-changes "$@" 2>&1 | tee "$out"
code=${PIPESTATUS[0]}
if [ "$code" != 0 ] && grep -q "no changes were expected" "$out"; then
  echo "make preview: stack $stack differs from the program (changed by hand?); \`make up STACK=$stack REFRESH=1\` puts it back" >&2
fi
exit "$code"
