#!/usr/bin/env bash
# Debian's PostgreSQL server and client, for the restore drill (tests/data, ops/scratch_postgres.py starts a
# throwaway cluster as the `postgres` user). The Debian package creates that user; no cluster is started.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  # No system cluster listening on the fixed port 5432: the tests start their own on free ports.
  mkdir -p /etc/postgresql-common
  grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
    echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
  bash "$(dirname "$0")/../apt-install.sh" postgresql
fi
