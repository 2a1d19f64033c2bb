# The two commands of the README: `make run` and `make test`. Each installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck system-run system-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

system-run:
	scripts/system-packages.sh run

system-test:
	scripts/system-packages.sh test

run: system-run $(STAMP)
	$(BIN)/estrategia db upgrade
	$(BIN)/estrategia db seed-demo
	@echo "estrategia: http://127.0.0.1:8000  (Ctrl+C stops it)"
	$(BIN)/estrategia serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the dependency rules of DESIGN.md: [tool.importlinter] in pyproject.toml

typecheck: $(STAMP)
	$(BIN)/mypy

test: system-test $(STAMP) lint typecheck
	$(BIN)/pytest --cov=workflow --cov=signatures --cov-report=term:skip-covered -q

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage
