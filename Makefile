# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM ?= chromium
APT_GET ?= apt-get

.PHONY: setup run test browser imap bench clean

# Only the set-up: .venv with feedkit and the test tools.
setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("feedkit needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The example's unsubscribe links are signed with this throwaway secret; a real site sets its own.
run: export FEEDKIT_SECRET := $(or $(FEEDKIT_SECRET),example-site-secret-not-for-production)
run: $(STAMP)
	$(BIN)/feedkit build
	$(BIN)/feedkit subscribers import --confirmed subscribers.csv
	$(BIN)/feedkit digest preview
	$(BIN)/feedkit digest send --yes
	@echo "Feeds are in public/: feed.xml (RSS), atom.xml (Atom), feed.json (JSON Feed), categories/*/"
	@echo "The digest: a preview in .feedkit/preview/, one .eml per subscriber in outbox/, public/digests/"

# Browser tests render pages in Debian's Chromium; install it where we may (CI runs as root). Another
# apt process holding the lock is waited for a while; a browser that still cannot be installed never
# fails the target: its tests are skipped, saying why.
APT_WAIT := -o DPkg::Lock::Timeout=120
browser:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    { $(APT_GET) $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive \
	      $(APT_GET) $(APT_WAIT) install -y -qq chromium >/dev/null; } \
	    || echo "Chromium could not be installed (apt failed): browser tests will be skipped"; \
	  else echo "Chromium is missing and cannot be installed here: browser tests will be skipped"; fi; }

# The IMAP tests run Debian's Dovecot from a private configuration on loopback ports; install it
# where we may, as for the browser. Where it cannot be installed, its tests are skipped, saying why.
imap:
	@command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    { $(APT_GET) $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive \
	      $(APT_GET) $(APT_WAIT) install -y -qq dovecot-imapd >/dev/null; } \
	    || echo "Dovecot could not be installed (apt failed): IMAP tests will be skipped"; \
	  else echo "Dovecot is missing and cannot be installed here: IMAP tests will be skipped"; fi; }

test: $(STAMP) browser imap
	$(BIN)/ruff check feedkit tests benchmarks
	$(BIN)/ruff format --check feedkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

# The build benchmark measures feedkit against Hugo building the same corpus. Debian's Hugo is
# installed where we may, as Chromium is above; without it the benchmark runs with no Hugo ratios.
bench: $(STAMP)
	@command -v hugo >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    { $(APT_GET) $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive \
	      $(APT_GET) $(APT_WAIT) install -y -qq hugo >/dev/null; } \
	    || echo "Hugo could not be installed (apt failed): no Hugo ratios in the benchmark"; \
	  else echo "Hugo is missing and cannot be installed here: no Hugo ratios in the benchmark"; fi; }
	$(BIN)/python benchmarks/bench_build.py --json benchmarks/out/bench-build.json $(BENCH_ARGS)

clean:
	rm -rf $(VENV) public .feedkit .pytest_cache .mypy_cache .ruff_cache
