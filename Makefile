# Everything runs from a project-local virtual environment, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 2024
INSTALLED := $(VENV)/.installed

# llama.cpp is compiled once from source; GGML_NATIVE=OFF keeps the wheel portable.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: install dev test test-wheel test-latest unit integration lint format clean bench bench-storage bench-long bench-load bench-quality bench-first-token bench-search bench-recall browser

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[local,dev]"
	touch $(INSTALLED)

install: $(INSTALLED) ## Create .venv and install the project with the embedded model

dev: install ## Serve the chatbot (embedded model unless OPENAI_* is set)
	$(BIN)/langgraph dev --host $(HOST) --port $(PORT) --no-browser

test: install browser ## Run the whole test suite (unit + integration), then test the built wheel
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-wheel

# What users install is what is tested: the wheel, installed (not editable) into a
# virtual environment outside the checkout, with the versions .venv holds (all from
# pip's cache; no llama.cpp: the `local` extra is left out, the tests use a scripted
# model). Its tests run from a temporary directory, so the checkout's src/ is not on
# the path; the server runs from a copy of langgraph.json pointing into the install.
WHEEL_TESTS := tests/integration_tests/test_installed_package.py tests/unit_tests/test_chat_page_routes.py

test-wheel: install browser ## Build the wheel, install it outside the checkout, test that install
	set -e; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir "$$work" . ; \
	$(BIN)/pip freeze --exclude-editable | grep -v '^chatbot-agent' > "$$work/constraints.txt"; \
	$(BIN)/python -m venv "$$work/venv"; \
	"$$work/venv/bin/pip" install --quiet --no-compile -c "$$work/constraints.txt" "$$(ls "$$work"/chatbot_agent-*.whl)[test]"; \
	cd "$$work" && "$$work/venv/bin/pytest" -p no:cacheprovider --rootdir="$(CURDIR)" \
		$(addprefix $(CURDIR)/,$(WHEEL_TESTS)) -rs

# Warn before an upgrade breaks: the newest releases of the packages whose internals
# this project uses, up to their next major version (beyond pyproject.toml's minor
# pins), in a virtual environment of their own; then the unit suite, fences included.
# A failure says which pin not to lift yet; success says a pin may move.
FENCED := "langgraph<2" "langgraph-checkpoint<5" "langgraph-checkpoint-sqlite<4" \
	"langgraph-checkpoint-postgres<4" "langgraph-api<1" "langgraph-runtime-inmem<1" \
	"langgraph-sdk<1" "langchain-core<2"

test-latest: install ## Unit suite + fences against the newest langgraph/langchain releases (own venv)
	set -e; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir "$$work" . ; \
	$(BIN)/python -m venv "$$work/venv"; \
	"$$work/venv/bin/pip" install --quiet "$$(ls "$$work"/chatbot_agent-*.whl)[dev]"; \
	"$$work/venv/bin/pip" install --quiet --upgrade $(FENCED) 2>&1 | grep -v "^WARNING: Location" || true; \
	$(BIN)/pip freeze --exclude-editable | sort > "$$work/tested.txt"; \
	"$$work/venv/bin/pip" freeze | sort > "$$work/latest.txt"; \
	echo "Newer than .venv's (tested) versions:"; \
	comm -13 "$$work/tested.txt" "$$work/latest.txt" | grep -v '^chatbot-agent' || echo "  none"; \
	cd "$$work" && "$$work/venv/bin/pytest" -p no:cacheprovider --rootdir="$(CURDIR)" -q \
		$(CURDIR)/tests/unit_tests

unit: install ## Run the unit tests only (seconds, no server)
	$(BIN)/pytest tests/unit_tests

integration: install browser ## Run the integration tests only (real server + embedded model)
	$(BIN)/pytest tests/integration_tests

# Debian's Chromium for the chat page's browser tests (Playwright never downloads one).
browser: ## Install Debian's chromium unless /usr/bin/chromium exists (needs root)
	test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install ## Ruff, formatting and mypy --strict
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/langgraph validate

bench: install ## Performance vs the machine's limits and the bare server (about 5 min on 2 cores): bench/results/latest.*
	$(BIN)/python -m bench.perf

bench-storage: install ## Bytes per thread vs its transcript at 100/500/1,000 turns, ms per turn, both backends
	$(BIN)/python -m bench.storage

bench-long: install ## Prompt tokens and graph ms per turn at turns 10/100/1,000
	$(BIN)/python -m bench.long_conversation

bench-quality: install ## Does the default model remember, answer and do what it is asked, in six languages? (~50 min): bench/results/
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.multilingual
	$(BIN)/python -m bench.multilingual --held-out
	$(BIN)/python -m bench.requests
	$(BIN)/python -m bench.requests --held-out
	$(BIN)/python -m bench.extraction_precision
	$(BIN)/python -m bench.extraction_precision --held-out
	$(BIN)/python -m bench.extraction_precision --people
	$(MAKE) --no-print-directory bench-recall
	$(BIN)/python -m bench.conversation_recall --held-out

bench-recall: install ## A new conversation answers from the user's earlier ones (issue 30), through langgraph dev (tuning people)
	$(BIN)/python -m bench.conversation_recall

bench-first-token: install ## First token through langgraph dev: ordinary turns, turns after a fold, right after a statement (~8 min)
	$(BIN)/python -m bench.first_token

bench-search: install ## Search at 1,000 conversations x 50 turns, SQLite and PostgreSQL: p50/p95 ms, index size vs text
	nice -n 10 $(BIN)/python -m bench.search

bench-load: install ## 50 conversations x 20 turns at once: turns/s, p50/p95, integrity
	$(BIN)/python -m bench.load

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .langgraph_api .chatbot .mypy_cache .ruff_cache .pytest_cache
