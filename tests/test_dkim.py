"""DKIM signing: every copy that reaches the real SMTP server (aiosmtpd) verifies with dkimpy's own
verifier, and bad [dkim] settings are one line each.

The verifier looks the selector's public key up in a real DNS server on loopback (dnsmasq, as in
`feedkit doctor`'s tests) serving the record a site would publish; the function handed to dkimpy
only points its query at that server instead of the machine's resolver.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import dkim
import dns.exception
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from feedkit.config import Config, load_config
from feedkit.errors import ConfigError
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns, history
from tests.conftest import SECRET, import_rows, write_site, yesterdays_review
from tests.dns_server import dkim_record, dnsmasq, resolver_at, txt
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.usefixtures("feedkit_secret")
SELECTOR, DOMAIN = "feedkit2025", "reviews.example.org"
DKIM_SECTION = f'[dkim]\nselector = "{SELECTOR}"\ndomain = "{DOMAIN}"\nkey_file = "dkim.pem"\n'


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)


@pytest.fixture(scope="module")
def nameserver(private_key: rsa.RSAPrivateKey) -> Iterator[str]:
    """dnsmasq publishing the key at <selector>._domainkey.<domain>, as a site would."""
    name = f"{SELECTOR}._domainkey.{DOMAIN}"
    records = [txt(name, *dkim_record(private_key))]
    with dnsmasq(records, probe=name, zones=[DOMAIN]) as running:
        yield running


@pytest.fixture(scope="module")
def lookup(nameserver: str) -> Callable[..., bytes | None]:
    """dkimpy's DNS lookup, asking the loopback server: the TXT strings joined, as dkimpy's own
    lookup joins them; None where there is no record."""
    resolver = resolver_at(nameserver)

    def txt_record(name: bytes, timeout: float = 5) -> bytes | None:
        del timeout  # the resolver has its own
        try:
            answer = resolver.resolve(name.decode(), "TXT")
        except dns.exception.DNSException:
            return None
        return b"".join(answer[0].strings)

    return txt_record


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


def signed_site(root: Path, server: SmtpServer, key: rsa.RSAPrivateKey) -> Config:
    write_key(root / "dkim.pem", key)
    settings = (
        f'[digest]\nfrom_address = "digest@{DOMAIN}"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n' + DKIM_SECTION
    )
    return load_config(write_site(root, {"a.md": yesterdays_review("Vertigo")}, settings))


def send_to(config: Config, count: int) -> None:
    addresses = [f"reader{number}@example.org" for number in range(count)]
    import_rows(config, [[address] for address in addresses])
    campaigns.send(config, lambda: open_transport(config))


def test_every_copy_arrives_signed_and_verifies(
    tmp_path: Path,
    server: SmtpServer,
    private_key: rsa.RSAPrivateKey,
    lookup: Callable[..., bytes | None],
) -> None:
    """Each recipient's copy, as the server received it, carries a relaxed/relaxed signature by
    the configured domain and selector over the headers that carry the personal parts."""
    send_to(signed_site(tmp_path, server, private_key), 2)
    received = server.handler.received
    assert len(received) == 2
    for item in received:
        assert dkim.verify(item.data, dnsfunc=lookup)
        fields = dict(
            re.findall(r"(\w+)=([^;]*)", " ".join(str(item.message["DKIM-Signature"]).split()))
        )
        assert (fields["d"], fields["s"], fields["c"]) == (DOMAIN, SELECTOR, "relaxed/relaxed")
        signed = {name.strip().lower() for name in fields["h"].split(":")}
        assert {"from", "to", "subject", "message-id", "list-unsubscribe"} <= signed
        assert {"list-unsubscribe-post", "content-type", "date"} <= signed


def test_a_changed_copy_no_longer_verifies(
    tmp_path: Path,
    server: SmtpServer,
    private_key: rsa.RSAPrivateKey,
    lookup: Callable[..., bytes | None],
) -> None:
    """The verifier really checks: one changed character in the body makes it fail."""
    send_to(signed_site(tmp_path, server, private_key), 1)
    data = server.handler.received[0].data
    changed = data.replace(b"Vertigo", b"Vertigi", 1)
    assert changed != data
    assert not dkim.verify(changed, dnsfunc=lookup)


def test_one_readers_signature_does_not_cover_anothers_link(
    tmp_path: Path,
    server: SmtpServer,
    private_key: rsa.RSAPrivateKey,
    lookup: Callable[..., bytes | None],
) -> None:
    """Why each copy is signed on its own: with another reader's List-Unsubscribe header (and
    body) a copy's signature fails, so no one signature could serve every copy."""
    send_to(signed_site(tmp_path, server, private_key), 2)
    first, second = (item.data for item in server.handler.received)
    header = re.compile(rb"List-Unsubscribe: <[^>]*>")
    other_header = header.search(second)
    assert other_header
    swapped = header.sub(lambda _match: other_header[0], first, count=1)
    assert swapped != first
    assert not dkim.verify(swapped, dnsfunc=lookup)


def test_bad_dkim_settings_are_one_line_each(tmp_path: Path) -> None:
    """A selector or domain that is not a DNS name, and a missing key file, each get one line
    naming the key."""
    section = '[dkim]\nselector = "my selector"\ndomain = "example"\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write_site(tmp_path, {}, section))
    assert str(caught.value).splitlines() == [
        "config.toml: [dkim] selector: 'my selector' is not a DNS label; write e.g. 'feedkit2025'",
        "config.toml: [dkim] domain: 'example' is not a domain name; write e.g. 'example.org'",
        "config.toml: [dkim] key_file: missing; selector, domain and key_file go together",
    ]


def run_send(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    command = [sys.executable, "-m", "feedkit.cli", "digest", "send", "--yes"]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read (No such file or directory)"),
        (b"not a key\n", "is not a PEM RSA private key"),
    ],
)
def test_an_unusable_key_file_is_one_line_naming_it(
    tmp_path: Path,
    server: SmtpServer,
    private_key: rsa.RSAPrivateKey,
    content: bytes | None,
    problem: str,
) -> None:
    """`digest send` with a key file that is missing or not a key stops before it freezes a
    digest, with one line naming the file and exit code 2."""
    config = signed_site(tmp_path, server, private_key)
    key = tmp_path / "dkim.pem"
    if content is None:
        key.unlink()
    else:
        key.write_bytes(content)
    import_rows(config, [["reader@example.org"]])
    sent = run_send(tmp_path)
    assert sent.returncode == 2
    assert sent.stderr.splitlines() == [
        f"error: [dkim] key_file: {key} {problem}; "
        "point key_file at the PEM private key whose public half is published in DNS"
    ]
    assert server.handler.received == []
    assert history.status(config) == []
