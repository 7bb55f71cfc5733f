"""What `feedkit doctor` checks in DNS and in the message itself, each as one line with a remedy.

DNS answers come through a dnspython resolver the caller makes (its nameserver can be set, for a
test server or a split-horizon set-up). Organizational domains are taken as the last two labels:
no public suffix list, so a site under e.g. co.uk should read the alignment line with that in mind.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import enum
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from dkim.crypto import UnparsableKeyError, parse_public_key

from feedkit.errors import UsageError
from feedkit.mail.signing import DkimSigner

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail shows "[Message clipped]" past this much HTML
DNS_TIMEOUT = 5.0  # seconds for one lookup, retries included


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    remedy: str = ""

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.name}: {self.detail}"
        return f"{text}; {self.remedy}" if self.remedy else text


# -- DNS ----------------------------------------------------------------------------------------


def make_resolver(nameserver: str | None) -> dns.resolver.Resolver:
    """The system's resolver, or one that asks only `nameserver` (HOST or HOST:PORT)."""
    if not nameserver:
        return dns.resolver.Resolver()
    host, _, port = (
        nameserver.partition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
    )
    resolver = dns.resolver.Resolver(configure=False)
    try:
        resolver.nameservers = [host]
        resolver.port = int(port) if port else 53
    except ValueError as exc:
        raise UsageError(
            f"--nameserver {nameserver!r} is not an IP address with an optional :PORT",
            "write e.g. 127.0.0.1:5353",
        ) from exc
    resolver.lifetime = DNS_TIMEOUT
    return resolver


class DnsLookupError(Exception):
    """No answer at all (timeout, no server): not the same as a name with no record."""


def txt_records(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """Every TXT record at `name`, each one's strings joined; none when the name has none."""
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise DnsLookupError(f"no answer for {name} ({exc.__class__.__name__})") from exc
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer.rrset or []]


def tags(record: str) -> dict[str, str]:
    """The tag=value pairs of a DKIM or DMARC record."""
    pairs = (part.split("=", 1) for part in record.split(";") if "=" in part)
    return {key.strip().lower(): "".join(value.split()) for key, value in pairs}


def check_spf(resolver: dns.resolver.Resolver, domain: str) -> Check:
    records = [r for r in txt_records(resolver, domain) if r.lower().startswith("v=spf1")]
    if not records:
        return Check(
            "SPF",
            Status.FAIL,
            f"no SPF record at {domain}",
            f"publish one TXT record at {domain}, e.g. 'v=spf1 include:<your relay's> -all'",
        )
    if len(records) > 1:
        return Check(
            "SPF",
            Status.FAIL,
            f"{len(records)} SPF records at {domain}: receivers treat that as an error",
            "merge them into one",
        )
    if records[0].split()[-1].lower() in ("+all", "all", "?all"):
        return Check(
            "SPF",
            Status.FAIL,
            f"{domain}: '{records[0]}' lets any server send as {domain}",
            "end it with -all or ~all",
        )
    return Check("SPF", Status.OK, f"{domain}: {records[0]}")


def check_dkim(resolver: dns.resolver.Resolver, signer: DkimSigner | None) -> Check:
    if signer is None:
        return Check(
            "DKIM",
            Status.SKIP,
            "no [dkim] section: feedkit does not sign",
            "fine if your relay signs; else see [dkim]",
        )
    name = f"{signer.selector}._domainkey.{signer.domain}"
    publish = f"publish the public half of {signer.key_path} at {name}"
    records = [r for r in txt_records(resolver, name) if "p=" in r]
    if not records:
        return Check("DKIM", Status.FAIL, f"no DKIM record at {name}", publish)
    published = _public_numbers(tags(records[0]).get("p", ""))
    if published is None:
        return Check("DKIM", Status.FAIL, f"{name}: the p= key is empty or unreadable", publish)
    if published != signer.public_numbers():
        return Check(
            "DKIM", Status.FAIL, f"{name}: the published key is not key_file's public key", publish
        )
    return Check("DKIM", Status.OK, f"{name} holds the public half of key_file")


def _public_numbers(value: str) -> tuple[int, int] | None:
    try:
        parsed = parse_public_key(base64.b64decode(value, validate=True))
    except (binascii.Error, UnparsableKeyError, ValueError, IndexError):
        return None
    return int(parsed["modulus"]), int(parsed["publicExponent"])


@dataclass(frozen=True, slots=True)
class Dmarc:
    """A DMARC record found for the From domain, or none."""

    name: str
    tags: dict[str, str]


