# module-voice: every target creates or reuses .venv itself, so a fresh clone needs only `make dev` / `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAYERS := backend/layers/access_common/python backend/layers/ai_common/python backend/layers/voice_common/python backend/local
PYTEST_ARGS ?=

.PHONY: help venv bot-venv dev test test-py test-bot lint bench migrate build clean openapi tools-venv checkov mutation
.PHONY: frontend-build test-frontend chromium
BOT_VENV := .venv-bot
BOT_STAMP := $(BOT_VENV)/.installed

help:
	@echo "make dev      run the local stack (REST + WebSocket on 127.0.0.1:8080, PostgreSQL, moto, Daily stand-in)"
	@echo "make dev BOT=real  the same with the real Pipecat bot (builds .venv-bot; needs DAILY_API_KEY + provider keys)"
	@echo "make test     lint, type-check and run every test suite"
	@echo "make test-frontend  frontend: npm ci, tsc, eslint, vitest, then the end-to-end test in chromium"
	@echo "make lint     ruff + mypy"
	@echo "make mutation  mutation testing of the access, bot-token, dispatch and state-machine code (docs/mutation.md)"
	@echo "make bench    benchmarks (figures and ratios, JSON in bench-results/)"
	@echo "make migrate  apply db/compat + db/schema to DATABASE_URL (or the embedded PostgreSQL)"
	@echo "make openapi  regenerate docs/openapi.json from the handlers (and the authz table in docs/permissions.md)"
	@echo "make build    Lambda and layer zips in dist/ (deterministic; the dependencies layer from PyPI, cached)"
	@echo "make checkov  static security checks of infrastructure/ (checkov in its own .venv-tools)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# Layers and the local stack are importable everywhere in the venv, as /opt/python is in Lambda.
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	  : > $$site/module_voice_paths.pth; \
	  for p in $(LAYERS); do echo "$(CURDIR)/$$p" >> $$site/module_voice_paths.pth; done
	@touch $(STAMP)

venv: $(STAMP)

# BOT=sim (default): simulated bots; BOT=real: the Pipecat bot of backend/bot as processes, from .venv-bot
# (built first; docs/local-stack.md "The real bot" lists the keys it needs).
BOT ?= sim
dev: $(STAMP) $(if $(filter real,$(BOT)),$(BOT_STAMP))
	@case "$(BOT)" in sim|real) ;; *) echo "make dev: BOT must be sim or real, not '$(BOT)'" >&2; exit 2;; esac
	@$(MAKE) --no-print-directory frontend-build || echo "make dev: the frontend was not built (see above); the API and WebSocket still start"
	$(PY) -m voice_local --bot $(BOT)

