# Two commands matter: `make run` (set up and serve Privet with a demo company) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run test check setup setup-test serve bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[postgres,demo]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[postgres,demo,test]'
	touch $@

setup: $(VENV)/.installed                 ## create .venv and install Privet

setup-test: $(VENV)/.installed-test       ## also install the test tools

run: setup                                ## set up the SQLite store, load the demo company, serve on :8000
	$(BIN)/privet init --demo
	PRIVET_MAIL_SENDER=$${PRIVET_MAIL_SENDER:-console} PRIVET_SMS_SENDER=$${PRIVET_SMS_SENDER:-console} \
	  PRIVET_REQUESTS_FEE="$${PRIVET_REQUESTS_FEE:-20 CNY}" $(BIN)/privet serve

serve: setup
	$(BIN)/privet serve

check: setup-test                         ## ruff (lint, format), import-linter (layers, no cycles), mypy
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports
	$(BIN)/mypy

WORKERS ?= auto
test: check                               ## the checks, then the whole test suite on every core
	$(BIN)/pytest -n $(WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: setup-test
	for script in bench/*.py; do $(BIN)/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
