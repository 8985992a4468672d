#!/usr/bin/env bash
# versitygw, a real S3-compatible server (posix gateway: buckets are directories), for the tests of the
# S3 state backend (tests/state). `make up` never installs it. The fixtures start it on loopback
# (tests/support/s3.py).
set -euo pipefail
bash "$(dirname "$0")/../go-tool.sh" versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
