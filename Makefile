# Relaydesk: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: install
	$(BIN)/relaydesk serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/relaydesk rules check rules.yaml

test: install lint
	scripts/ensure-system-packages
	scripts/ensure-postgres
	$(BIN)/pytest -q

bench: install
	scripts/ensure-postgres
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/route.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) relaydesk.db relaydesk.db-* relaydesk-data
