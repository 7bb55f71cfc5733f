# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM ?= chromium
APT_GET ?= apt-get

.PHONY: setup run test browser bench clean mail-tools bench-relay

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
	$(BIN)/feedkit subscribers import subscribers.csv
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

# The deliverability tests use Debian's dnsmasq (a DNS server on loopback), Postfix (the example
# relay set-up; installed unconfigured, so it starts no mail service) and SpamAssassin. As for the
# browser: installed where we may, and where not their tests are skipped, saying why.
MAIL_TOOLS := /usr/sbin/dnsmasq /usr/sbin/postfix /usr/bin/spamassassin
mail-tools:
	@ls $(MAIL_TOOLS) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    { echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections \
	      && $(APT_GET) $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive \
	      $(APT_GET) $(APT_WAIT) install -y -qq dnsmasq-base postfix spamassassin >/dev/null; } \
	    || echo "dnsmasq, Postfix or SpamAssassin could not be installed: their tests will be skipped"; \
	  else echo "dnsmasq, Postfix or SpamAssassin is missing: their tests will be skipped"; fi; }

test: $(STAMP) browser mail-tools
	$(BIN)/ruff check feedkit tests benchmarks
	$(BIN)/ruff format --check feedkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

# A digest to 10,000 readers of a relay 30 ms away: directly and through a local Postfix (root).
bench-relay: $(STAMP) mail-tools
	$(BIN)/python benchmarks/bench_relay.py --postfix --dkim

clean:
	rm -rf $(VENV) public .feedkit .pytest_cache .mypy_cache .ruff_cache
