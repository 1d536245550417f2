# Two commands do all the set-up on a fresh machine:
#   make run   – install, upgrade the database, load demo data, serve on http://127.0.0.1:$(PORT)
#   make test  – install what the tests need (also Debian's chromium), lint, type-check, run the
#                whole suite with branch coverage (fails below the floor in pyproject.toml)
# Both install the exact versions in requirements.lock / requirements-test.lock; `make lock`
# resolves them again after a pin in pyproject.toml changed (UPGRADE=1: newest indirect ones).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The app builds links in mail from the port it is served on (config.DevelopmentConfig).
export PORT
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test install install-test translations browser lint typecheck pytest lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements-test.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

translations:
	$(BIN)/pybabel compile --use-fuzzy -d matching/translations --statistics 2>&1 | tail -n 1

run: install
	$(FLASK) db upgrade
	$(FLASK) demo-data
	MAIL_BACKEND=console $(FLASK) run --host 127.0.0.1 --port $(PORT)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

# Branch coverage of matching/, jobs/ and config.py; `make pytest COVERAGE=` runs without it.
COVERAGE ?= --cov --cov-report=term:skip-covered
pytest:
	$(BIN)/pytest $(COVERAGE) $(PYTEST_ARGS)

test: install-test browser lint typecheck pytest

LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed-test
	$(LOCK) -o requirements.lock
	$(LOCK) --extra test -o requirements-test.lock

# Re-extract the German source strings and merge them into the English catalogue.
extract:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o matching/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i matching/translations/messages.pot -d matching/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .coverage