def find_dmarc(resolver: dns.resolver.Resolver, domain: str) -> Dmarc | None:
    """The record at _dmarc.<domain>, else at its organizational domain's (RFC 7489 6.6.3)."""
    for candidate in dict.fromkeys((domain, organizational(domain))):
        name = f"_dmarc.{candidate}"
        for record in txt_records(resolver, name):
            if record.replace(" ", "").upper().startswith("V=DMARC1"):
                return Dmarc(name, tags(record))
    return None


def check_dmarc(domain: str, dmarc: Dmarc | None) -> Check:
    if dmarc is None:
        return Check(
            "DMARC",
            Status.FAIL,
            f"no DMARC record at _dmarc.{domain}",
            f"publish e.g. 'v=DMARC1; p=none; rua=mailto:dmarc@{domain}' (Gmail and Yahoo "
            "require one of bulk senders)",
        )
    policy = dmarc.tags.get("p", "")
    if policy not in ("none", "quarantine", "reject"):
        return Check(
            "DMARC",
            Status.FAIL,
            f"{dmarc.name}: p={policy or '(missing)'} is not a policy",
            "set p=none, p=quarantine or p=reject",
        )
    return Check("DMARC", Status.OK, f"{dmarc.name}: policy {policy}")


def organizational(domain: str) -> str:
    return ".".join(domain.lower().rstrip(".").split(".")[-2:])


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    if mode == "s":
        return domain.lower() == from_domain.lower()
    return organizational(domain) == organizational(from_domain)


def check_alignment(
    from_domain: str, envelope_domain: str, signer: DkimSigner | None, dmarc: Dmarc | None
) -> Check:
    """DMARC passes on SPF or DKIM, each only if its domain aligns with From's."""
    found = dmarc.tags if dmarc else {}
    if signer is not None and aligned(signer.domain, from_domain, found.get("adkim", "r")):
        return Check(
            "alignment", Status.OK, f"DKIM d={signer.domain} aligns with From {from_domain}"
        )
    if aligned(envelope_domain, from_domain, found.get("aspf", "r")):
        detail = f"the envelope sender's domain {envelope_domain} aligns with From {from_domain}"
        if signer is not None:
            detail += f" (DKIM d={signer.domain} does not)"
        return Check("alignment", Status.OK, detail)
    return Check(
        "alignment",
        Status.FAIL,
        f"neither DKIM nor the envelope sender ({envelope_domain}) aligns with From {from_domain}",
        "sign with [dkim] domain set to the From domain, or send from the domain SPF covers",
    )


# -- the message --------------------------------------------------------------------------------


def html_part(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always makes one
        return ""
    part = message.get_body(("html",))
    return str(part.get_content()) if part is not None else ""


class _Tags(HTMLParser):
    """Images without an alt attribute, and links or image sources that are not absolute."""

    def __init__(self) -> None:
        super().__init__()
        self.images_without_alt: list[str] = []
        self.relative: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and "alt" not in found:
            self.images_without_alt.append(found.get("src") or "(no src)")
        address = found.get("href") if tag == "a" else found.get("src") if tag == "img" else None
        if address is not None and not _absolute(address):
            self.relative.append(address)


def _absolute(address: str) -> bool:
    parts = urlsplit(address.strip())
    return parts.scheme in ("mailto", "tel") or (
        parts.scheme in ("http", "https") and bool(parts.netloc)
    )


def check_message(data: bytes) -> list[Check]:
    """Size against Gmail's clipping, images without alt, links that are not absolute."""
    html = html_part(data)
    size = len(html.encode("utf-8"))
    kb = f"{size / 1024:.0f} KB"
    if size > GMAIL_CLIP_BYTES:
        sized = Check(
            "size",
            Status.FAIL,
            f"the HTML part is {kb}: Gmail clips it past 102 KB, unsubscribe link and all",
            "lower [digest] max_items or slim the template",
        )
    else:
        sized = Check("size", Status.OK, f"the HTML part is {kb} (Gmail clips past 102 KB)")
    tags_found = _Tags()
    tags_found.feed(html)
    return [sized, _alt_check(tags_found.images_without_alt), _link_check(tags_found.relative)]


def _first_three(items: list[str]) -> str:
    """Enough of a long list to find the place, and a mark that there is more."""
    return ", ".join(items[:3]) + (", …" if len(items) > 3 else "")


def _alt_check(images: list[str]) -> Check:
    if not images:
        return Check("images", Status.OK, "every image has alt text")
    return Check(
        "images",
        Status.FAIL,
        f"{len(images)} without alt: {_first_three(images)}",
        'give each image alt text (alt="" for decoration) in the review or the template',
    )


def _link_check(relative: list[str]) -> Check:
    if not relative:
        return Check("links", Status.OK, "every link and image address is absolute")
    return Check(
        "links",
        Status.FAIL,
        f"{len(relative)} not absolute: {_first_three(relative)}",
        "mail needs full https:// addresses: check [site] base_url and the template",
    )
