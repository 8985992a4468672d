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

.PHONY: setup test-setup venv pulumi up preview destroy down test lint typecheck lock bootstrap-vault init-stack

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

up: setup
	@bash scripts/up.sh

preview: setup
	@bash scripts/stack.sh preview

destroy: setup
	@bash scripts/stack.sh destroy

down:
	@bash scripts/local-servers.sh stop

bootstrap-vault: setup
	$(PY) -m ops.vault_bootstrap

# An admin's one-time step for a long-lived stack, then commit Pulumi.$(STACK).yaml: the stack in its backend
# on its Vault transit key (the encryptedkey lands in the file) and, for staging, production's reviewers
# (REVIEWERS=<login>[,...] and/or REVIEWER_TEAMS=<slug>[,...]). Needs the stack's backend in
# PULUMI_BACKEND_URL (never the local default) and VAULT_ADDR/VAULT_TOKEN that may use the transit key.
init-stack: setup
	@test -n "$(STACK)" || { echo "make init-stack: set STACK=staging or STACK=production" >&2; exit 2; }
	@case "$(origin PULUMI_BACKEND_URL)" in environment*|command*) ;; *) \
	  echo "make init-stack: set PULUMI_BACKEND_URL to the $(STACK) stack's backend (e.g. s3://...)" >&2; exit 2;; esac
	$(PY) -m ops init-stack --stack "$(STACK)" --reviewers "$(REVIEWERS)" --teams "$(REVIEWER_TEAMS)"
