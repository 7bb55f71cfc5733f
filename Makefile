# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("feedkit needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The example's unsubscribe links are signed with this throwaway secret; a real site sets its own.
run: export FEEDKIT_SECRET ?= example-site-secret-not-for-production
run: $(STAMP)
	$(BIN)/feedkit build
	$(BIN)/feedkit subscribers import subscribers.csv
	$(BIN)/feedkit digest preview
	$(BIN)/feedkit digest send --yes
	@echo "Feeds are in public/: feed.xml (RSS), atom.xml (Atom), feed.json (JSON Feed), categories/*/"
	@echo "The digest: a preview in .feedkit/preview/, one .eml per subscriber in outbox/, public/digests/"

test: $(STAMP)
	$(BIN)/ruff check feedkit tests benchmarks
	$(BIN)/ruff format --check feedkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf $(VENV) public .feedkit .pytest_cache .mypy_cache .ruff_cache