# --- frontend (frontend/README.md): the dev harness that `make dev` serves at http://127.0.0.1:8080/ -------
NPM ?= npm
FRONTEND_STAMP := frontend/node_modules/.installed
FRONTEND_SRC := $(shell find frontend -path frontend/node_modules -prune -o -path frontend/dist -prune -o -path frontend/e2e -prune \
	-o -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' -o -name '*.json' \) -print 2>/dev/null)

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	@touch $@

frontend/dist/index.html: $(FRONTEND_STAMP) $(FRONTEND_SRC)
	cd frontend && $(NPM) run --silent build

# Without node the stack still runs (API + WebSocket); with it, frontend/dist is (re)built when sources changed.
frontend-build:
	@if command -v node >/dev/null 2>&1 && command -v $(NPM) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory frontend/dist/index.html; \
	else echo "node/npm not found: the frontend is not built (the API and WebSocket still run)"; fi

# Debian's chromium for the end-to-end test (skipped when /usr/bin/chromium exists).
chromium:
	@frontend/scripts/install-chromium.sh

test-frontend: $(STAMP) $(FRONTEND_STAMP) chromium
	cd frontend && npx tsc --noEmit
	cd frontend && npx eslint --max-warnings 0 .
	cd frontend && npx vitest run
	@$(MAKE) --no-print-directory frontend/dist/index.html
	cd frontend && node e2e/voice.e2e.mjs

migrate: $(STAMP)
	$(PY) -m voice_local.migrate

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check backend tests
	$(PY) -m mypy backend/layers backend/local

# A full run measures coverage (branch, [tool.coverage.*] in pyproject.toml) and enforces the per-area
# thresholds of tests/quality/coverage_areas.toml; a partial run (PYTEST_ARGS set) skips both.
COV_JSON := build/coverage.json
test-py: $(STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	@mkdir -p build
	$(PY) -m pytest --cov --cov-report=json:$(COV_JSON) --cov-report=
	$(PY) -m tests.quality.coverage_gate --json $(COV_JSON)
else
	$(PY) -m pytest $(PYTEST_ARGS)
	@echo "coverage gate skipped: PYTEST_ARGS selects a partial run"
endif

# Mutation testing (docs/mutation.md): mutmut 3 over the access and state code plus a SQL mutation harness
# for the session state machine; prints the score per module. Not part of `make test` (see the doc for its runtime).
MUTMUT_STAMP := $(VENV)/.mutmut-installed
$(MUTMUT_STAMP): $(STAMP)
	$(PY) -m pip install --quiet 'mutmut==3.8.1'
	@touch $(MUTMUT_STAMP)

mutation: $(MUTMUT_STAMP)
	$(PY) -m tests.quality.mutation $(MUTATION_ARGS)

# The Pipecat bot has its own dependencies (pipecat-ai and its service extras), kept out of the Lambda venv.
$(BOT_STAMP): backend/bot/pyproject.toml
	@test -x $(BOT_VENV)/bin/python || $(PYTHON) -m venv $(BOT_VENV)
	$(BOT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BOT_VENV)/bin/python -m pip install --quiet -e 'backend/bot[dev]'
	@touch $(BOT_STAMP)

bot-venv: $(BOT_STAMP)

# A full run measures line + branch coverage of voice_bot (the CLI's subprocesses included), prints it per
# file and in total, and fails under the floor of backend/bot/pyproject.toml ([tool.coverage.report]
# fail_under); a partial run (PYTEST_ARGS set) skips both, as test-py does.
BOT_PYTEST := cd backend/bot && PYTHONPATH=$(CURDIR)/tests/quality ../../$(BOT_VENV)/bin/python -m pytest
test-bot: $(BOT_STAMP)
	@# -p skips: tests/quality/skips.py fails the run on a skip without a reason, as in the main suite.
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BOT_PYTEST) -p skips --cov --cov-report=term
else
	$(BOT_PYTEST) -p skips $(PYTEST_ARGS)
	@echo "bot coverage gate skipped: PYTEST_ARGS selects a partial run"
endif

test: lint checkov test-py test-bot test-frontend

# One zip per Lambda and per layer in dist/, with a size report (voice_local/build.py).
build: $(STAMP)
	$(PY) -m voice_local.build

# checkov pins versions that conflict with the dev dependencies: it gets a venv of its own.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
$(TOOLS_STAMP): Makefile
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet 'checkov==3.3.30'
	@touch $(TOOLS_STAMP)

tools-venv: $(TOOLS_STAMP)

# Zero failed checks; every skip is inline in the .tf with its reason. --skip-download: offline.
checkov: $(TOOLS_STAMP)
	$(TOOLS_VENV)/bin/checkov --directory infrastructure --framework terraform --quiet --compact --skip-download

# The bot pickup rows run backend/bot/bench_pickup.py with .venv-bot: build it, or they are skipped.
bench: $(STAMP) $(BOT_STAMP)
	$(PY) -m tests.bench $(BENCH_ARGS)

# docs/openapi.json from the handlers; tests/contract/test_openapi.py fails when it is stale.
openapi: $(STAMP)
	$(PY) -m voice_local.openapi
	$(PY) -m tests.authz.render

clean:
	rm -rf $(VENV) .local dist build .pytest_cache .mypy_cache .ruff_cache
