"""`feedkit doctor` against real servers: a DNS server on loopback (Debian's dnsmasq, started here,
serving TXT records good and broken), `feedkit serve` for the one-click unsubscribe, the aiosmtpd
server with STARTTLS and AUTH, and SpamAssassin where installed."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from feedkit import doctor
from feedkit.config import Config, load_config
from feedkit.mail import checks
from feedkit.mail.checks import (
    Check,
    Dmarc,
    Status,
    check_alignment,
    check_message,
    html_part,
)
from feedkit.mail.signing import load_signer
from feedkit.mail.transports import ServerOffer, probe_server
from feedkit.newsletter import subscriptions
from tests.conftest import SECRET, import_rows, write_site
from tests.dns_server import dkim_record, dnsmasq, free_udp_port, txt
from tests.processes import serving
from tests.smtp_server import PASSWORD, USER, SmtpServer, authenticate, free_port

pytestmark = pytest.mark.usefixtures("feedkit_secret")
ROOT = Path(__file__).parent.parent
SPAMASSASSIN = shutil.which("spamassassin")
EXAMPLE = "reelnotes.example.org"  # the example site's From domain
GOOD, BROKEN = "good-reviews.example", "broken-reviews.example"  # RFC 2606 names


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def nameserver(key: rsa.RSAPrivateKey) -> Iterator[str]:
    """dnsmasq on a high loopback port answering only from the records below."""
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    records = [
        txt(GOOD, "v=spf1 ip4:192.0.2.10 -all"),
        txt(f"sel._domainkey.{GOOD}", *dkim_record(key)),
        txt(f"_dmarc.{GOOD}", "v=DMARC1; p=quarantine; adkim=s"),
        txt(BROKEN, "v=spf1 +all"),
        txt(f"sel._domainkey.{BROKEN}", *dkim_record(other_key)),
        txt(EXAMPLE, "v=spf1 ip4:192.0.2.10 -all"),
        txt(f"_dmarc.{EXAMPLE}", "v=DMARC1; p=reject"),
    ]
    with dnsmasq(records, probe=GOOD, zones=["example", "example.org"]) as running:
        yield running


def site(root: Path, domain: str, extra: str = "", *, dkim_domain: str = "") -> Config:
    (root / "dkim.pem").write_bytes(pem(rsa.generate_private_key(65537, 2048)))
    settings = (
        f'[digest]\nfrom_address = "digest@{domain}"\n{extra}'
        f'[dkim]\nselector = "sel"\ndomain = "{dkim_domain or domain}"\nkey_file = "dkim.pem"\n'
    )
    return load_config(write_site(root, {}, settings))


def lines(checks: list[Check]) -> list[str]:
    return [check.line() for check in checks]


# -- DNS ------------------------------------------------------------------------------------------


def test_good_records_pass_every_dns_check(
    tmp_path: Path, nameserver: str, key: rsa.RSAPrivateKey
) -> None:
    """SPF, the DKIM key at the selector, the DMARC policy and alignment are each one 'ok' line."""
    config = site(tmp_path, GOOD)
    (tmp_path / "dkim.pem").write_bytes(pem(key))
    checks = doctor.dns_checks(config, nameserver, load_signer(config))
    assert lines(checks) == [
        f"ok   SPF: {GOOD}: v=spf1 ip4:192.0.2.10 -all",
        f"ok   DKIM: sel._domainkey.{GOOD} holds the public half of key_file",
        f"ok   DMARC: _dmarc.{GOOD}: policy quarantine",
        f"ok   alignment: DKIM d={GOOD} aligns with From {GOOD}",
    ]


def test_spf_is_checked_where_the_bounce_address_sends_from(
    tmp_path: Path, nameserver: str, key: rsa.RSAPrivateKey
) -> None:
    """With a bounce address, the envelope sender is there: SPF is looked up at its domain."""
    config = site(tmp_path, GOOD, f'bounce_address = "bounces+{{token}}@{BROKEN}"\n')
    (tmp_path / "dkim.pem").write_bytes(pem(key))
    checks = doctor.dns_checks(config, nameserver, load_signer(config))
    assert lines(checks)[0].startswith(f"FAIL SPF: {BROKEN}: ")


def test_broken_records_each_fail_with_a_remedy(tmp_path: Path, nameserver: str) -> None:
    """SPF that lets anyone send, a DKIM record of another key and no DMARC record each fail in
    one line that says what to publish."""
    config = site(tmp_path, BROKEN)
    checks = doctor.dns_checks(config, nameserver, load_signer(config))
    assert lines(checks)[:3] == [
        f"FAIL SPF: {BROKEN}: 'v=spf1 +all' lets any server send as {BROKEN}; "
        "end it with -all or ~all",
        f"FAIL DKIM: sel._domainkey.{BROKEN}: the published key is not key_file's public key; "
        f"publish the public half of {tmp_path / 'dkim.pem'} at sel._domainkey.{BROKEN}",
        f"FAIL DMARC: no DMARC record at _dmarc.{BROKEN}; publish e.g. 'v=DMARC1; p=none; "
        f"rua=mailto:dmarc@{BROKEN}' (Gmail and Yahoo require one of bulk senders)",
    ]


def test_a_missing_dkim_record_and_the_organizational_dmarc(
    tmp_path: Path, nameserver: str
) -> None:
    """A From subdomain without its own DMARC record is covered by its organizational domain's,
    and a selector with no record fails."""
    config = site(tmp_path, f"news.{GOOD}")
    checks = doctor.dns_checks(config, nameserver, load_signer(config))
    assert lines(checks)[1:3] == [
        f"FAIL DKIM: no DKIM record at sel._domainkey.news.{GOOD}; publish the public half of "
        f"{tmp_path / 'dkim.pem'} at sel._domainkey.news.{GOOD}",
        f"ok   DMARC: _dmarc.{GOOD}: policy quarantine",
    ]


def test_alignment_fails_when_neither_domain_aligns() -> None:
    """A bounce domain under From's organization aligns unless aspf=s; one elsewhere, with no
    aligned DKIM, cannot pass DMARC: one FAIL line with the remedy."""
    relaxed, strict = Dmarc("_dmarc", {}), Dmarc("_dmarc", {"aspf": "s"})
    assert check_alignment("example.org", "bounces.example.org", None, relaxed).status == "ok"
    assert check_alignment("example.org", "bounces.example.org", None, strict).status == "FAIL"
    check = check_alignment("example.org", "bounces.example.net", None, relaxed)
    assert check.line() == (
        "FAIL alignment: neither DKIM nor the envelope sender (bounces.example.net) aligns with "
        "From example.org; sign with [dkim] domain set to the From domain, or send from the "
        "domain SPF covers"
    )


def test_an_unanswering_nameserver_is_one_failed_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DNS server that does not answer is said to be that, not taken for missing records."""
    monkeypatch.setattr(checks, "DNS_TIMEOUT", 0.5)  # the wait is not what is tested
    config = site(tmp_path, GOOD)
    port = free_udp_port()  # nothing listens there
    found = doctor.dns_checks(config, f"127.0.0.1:{port}", None)
    assert len(found) == 1
    assert found[0].status == Status.FAIL
    assert found[0].line().startswith(f"FAIL DNS: 127.0.0.1:{port}: no answer for _dmarc.{GOOD}")


