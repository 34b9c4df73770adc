# Every target bootstraps .venv by itself: a fresh clone needs only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo constraints clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

## make test: the whole suite, on SQLite and (when it answers) PostgreSQL.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make demo: both sandboxes, a fresh seeded SQLite database, the app and the worker;
## prints the URLs to open; Ctrl-C stops all of it (app/demo.py).
demo: $(STAMP)
	$(BIN)/python -m app.demo

constraints: $(STAMP)
	$(BIN)/python -m pip freeze | grep -v -i -E '^(pip|setuptools)=' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache instance/demo
