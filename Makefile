# Flywheel (飞轮) — developer and setup commands. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed-python
# Front-end assets: npm ci from package-lock.json, then the files the app serves are copied out.
NODE_STAMP := node_modules/.installed
VENDOR_MANIFEST := src/flywheel/web/static/vendor/manifest.json
# Everything a target needs: the venv and the vendored front-end assets.
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 300

.PHONY: demo test test-sqlite test-postgres test-e2e lint format bench install assets clean migration-check i18n

$(PY_STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(PY_STAMP)

# --ignore-scripts: we only copy files out; no package may run code (swagger-ui-dist pulls in a
# telemetry postinstall) on a build machine.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found. Install Node.js 20+ with npm: the web assets (htmx, echarts, Swagger UI) come from package-lock.json." >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

$(VENDOR_MANIFEST): $(NODE_STAMP) $(PY_STAMP) src/flywheel/web/assets.py
	$(BIN)/python -m flywheel.web.assets --node-modules node_modules

# The shipped sentiment model, trained from data the product may redistribute (about 30 s).
SENTIMENT_MODEL := src/flywheel/feedback/text/model/sentiment.json
$(SENTIMENT_MODEL): $(PY_STAMP) $(wildcard src/flywheel/feedback/text/*.py)
	$(BIN)/python -m flywheel.feedback.text.build

$(STAMP): $(PY_STAMP) $(VENDOR_MANIFEST) $(SENTIMENT_MODEL)
	touch $(STAMP)

install: $(STAMP)

## Front-end assets only (npm ci when package-lock.json changed, then the copy).
assets: $(VENDOR_MANIFEST)

## Build a demo company on SQLite (./flywheel.db), train its models and run the daily cycle
## (credit grades, limits, payment predictions), then serve it on http://127.0.0.1:$(PORT)/.
PORT ?= 8000
demo: $(STAMP)
	$(BIN)/flywheel init
	$(BIN)/flywheel demo --customers $(DEMO_CUSTOMERS) --replace
	$(BIN)/flywheel credit train
	$(BIN)/flywheel run
	$(BIN)/flywheel status
	@echo "Open http://127.0.0.1:$(PORT)/ and sign in with a demo user above (Ctrl-C stops the server)."
	$(BIN)/flywheel serve --port $(PORT)

## The whole test suite on SQLite, and on PostgreSQL too when FLYWHEEL_TEST_DATABASE_URL is set.
test: $(STAMP) migration-check test-sqlite
	@if [ -n "$$FLYWHEEL_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "FLYWHEEL_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: $(STAMP)
	env -u FLYWHEEL_TEST_DATABASE_URL $(BIN)/python -m pytest -q -n 2

test-postgres: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

## The browser tests alone (they run in `make test` too): chromium drives a real `flywheel serve`;
## full-page screenshots land in tests/e2e/screenshots/ (or FLYWHEEL_E2E_SCREENSHOTS).
test-e2e: $(STAMP)
	$(BIN)/python -m pytest -q -m e2e tests/e2e

## Migrations must match the models (no drift).
migration-check: $(STAMP)
	rm -f .migration-check.db
	FLYWHEEL_DATABASE_URL=sqlite:///.migration-check.db $(BIN)/alembic upgrade head
	FLYWHEEL_DATABASE_URL=sqlite:///.migration-check.db $(BIN)/alembic check
	rm -f .migration-check.db*

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Benchmarks print tables; set FLYWHEEL_TEST_DATABASE_URL to include PostgreSQL.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_demo.py --customers 100000 --years 3
	$(BIN)/python benchmarks/bench_import.py --rows 1000000
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_ar.py --customers 100000 --reuse
	$(BIN)/python benchmarks/bench_scorecard.py
	$(BIN)/python benchmarks/bench_payments.py --customers 10000
	$(BIN)/python benchmarks/bench_credit.py --reuse
	$(BIN)/python benchmarks/bench_collections.py --reuse
	$(BIN)/python benchmarks/bench_outbox.py --messages 2000
	$(BIN)/python benchmarks/bench_sentiment.py
	$(BIN)/python benchmarks/bench_feedback_demo.py
	$(BIN)/python benchmarks/bench_clv.py
	$(BIN)/python benchmarks/bench_loyalty.py --reuse
	$(BIN)/python benchmarks/bench_insights.py --reuse

## Extract the translatable strings and update the catalogs (then translate the new entries).
LOCALE_DIR := src/flywheel/locale
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header -o $(LOCALE_DIR)/messages.pot src/flywheel
	if [ -f $(LOCALE_DIR)/zh_CN/LC_MESSAGES/messages.po ]; then \
	  $(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -l zh_CN --no-fuzzy-matching --ignore-obsolete --omit-header; \
	else $(BIN)/pybabel init -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -l zh_CN; fi
	rm -f $(LOCALE_DIR)/messages.pot

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis flywheel.db flywheel.db-*
	rm -rf node_modules src/flywheel/web/static/vendor
