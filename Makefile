# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM ?= chromium
APT_GET ?= apt-get

.PHONY: setup run test system vnu bench bench-relay clean

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

# Some tests run Debian's own programs: Chromium (the browser tests), Dovecot (IMAP), dnsmasq (a
# DNS server on loopback), Postfix (the relay example; installed unconfigured, so it starts no mail
# service), SpamAssassin and newsboat (a second feed reader). The missing ones are installed in one apt run where we may (CI runs as
# root), waiting a while for another apt process's lock; what still cannot be installed never fails
# the target: its tests are skipped, saying why.
APT_WAIT := -o DPkg::Lock::Timeout=120
SYSTEM_PACKAGES := chromium:$(CHROMIUM) dovecot-imapd:/usr/sbin/dovecot \
  dnsmasq-base:/usr/sbin/dnsmasq postfix:/usr/sbin/postfix spamassassin:/usr/bin/spamassassin \
  newsboat:/usr/bin/newsboat
system:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	    { echo "postfix postfix/main_mailer_type select No configuration" \
	        | debconf-set-selections 2>/dev/null; \
	      $(APT_GET) $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive \
	      $(APT_GET) $(APT_WAIT) install -y -qq $$missing >/dev/null; } \
	    || echo "Could not install$$missing (apt failed): their tests will be skipped"; \
	  else echo "Missing$$missing, which cannot be installed here: their tests will be skipped"; fi; }

# The W3C Nu HTML checker checks the digest's markup. Its jar comes from npm (the vnu-jar package,
# pinned) into .venv, and runs on Java; without npm or Java its test is skipped, saying why.
VNU_VERSION := 26.9.27
VNU_JAR := $(VENV)/vnu/node_modules/vnu-jar/build/dist/vnu.jar
vnu:
	@[ -f $(VNU_JAR) ] || { command -v npm >/dev/null 2>&1 && command -v java >/dev/null 2>&1 \
	  && npm install --prefix $(VENV)/vnu --no-audit --no-fund --silent vnu-jar@$(VNU_VERSION) \
	  || echo "The Nu HTML checker could not be installed (needs npm and Java): its test is skipped"; }

test: $(STAMP) system vnu
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

# A digest to 10,000 readers of a relay 30 ms away: directly and through a local Postfix (root).
bench-relay: $(STAMP) system
	$(BIN)/python benchmarks/bench_relay.py --postfix --dkim

clean:
	rm -rf $(VENV) public .feedkit .pytest_cache .mypy_cache .ruff_cache
