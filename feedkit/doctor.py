"""`feedkit doctor`: what decides whether the digest reaches inboxes, checked from this machine.

SPF, DKIM and DMARC in DNS and their alignment with From; the one-click unsubscribe; the digest's
size, images and links; the SMTP server's TLS and AUTH; SpamAssassin's score where it is installed.
Nothing is sent and nothing recorded: the one-click POST names an address no list can hold.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import ip_address

from feedkit import httpclient
from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.mail.checks import (
    Check,
    DnsLookupError,
    Status,
    check_alignment,
    check_dkim,
    check_dmarc,
    check_message,
    check_spf,
    find_dmarc,
    make_resolver,
)
from feedkit.mail.message import OutgoingMessage
from feedkit.mail.signing import DkimSigner, load_signer
from feedkit.mail.transports import ServerOffer, probe_server
from feedkit.newsletter.campaigns import PREVIEW_RECIPIENT, send_test
from feedkit.newsletter.messages import sender_address, unsubscribe_link
from feedkit.tokens import Tokens, secret_from_environment

# Under .invalid (RFC 2606), so never a subscriber: a POST for it unsubscribes nobody.
PROBE_ADDRESS = "doctor-probe@feedkit.invalid"
HTTP_TIMEOUT = 10
SPAMASSASSIN_TIMEOUT = 120


@dataclass
class _Keep:
    """A transport that keeps the one message it is given (the sample digest), sending nothing."""

    kept: list[OutgoingMessage] = field(default_factory=list)

    def __enter__(self) -> _Keep:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, sender: str, message: OutgoingMessage) -> None:  # noqa: ARG002 - the interface
        self.kept.append(message)


def run_doctor(
    config: Config,
    *,
    nameserver: str | None = None,
    probe: Callable[[], ServerOffer] | None = None,
    spamassassin: str = "spamassassin",
) -> list[Check]:
    """Every check, in the order the report shows them."""
    checks, signer = _signer(config)
    checks += dns_checks(config, nameserver, signer)
    checks.append(check_unsubscribe(config))
    sample = _sample(config)
    if isinstance(sample, Check):
        checks.append(sample)
    else:
        checks += check_message(sample.data)
    checks += smtp_checks(config, probe or functools.partial(probe_server, config))
    if not isinstance(sample, Check):
        checks.append(check_spamassassin(sample.data, spamassassin))
    return checks


def _signer(config: Config) -> tuple[list[Check], DkimSigner | None]:
    try:
        return [], load_signer(config)
    except FeedkitError as exc:
        return [Check("DKIM key", Status.FAIL, exc.message, exc.hint)], None


def dns_checks(config: Config, nameserver: str | None, signer: DkimSigner | None) -> list[Check]:
    resolver = make_resolver(nameserver)
    from_domain = sender_address(config).rpartition("@")[2]
    # SPF is checked for the envelope sender: the bounce address's domain, where there is one.
    envelope_domain = (config.digest.bounce_address or sender_address(config)).rpartition("@")[2]
    try:
        dmarc = find_dmarc(resolver, from_domain)
        checks = [check_spf(resolver, envelope_domain)]
        if signer is not None or not config.dkim.enabled:  # else its key already failed
            checks.append(check_dkim(resolver, signer))
        checks.append(check_dmarc(from_domain, dmarc))
        checks.append(check_alignment(from_domain, envelope_domain, signer, dmarc))
    except DnsLookupError as exc:
        where = nameserver or "the system's resolvers"
        return [Check("DNS", Status.FAIL, f"{where}: {exc}", "check --nameserver or the network")]
    return checks


def check_unsubscribe(config: Config) -> Check:
    """RFC 8058: a mail client unsubscribes with one POST and no page in between."""
    try:
        tokens = Tokens(secret_from_environment())
    except FeedkitError as exc:
        return Check("unsubscribe", Status.FAIL, exc.message, exc.hint)
    url = unsubscribe_link(config, tokens, PROBE_ADDRESS)
    shown = config.unsubscribe_url
    remedy = "run 'feedkit serve' behind that address ([digest] unsubscribe_url, or base_url)"
    if not url.startswith(("https://", "http://")):
        return Check("unsubscribe", Status.FAIL, f"{shown} is not an http(s) address", remedy)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        status = httpclient.send(url, b"List-Unsubscribe=One-Click", form, timeout=HTTP_TIMEOUT)
    except httpclient.HttpFailure as failure:
        if failure.status is None:
            answer = f"POST {shown}: {failure}"
            return Check("unsubscribe", Status.FAIL, answer, remedy)
        status = failure.status
    if status != 200:
        return Check("unsubscribe", Status.FAIL, f"POST {shown} answered {status}", remedy)
    return Check("unsubscribe", Status.OK, f"a one-click POST to {shown} answered 200")


def _sample(config: Config) -> OutgoingMessage | Check:
    """The next digest as one reader would get it (signed, if feedkit signs); or why not."""
    keeper = _Keep()
    try:
        send_test(config, PREVIEW_RECIPIENT, keeper)
    except FeedkitError as exc:
        return Check("digest", Status.SKIP, f"no sample digest to check: {exc.message}", exc.hint)
    return keeper.kept[0]


def smtp_checks(config: Config, probe: Callable[[], ServerOffer]) -> list[Check]:
    if config.digest.transport != "smtp":
        reason = "[digest] transport is 'file': no SMTP server to check"
        return [Check("SMTP", Status.SKIP, reason)]
    settings = config.smtp
    where = f"{settings.host}:{settings.port}"
    try:
        offer = probe()
    except FeedkitError as exc:
        return [Check("SMTP", Status.FAIL, exc.message, exc.hint)]
    return [tls_check(config, where, offer), auth_check(config, where, offer)]


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def tls_check(config: Config, where: str, offer: ServerOffer) -> Check:
    if offer.tls in ("implicit", "starttls"):
        return Check("SMTP TLS", Status.OK, f"{where}: {offer.tls} TLS, certificate checked")
    if _is_loopback(config.smtp.host):
        return Check("SMTP TLS", Status.OK, f"{where} is this machine: no TLS needed")
    if offer.tls == "offered":
        detail = f"{where} offers STARTTLS but [smtp] security is 'none'"
        return Check("SMTP TLS", Status.FAIL, detail, "set [smtp] security = 'starttls'")
    return Check(
        "SMTP TLS",
        Status.FAIL,
        f"{where} offers no TLS: the password and every message cross the network in clear",
        "use the relay's submission port (587 with starttls, or 465 with tls)",
    )


def auth_check(config: Config, where: str, offer: ServerOffer) -> Check:
    offered = " ".join(offer.auth)
    if config.smtp.username:
        if offer.auth:
            return Check("SMTP AUTH", Status.OK, f"{where} offers AUTH {offered}")
        detail = f"[smtp] username is set but {where} offers no AUTH"
        return Check("SMTP AUTH", Status.FAIL, detail, "check [smtp] host, port and security")
    if _is_loopback(config.smtp.host):
        return Check("SMTP AUTH", Status.OK, f"{where} is this machine: no login needed")
    return Check(
        "SMTP AUTH",
        Status.WARN,
        f"no [smtp] username: {where} must accept this machine by its address",
        "set [smtp] username (and the password variable) if the relay asks for a login",
    )


_STATUS_HEADER = re.compile(r"^X-Spam-Status: \w+, score=(-?[\d.]+) required=([\d.]+)", re.M)
_TESTS = re.compile(r"\btests=(.*?)(?:\sautolearn=|\sversion=|$)", re.S | re.M)


def check_spamassassin(data: bytes, command: str) -> Check:
    """The digest's score with SpamAssassin's local rules (-L: no network tests)."""
    program = shutil.which(command)
    if program is None:
        return Check(
            "SpamAssassin",
            Status.SKIP,
            "spamassassin is not installed",
            "install Debian's spamassassin to score the digest",
        )
    try:
        scored = subprocess.run(  # noqa: S603 - a program found on PATH, no shell
            [program, "-L", "-t"],
            input=data,
            capture_output=True,
            timeout=SPAMASSASSIN_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("SpamAssassin", Status.FAIL, f"{program} did not run ({exc})")
    return _score(scored.stdout.decode("utf-8", "replace"))


def _score(output: str) -> Check:
    head = re.sub(r"\r?\n[ \t]+", " ", output.split("\n\n", 1)[0])
    status = _STATUS_HEADER.search(head)
    if status is None:
        return Check("SpamAssassin", Status.FAIL, "spamassassin gave no X-Spam-Status header")
    score, required = float(status[1]), float(status[2])
    found = _TESTS.search(head[status.start() :])
    rules = "".join(found[1].split()) if found else ""
    detail = f"score {score:g} (rules: {rules or 'none'})"
    if score <= 0:
        return Check("SpamAssassin", Status.OK, detail)
    remedy = "look up each rule above 0 and change the template or content that triggers it"
    level = Status.FAIL if score >= required else Status.WARN
    return Check("SpamAssassin", level, f"{detail}; {required:g} marks spam", remedy)