# -- the one-click unsubscribe --------------------------------------------------------------------


def serving_site(root: Path, port: int) -> AbstractContextManager[str]:
    """`feedkit serve` for the site in `root`, until the block ends."""
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    return serving(root, port, env, stdout=None)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Config, int]]:
    """`feedkit serve` for a site with one subscriber."""
    port = free_port()
    settings = f'[digest]\nunsubscribe_url = "http://127.0.0.1:{port}/unsubscribe"\n'
    config = load_config(write_site(tmp_path, {}, settings))
    import_rows(config, [["reader@example.org"]])
    with serving_site(tmp_path, port):
        yield config, port


def test_the_unsubscribe_url_answers_one_click_and_nobody_leaves(
    served: tuple[Config, int],
) -> None:
    """A real one-click POST gets 200 from `feedkit serve`, and the list is as it was."""
    config, port = served
    check = doctor.check_unsubscribe(config)
    assert check.line() == (
        f"ok   unsubscribe: a one-click POST to http://127.0.0.1:{port}/unsubscribe answered 200"
    )
    assert [s.status for s in subscriptions.list_subscribers(config)] == ["active"]


def test_an_unsubscribe_url_nobody_answers_fails(tmp_path: Path) -> None:
    """Nothing listening at the unsubscribe address is a FAIL that says to run `feedkit serve`."""
    port = free_port()
    config = load_config(
        write_site(tmp_path, {}, f'[digest]\nunsubscribe_url = "http://127.0.0.1:{port}/u"\n')
    )
    check = doctor.check_unsubscribe(config)
    assert check.status == Status.FAIL
    assert check.detail.startswith(f"POST http://127.0.0.1:{port}/u: cannot be reached (")
    assert check.remedy.startswith("run 'feedkit serve' behind that address")


