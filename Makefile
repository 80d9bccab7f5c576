# The commands the README gives. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MAPPINGS := src/townsquare/ingest/mappings
export TOWNSQUARE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/townsquare_test

.PHONY: install run test lint bench system-deps clean wheel

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor_static.py
	$(BIN)/python scripts/compile_kernels.py
	touch $@

install: $(STAMP)

# Debian's Chromium drives the browser tests (Playwright's own download cannot work offline).
# ffmpeg re-encodes residents' clips; exiftool and ffprobe check that no location survives.
system-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || \
	    { apt-get update -q && apt-get install -y -q chromium >/dev/null; }; \
	  else sudo apt-get install -y -q chromium >/dev/null; fi; }
	@{ command -v exiftool && command -v ffprobe && command -v ffmpeg; } >/dev/null || { \
	  echo "installing Debian's exiftool and ffmpeg for media"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q libimage-exiftool-perl ffmpeg >/dev/null || \
	    { apt-get update -q && apt-get install -y -q libimage-exiftool-perl ffmpeg >/dev/null; }; \
	  else sudo apt-get install -y -q libimage-exiftool-perl ffmpeg >/dev/null; fi; }

# The local demo: mail is kept at /dev/outbox and printed whole in the log (see docs/configuration.md).
run: export TOWNSQUARE_DEV_OUTBOX ?= true
run: install
	$(BIN)/townsquare db upgrade
	$(BIN)/townsquare places build --if-missing
	$(BIN)/townsquare replay $(MAPPINGS)/seattle_fire_911.toml --speed 2000
	$(BIN)/townsquare replay $(MAPPINGS)/sf_fire_calls.toml --speed 100
	$(BIN)/townsquare serve

# Three workers (pytest-xdist), each with its own PostgreSQL database and SQLite files: much of
# a test's time is spent waiting (the browser, the databases, served nodes), so a third worker
# keeps a 2-core machine busy (two left it a third idle).
test: install system-deps
	$(BIN)/python -m pytest -n 3

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src

# A release wheel with the front-end files in it (setup.py vendors them from node_modules/).
wheel:
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) -m pip wheel --no-deps -w dist .

bench: install
	$(BIN)/python bench/feed.py

clean:
	rm -rf $(VENV) node_modules var src/townsquare/web/static/vendor

# The translations: extract every wrapped string, merge into each catalog, compile the .mo files.
# After `make messages`, translate the new entries of src/townsquare/locale/*/LC_MESSAGES/messages.po.
LOCALES := src/townsquare/locale
.PHONY: messages
messages:
	PYTHONPATH=src $(BIN)/pybabel extract -F babel.cfg --no-location --sort-output \
	  --project=Townsquare --copyright-holder="Townsquare contributors" \
	  -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k N_ -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap
	$(BIN)/pybabel compile -d $(LOCALES) --statistics
