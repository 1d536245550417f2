# Two commands do all the set-up on a fresh machine:
#   make run   – install, upgrade the database, load demo data, serve on http://127.0.0.1:$(PORT)
#   make test  – install what the tests need (also Debian's chromium), lint, run the whole suite

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The app builds links in mail from the port it is served on (config.DevelopmentConfig).
export PORT
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test install install-test translations browser lint pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
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

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

test: install-test browser lint pytest

# Re-extract the German source strings and merge them into the English catalogue.
extract:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o matching/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i matching/translations/messages.pot -d matching/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
