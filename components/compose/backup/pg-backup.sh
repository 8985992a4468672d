#!/bin/sh
# pg-backup.sh: the one PostgreSQL backup and restore of Finance Report (docs/data.md).
#
#   pg-backup.sh backup           pg_dump --format=custom, check it reads back, upload, keep the newest $BACKUP_KEEP
#   pg-backup.sh restore [KEY]    download KEY (default: the newest) and pg_restore it over $PGDATABASE
#   pg-backup.sh list             the dumps under $BACKUP_PREFIX, oldest first
#
# The postgres compose's `backup` service runs it from cron; the restore drill (tests/data, `make
# restore-drill`) runs this same file. POSIX sh + pg_dump/pg_restore + curl (--aws-sigv4), nothing else.
#
# Input, all from the environment (libpq's PG* for the database):
#   BACKUP_SECRETS_FILE   optional: a `KEY='value'` file to load first (the vault-agent's /secrets/.env)
#   BACKUP_S3_ENDPOINT BACKUP_S3_BUCKET BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY [BACKUP_S3_REGION]
#   BACKUP_PREFIX         e.g. production/postgres;  BACKUP_KEEP: dumps kept (default 7)
#   PGHOST PGPORT PGUSER PGDATABASE, and PGPASSWORD or POSTGRES_PASSWORD
# The S3 keys reach curl on its stdin as a config file (`-K -`), never as arguments: no `ps` shows them.
set -eu

if [ -n "${BACKUP_SECRETS_FILE:-}" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$BACKUP_SECRETS_FILE"
  set +a
fi
for v in BACKUP_S3_ENDPOINT BACKUP_S3_BUCKET BACKUP_S3_ACCESS_KEY BACKUP_S3_SECRET_KEY BACKUP_PREFIX PGDATABASE; do
  eval "val=\${$v:-}"
  if [ -z "$val" ]; then
    echo "pg-backup: $v is not set; put it in Vault (docs/data.md) or the environment" >&2
    exit 2
  fi
done
if [ -z "${PGPASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD:-}" ]; then
  PGPASSWORD=$POSTGRES_PASSWORD
  export PGPASSWORD
fi
region=${BACKUP_S3_REGION:-us-east-1}
keep=${BACKUP_KEEP:-7}
prefix=${BACKUP_PREFIX%/}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# s3 METHOD PATH [curl args...]: one signed request to $BACKUP_S3_ENDPOINT/$BACKUP_S3_BUCKET/PATH.
s3() {
  method=$1
  path=$2
  shift 2
  printf '%s:%s' "$BACKUP_S3_ACCESS_KEY" "$BACKUP_S3_SECRET_KEY" | sed 's/[\\"]/\\&/g; s/^/user = "/; s/$/"/' |
    curl -K - --fail-with-body -sS --retry 3 --aws-sigv4 "aws:amz:$region:s3" \
      -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X "$method" "$@" \
      "${BACKUP_S3_ENDPOINT%/}/$BACKUP_S3_BUCKET/$path"
}

# The dump keys under the prefix, oldest first (their names are UTC timestamps).
list() {
  encoded=$(printf '%s/' "$prefix" | sed 's|/|%2F|g')
  s3 GET "?list-type=2&prefix=$encoded" -o "$work/list.xml"
  grep -o '<Key>[^<]*</Key>' "$work/list.xml" | sed 's|<Key>||; s|</Key>||' | grep '\.dump$' | sort || true
}

backup() {
  key="$prefix/$(date -u +%Y%m%dT%H%M%SZ).dump"
  pg_dump --format=custom --no-owner --file="$work/db.dump"
  pg_restore --list "$work/db.dump" >/dev/null # a dump that does not read back is never uploaded
  s3 PUT "$key" -T "$work/db.dump" -o /dev/null
  echo "pg-backup: uploaded $key ($(wc -c <"$work/db.dump") bytes)"
  list >"$work/keys"
  total=$(wc -l <"$work/keys")
  if [ "$total" -gt "$keep" ]; then
    head -n "$((total - keep))" "$work/keys" | while read -r old; do
      s3 DELETE "$old" -o /dev/null
      echo "pg-backup: removed $old (keeping the newest $keep)"
    done
  fi
}

restore() {
  key=${1:-}
  if [ -z "$key" ] || [ "$key" = latest ]; then
    key=$(list | tail -n 1)
    if [ -z "$key" ]; then
      echo "pg-backup: no dump under $prefix/ in bucket $BACKUP_S3_BUCKET; run a backup first" >&2
      exit 1
    fi
  fi
  s3 GET "$key" -o "$work/db.dump"
  pg_restore --list "$work/db.dump" >/dev/null
  pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction --dbname="$PGDATABASE" "$work/db.dump"
  echo "pg-backup: restored $key into $PGDATABASE"
}

case "${1:-}" in
  backup) backup ;;
  restore) restore "${2:-}" ;;
  list) list ;;
  *)
    echo "usage: pg-backup.sh backup | restore [KEY|latest] | list" >&2
    exit 2
    ;;
esac
