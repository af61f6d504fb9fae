# roomrpc: `make run` serves, `make test` tests. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# uv installs exactly what uv.lock pins. uv itself is pinned here and in pyproject.toml
# ([tool.uv] required-version) and lives in its own venv, bootstrapped with python3's pip.
UV_VERSION := 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
UV_STAMP   := $(TOOLS)/.uv-$(UV_VERSION)
# The project venv is .venv, on this python3; uv never downloads an interpreter of its own.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON              := $(PYTHON)
export UV_PYTHON_DOWNLOADS    := never

.PHONY: run test lint lock bench setup clean client setup-node browser wrk contract-check

run: $(STAMP)
	$(BIN)/roomrpc serve

test: $(STAMP) setup-node browser lint
	$(BIN)/pytest

lint: $(STAMP)
	$(UV) lock --check
	$(BIN)/ruff check server schema codegen roomrpc examples tests bench
	$(BIN)/ruff format --check server schema codegen roomrpc examples tests bench
	$(BIN)/mypy
	@$(MAKE) --no-print-directory contract-check

# The contract against the last release tag's (v*): a breaking change fails lint.
contract-check: $(STAMP)
	@tag=$$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null); \
	if [ -z "$$tag" ]; then echo "roomrpc: no release tag yet: contract diff skipped"; exit 0; fi; \
	old=$$(mktemp); trap 'rm -f "$$old"' EXIT; \
	if ! git show "$$tag:clients/openrpc.json" > "$$old" 2>/dev/null; then \
	  echo "roomrpc: $$tag has no clients/openrpc.json: contract diff skipped"; exit 0; fi; \
	$(BIN)/roomrpc contract diff "$$old" clients/openrpc.json

bench: $(STAMP) wrk
	$(BIN)/python -m bench

# The bench drives the server with Debian's wrk: root installs it.
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else \
	    echo "roomrpc: make bench needs wrk: sudo apt-get install wrk"; exit 1; \
	  fi; }

setup: $(STAMP)

# The project and every package it needs, dev extras included, exactly as uv.lock pins them.
$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	$(UV) sync --locked --extra dev
	touch $@

# Refresh uv.lock from pyproject.toml: pins that still fit stay; `make lock UPGRADE=1` moves
# every package to the newest release its range allows (review the diff, then make test).
lock: $(UV_STAMP)
	$(UV) lock $(if $(UPGRADE),--upgrade)

$(UV_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "roomrpc needs Python 3.11 or newer (set PYTHON=...)")'
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache *.egg-info
	rm -rf $(TS)/node_modules $(TS)/dist $(TS)/dist-test test-artifacts $(LK_NODE)/node_modules

# --- the TypeScript client, the OpenRPC document, the explorer -------------------------
TS        := clients/typescript
NPM_STAMP := $(TS)/node_modules/.installed-stamp
LK_NODE       := tests/livekit_node
LK_NODE_STAMP := $(LK_NODE)/node_modules/.installed-stamp

# Regenerate clients/ from the contract, then rebuild the explorer's JS and the package.
client: $(STAMP) setup-node
	$(BIN)/roomrpc codegen
	cd $(TS) && node_modules/.bin/tsc -p tsconfig.explorer.json
	$(BIN)/roomrpc codegen --mark-compiled server/http/explorer/static/js
	cd $(TS) && node_modules/.bin/tsc -p tsconfig.json

setup-node: $(NPM_STAMP) $(LK_NODE_STAMP)

$(NPM_STAMP): $(TS)/package.json $(TS)/package-lock.json
	@command -v npm >/dev/null || { echo "roomrpc: the client tests need Node.js 20+ and npm (see README)"; exit 1; }
	cd $(TS) && npm ci --no-audit --no-fund
	touch $@

# Test-only: LiveKit's own Node server SDK, which checks the tokens and webhooks we sign.
$(LK_NODE_STAMP): $(LK_NODE)/package.json $(LK_NODE)/package-lock.json
	@command -v npm >/dev/null || { echo "roomrpc: the LiveKit token tests need Node.js 20+ and npm (see README)"; exit 1; }
	cd $(LK_NODE) && npm ci --no-audit --no-fund
	touch $@

# The browser test drives Debian's chromium (never a downloaded browser): root installs it.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "roomrpc: the browser test needs /usr/bin/chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }
