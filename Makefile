# digest: the verbs a developer and an operator need. Every target installs what it uses.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint fmt bench serve semantic clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)  ## run one offline day on the bundled sample data; emails land in outbox/
	$(BIN)/digest demo

semantic: $(STAMP)  ## the optional sentence-embedding extra (CPU torch first, so no CUDA build is fetched)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[semantic]"

test: $(STAMP)  ## the whole suite (SQLite; PostgreSQL too when DIGEST_TEST_POSTGRES_URL is set)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow and not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## every performance figure; the pipeline figure wants Postfix's smtp-sink (apt-get install postfix)
	@command -v smtp-sink >/dev/null || test -x /usr/sbin/smtp-sink || \
		echo "note: no smtp-sink; the pipeline bench falls back to the slower Python sink"
	$(BIN)/digest bench --json var/bench.json

serve: $(STAMP)
	$(BIN)/digest serve --dev

clean:
	rm -rf outbox var/digest.db* .pytest_cache