# -- the message ----------------------------------------------------------------------------------


def mime(html: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = "A digest"
    message.set_content("text")
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_images_without_alt_and_relative_links_are_named() -> None:
    """An image with no alt attribute and addresses without scheme and host each fail, named;
    alt="" (decoration) and absolute addresses pass."""
    html = (
        '<img src="https://x.example/a.png" alt=""><img src="/cover.jpg">'
        '<a href="https://x.example/r/">r</a><a href="/reviews/vertigo/">v</a>'
        '<a href="mailto:a@x.example">m</a>'
    )
    assert lines(check_message(mime(html)))[1:] == [
        'FAIL images: 1 without alt: /cover.jpg; give each image alt text (alt="" for '
        "decoration) in the review or the template",
        "FAIL links: 2 not absolute: /cover.jpg, /reviews/vertigo/; mail needs full https:// "
        "addresses: check [site] base_url and the template",
    ]


def test_a_digest_past_gmails_clipping_point_fails() -> None:
    """An HTML part over 102 KB fails; one under it passes with its size."""
    small, large = "<p>x</p>" * 100, "<p>x</p>" * 14_000
    assert check_message(mime(small))[0].line() == (
        "ok   size: the HTML part is 1 KB (Gmail clips past 102 KB)"
    )
    assert check_message(mime(large))[0].line() == (
        "FAIL size: the HTML part is 109 KB: Gmail clips it past 102 KB, unsubscribe link and "
        "all; lower [digest] max_items or slim the template"
    )


# -- the SMTP server ------------------------------------------------------------------------------


def test_starttls_and_auth_are_reported(tmp_path: Path) -> None:
    """A server with STARTTLS (its certificate checked) and AUTH after it: two 'ok' lines."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server = SmtpServer(
        tls_context=server_context, auth_require_tls=True, authenticator=authenticate
    ).start()
    try:
        smtp = (
            f'transport = "smtp"\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\n'
            f'username = "{USER}"\n'
        )
        config = site(tmp_path, GOOD, smtp)
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)
        checks = doctor.smtp_checks(config, lambda: probe_server(config, client_context))
    finally:
        server.stop()
    assert lines(checks) == [
        f"ok   SMTP TLS: 127.0.0.1:{server.port}: starttls TLS, certificate checked",
        f"ok   SMTP AUTH: 127.0.0.1:{server.port} offers AUTH LOGIN PLAIN",
    ]
    assert PASSWORD  # the login itself is left to `digest send --test`


def test_a_distant_server_without_tls_or_login_is_flagged(tmp_path: Path) -> None:
    """A relay elsewhere that offers no TLS fails, and sending to it without a login warns."""
    config = site(tmp_path, GOOD, '[smtp]\nhost = "relay.example.net"\nsecurity = "none"\n')
    offer = ServerOffer("none", (), pipelining=True)
    assert doctor.tls_check(config, "relay.example.net:587", offer).status == Status.FAIL
    assert doctor.auth_check(config, "relay.example.net:587", offer).status == Status.WARN
    offered = ServerOffer("offered", (), pipelining=True)
    assert doctor.tls_check(config, "relay.example.net:587", offered).line() == (
        "FAIL SMTP TLS: relay.example.net:587 offers STARTTLS but [smtp] security is 'none'; "
        "set [smtp] security = 'starttls'"
    )


# -- SpamAssassin and the whole command -----------------------------------------------------------


def example_site(root: Path) -> Config:
    """The repository's example site, its reviews dated recently enough for a digest."""
    for name in ("config.toml", "content", "templates"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, root / name)
    return load_config(root / "config.toml")


@pytest.mark.skipif(SPAMASSASSIN is None, reason="spamassassin is not installed (make system)")
def test_the_example_digest_scores_zero_or_below(tmp_path: Path) -> None:
    """SpamAssassin's local rules find nothing against the example digest (its hidden preheader
    included), and the preheader is still there."""
    config = example_site(tmp_path)
    sample = doctor._sample(config)
    assert not isinstance(sample, Check), sample
    check = doctor.check_spamassassin(sample.data, "spamassassin")
    assert check.status == Status.OK, check.line()
    preheader = re.search(
        r'<div class="preheader" style="([^"]*)">([^<]+)</div>', html_part(sample.data)
    )
    assert preheader
    assert "display: none" in preheader[1]
    assert "color" not in preheader[1]
    assert preheader[2].startswith("A patient new restoration")


def test_spamassassin_missing_is_skipped_with_the_reason() -> None:
    """Without spamassassin the check is skipped, saying so and how to get it."""
    check = doctor.check_spamassassin(b"Subject: x\r\n\r\nx\r\n", "no-such-spamassassin")
    assert check.line() == (
        "skip SpamAssassin: spamassassin is not installed; install Debian's spamassassin to "
        "score the digest"
    )


def run_doctor_cli(root: Path, nameserver: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDKIT_SECRET": SECRET, "FEEDKIT_NAMESERVER": nameserver}
    return subprocess.run(
        [sys.executable, "-m", "feedkit.cli", "doctor"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_command_fails_when_a_check_fails(tmp_path: Path, nameserver: str) -> None:
    """`feedkit doctor` prints one line a check, and exits 1 with a count when any failed; the
    nameserver comes from $FEEDKIT_NAMESERVER."""
    port = free_port()
    settings = f'[digest]\nfrom_address = "digest@{BROKEN}"\n'
    settings += f'unsubscribe_url = "http://127.0.0.1:{port}/unsubscribe"\n'
    write_site(tmp_path, {}, settings)
    result = run_doctor_cli(tmp_path, nameserver)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        f"FAIL SPF: {BROKEN}: 'v=spf1 +all' lets any server send as {BROKEN}; "
        "end it with -all or ~all",
        "skip DKIM: no [dkim] section: feedkit does not sign; fine if your relay signs; else see "
        "[dkim]",
        f"FAIL DMARC: no DMARC record at _dmarc.{BROKEN}; publish e.g. 'v=DMARC1; p=none; "
        f"rua=mailto:dmarc@{BROKEN}' (Gmail and Yahoo require one of bulk senders)",
    ]
    assert result.stderr == "error: 3 of 7 checks failed; each FAIL line says what to do\n"


def test_the_example_site_passes_every_check(tmp_path: Path, nameserver: str) -> None:
    """The repository's example, its records published and `feedkit serve` running, gets no FAIL
    and no warning, and the command exits 0."""
    example_site(tmp_path)
    port = free_port()
    config_file = tmp_path / "config.toml"
    unsubscribe = f'[digest]\nunsubscribe_url = "http://127.0.0.1:{port}/unsubscribe"'
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace("[digest]", unsubscribe, 1), "utf-8"
    )
    with serving_site(tmp_path, port):
        result = run_doctor_cli(tmp_path, nameserver)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert names == [
        "ok   SPF",
        "skip DKIM",
        "ok   DMARC",
        "ok   alignment",
        "ok   unsubscribe",
        "ok   size",
        "ok   images",
        "ok   links",
        "skip SMTP",
        "ok   SpamAssassin" if SPAMASSASSIN else "skip SpamAssassin",
    ]


def test_an_unusable_dkim_key_is_one_failed_line(tmp_path: Path, nameserver: str) -> None:
    """A key file that cannot be read fails once, naming it, and is not reported as DKIM being
    off."""
    config = site(tmp_path, GOOD, f'unsubscribe_url = "http://127.0.0.1:{free_port()}/u"\n')
    (tmp_path / "dkim.pem").unlink()
    found = lines(doctor.run_doctor(config, nameserver=nameserver))
    dkim_lines = [line for line in found if line.split(":")[0].endswith(("DKIM", "DKIM key"))]
    assert dkim_lines == [
        f"FAIL DKIM key: [dkim] key_file: {tmp_path / 'dkim.pem'} cannot be read (No such file "
        "or directory); point key_file at the PEM private key whose public half is published "
        "in DNS"
    ]
