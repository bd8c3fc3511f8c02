# Two commands on a fresh machine with python3 and make: `make demo` and `make test`.
# Each creates .venv and installs what it needs on its own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format typecheck imports pytest sanitize bench run clean

# scripts/install.sh is also what the Dockerfile runs: the image installs as this does.
$(STAMP): pyproject.toml bot/core/matching/_matchcore.c scripts/install.sh
	PYTHON=$(PYTHON) sh scripts/install.sh $(VENV) --dev
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsbot demo

run: $(STAMP)
	$(BIN)/newsbot run

test: lint typecheck imports pytest sanitize

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks

format: $(STAMP)
	$(BIN)/ruff check --fix bot tests benchmarks
	$(BIN)/ruff format bot tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy bot tests benchmarks

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

# The compiled matcher core under AddressSanitizer and UBSan, with a differential fuzz run
# (about a minute and a half; skipped with a message where there is no gcc, except in CI).
sanitize: $(STAMP)
	.ci/sanitize-core $(BIN)/python

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache *.egg-info
