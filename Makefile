# The two commands that are the contract: `make up` (the local stack, end to end) and `make test`.
SHELL := /bin/bash
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
TOOLS := $(ROOT)/.tools/bin
export PATH := $(TOOLS):$(VENV)/bin:$(PATH)
export PULUMI_BACKEND_URL ?= file://$(ROOT)/.pulumi-state
# The local stack's passphrase is not a secret: it only guards the embedded, throwaway `local` stack.
export PULUMI_CONFIG_PASSPHRASE ?= finance-report-local
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PULUMI_HOME ?= $(ROOT)/.tools/pulumi-home

.PHONY: setup test-setup venv pulumi up preview destroy down test lint typecheck lock bootstrap-vault migrate-state contract env shell init-stack restore-drill bench

# The stack `make up`, `make preview` and `make destroy` act on: `local`, or a PR environment on the same
# local servers (`make up STACK=pr-7`).
STACK ?= local

# What `make up` needs: the virtualenv and the Pulumi CLI. Nothing test-only.
setup: venv pulumi
	@mkdir -p .pulumi-state

# What only the tests need; `make test` runs it.
test-setup: setup
	@bash scripts/test-setup.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.lock
	touch $@

pulumi:
	@bash scripts/setup-pulumi.sh

# requirements.lock (make setup) and requirements-test.lock (make test-setup), resolved together.
lock:
	@bash scripts/lock.sh

lint: test-setup
	ruff check .
	ruff format --check .

typecheck: test-setup
	mypy

test: lint typecheck
	pytest

# The Dokploy contract suite (tests/contract): against the imitation by default, or against your Dokploy before you
# upgrade it: `DOKPLOY_API_KEY=... make contract DOKPLOY_URL=https://dokploy.example.com [DOKPLOY_MEMBER_KEY=...]`.
# It works inside one scratch project it creates and removes. The values reach pytest through the environment only.
contract: export CONTRACT_DOKPLOY_URL = $(DOKPLOY_URL)
contract: export CONTRACT_DOKPLOY_API_KEY = $(DOKPLOY_API_KEY)
contract: export CONTRACT_DOKPLOY_MEMBER_KEY = $(DOKPLOY_MEMBER_KEY)
contract: setup
	@pytest tests/contract -q -rs -n 0 -p no:randomly

up: setup
	@bash scripts/up.sh $(STACK)

# A benchmark, not a test: our stacks against the engine's floor on a local Dokploy server with 50 ms per request
# (bench/README.md). Writes bench/results.json and the table in bench/README.md; BENCH_RUNS=1 for a quick look.
bench: setup
	$(PY) -m bench.engine

preview: setup
	@bash scripts/stack.sh preview $(STACK)

destroy: setup
	@bash scripts/stack.sh destroy $(STACK)

# `eval "$$(make -s env)"`: this shell can then run pulumi on the local stack by hand. No setup prerequisite:
# its output must be only the exports (run `make up` once first).
env:
	@bash scripts/shell-env.sh

# An interactive shell with the same environment.
shell: setup
	@bash scripts/shell-env.sh --shell

down:
	@bash scripts/local-servers.sh stop

bootstrap-vault: setup
	$(PY) -m ops.vault_bootstrap

# Move a stack between self-managed backends (file:// <-> s3://), secrets provider kept: ops/state_migrate.py.
# FROM defaults to PULUMI_BACKEND_URL; S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
migrate-state: setup
	$(PY) -m ops.state_migrate --stack "$(STACK)" --to "$(TO)" $(if $(FROM),--from "$(FROM)")

# An admin's one-time step for a long-lived stack, then commit Pulumi.$(STACK).yaml: the stack in its backend
# on its Vault transit key (the encryptedkey lands in the file) and, for staging, production's reviewers
# (REVIEWERS=<login>[,...] and/or REVIEWER_TEAMS=<slug>[,...]) and the release GitHub App
# (RELEASE_APP_ID=<id>). Needs the stack's backend in PULUMI_BACKEND_URL (never the local default) and
# VAULT_ADDR/VAULT_TOKEN that may use the transit key.
init-stack: setup
	@case "$(origin STACK)" in file) echo "make init-stack: set STACK=staging or STACK=production" >&2; exit 2;; esac
	@case "$(origin PULUMI_BACKEND_URL)" in environment*|command*) ;; *) \
	  echo "make init-stack: set PULUMI_BACKEND_URL to the $(STACK) stack's backend (e.g. s3://...)" >&2; exit 2;; esac
	$(PY) -m ops init-stack --stack "$(STACK)" --reviewers "$(REVIEWERS)" --teams "$(REVIEWER_TEAMS)" \
	  --release-app-id "$(RELEASE_APP_ID)"

# The restore drill (docs/data.md): the stack's newest database dump restored into a scratch PostgreSQL on
# this machine, with the same pg-backup.sh its backup service runs. Needs VAULT_ADDR/VAULT_TOKEN that may read
# the stack's postgres secret (the backup destination) and Debian's postgresql (`make test-setup` has it).
restore-drill: setup
	@test "$(STACK)" != local || { echo "make restore-drill: set STACK=staging or STACK=production" >&2; exit 2; }
	$(PY) -m ops restore-drill --stack "$(STACK)" $(if $(KEY),--key "$(KEY)")
