# Every target bootstraps .venv by itself: a fresh clone needs only python3 (with
# python3-venv on Debian) and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo bench constraints refresh-shopify-reference refresh-npm-assets clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

## make test: the whole suite, on SQLite and (when it answers) PostgreSQL.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make demo: both sandboxes, a fresh seeded SQLite database, the app and the worker;
## prints the URLs to open; Ctrl-C stops all of it (demo/run.py).
demo: $(STAMP)
	$(BIN)/python -m demo

## make bench: every benchmark (bench/), ~6 min quiet, ~12 loaded; writes bench/results/latest.md.
## Needs PostgreSQL on 127.0.0.1:5432 (started like .ci/run does) and wrk (Debian, pinned).
WRK_VERSION := 4.1.0-3+b2
bench: $(STAMP)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { pg_ctlcluster --skip-systemctl-redirect \
	  "$$(ls /etc/postgresql | head -n1)" main start && sleep 2; } || \
	  echo "bench: PostgreSQL is not running and could not be started: SQLite figures only"
	@command -v wrk >/dev/null || { apt-get install -y -q wrk=$(WRK_VERSION) >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk=$(WRK_VERSION) >/dev/null 2>&1; }; } || \
	  echo "bench: could not install wrk $(WRK_VERSION) (Debian): webhook intake will be reported as not measured"
	@command -v wrk >/dev/null && wrk --version 2>&1 | head -n1 || true
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make refresh-shopify-reference: copy Shopify's reference data (schema, webhook topics) again
## from ../shared/shopify/, the maintainers' folder beside the repository, into vendor/shopify/
## (vendor/shopify/README.md). Says so and changes nothing when that folder isn't there.
## Copies over, never deletes: topics vendored from npm (products/*, refunds/*, returns/*, bulk_operations/finish) stay.
SHOPIFY_REFERENCE_SRC ?= ../shared/shopify
refresh-shopify-reference:
	@if [ ! -d "$(SHOPIFY_REFERENCE_SRC)" ]; then \
	  echo "refresh-shopify-reference: $(SHOPIFY_REFERENCE_SRC) not found: vendor/shopify/ left as it is"; \
	else \
	  cp "$(SHOPIFY_REFERENCE_SRC)/admin-2026-10.introspection.json.gz" vendor/shopify/ && \
	  cp -R "$(SHOPIFY_REFERENCE_SRC)/webhooks" vendor/shopify/ && \
	  chmod -R u+w vendor/shopify && \
	  echo "refresh-shopify-reference: copied from $(SHOPIFY_REFERENCE_SRC) (see git status vendor/shopify/)"; \
	fi

## make refresh-npm-assets: fetch the pinned npm packages again (htmx, Polaris CSS and icons,
## axe-core for the browser tests) with `npm pack`, check each tarball's integrity against the
## pin in vendor/npm_assets.py, and copy the listed files in. Never run by test or demo.
refresh-npm-assets:
	$(PY) vendor/npm_assets.py

constraints: $(STAMP)
	{ echo "# Every transitive package pinned: make installs with -c constraints.txt."; \
	  echo "# Regenerate after changing requirements*.txt: make constraints"; \
	  $(BIN)/python -m pip freeze | grep -v -i -E '^(pip|setuptools)='; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache instance/demo
