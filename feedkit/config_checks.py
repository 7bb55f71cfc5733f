"""The checks each setting's value must pass once its type is right: addresses that are
addresses, URLs that are URLs, numbers in range, names that fit where they go. Every problem is
one line naming its key, and all of them are reported together.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import string
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedkit.config import (
    FEED_FORMATS,
    HOOK_EVENTS,
    PERMALINK_FIELDS,
    AlertSettings,
    BounceSettings,
    ContentSettings,
    DigestSettings,
    DkimSettings,
    FeedSettings,
    HookSettings,
    ScheduleSettings,
    SiteSettings,
    SmtpSettings,
    SubscribeSettings,
    TopicSettings,
    WebSettings,
)


def check_values(sections: dict[str, Any], errors: list[str]) -> None:
    site: SiteSettings = sections["site"]
    content: ContentSettings = sections["content"]
    feeds: FeedSettings = sections["feeds"]
    if not _is_http_url(site.base_url):
        _url_error(errors, "[site] base_url", site.base_url, "https://example.org/")
    try:
        ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(
            f"[site] timezone: {site.timezone!r} is not a time zone; write e.g. 'Europe/London' "
            "or 'UTC'"
        )
    _check_permalink(content.permalink, errors)
    _check_mail(sections, errors)
    _check_schedule(sections["schedule"], errors)
    _check_web(sections["web"], errors)
    _check_subscribe(sections["subscribe"], errors)
    _check_hooks(sections["hooks"], errors)
    _check_alerts(sections["alerts"], sections["digest"], errors)
    _check_bounces(sections["digest"], sections["bounces"], errors)
    _check_dkim(sections["dkim"], errors)
    if content.summary_words < 1:
        errors.append(f"[content] summary_words: must be at least 1, not {content.summary_words}")
    if content.max_file_kb < 1:
        errors.append(f"[content] max_file_kb: must be at least 1, not {content.max_file_kb}")
    if feeds.limit < 1:
        errors.append(f"[feeds] limit: must be at least 1, not {feeds.limit}")
    _check_hubs(feeds.websub_hubs, errors)
    for fmt in feeds.formats:
        if fmt not in FEED_FORMATS:
            guesses = difflib.get_close_matches(fmt, FEED_FORMATS, n=1)
            hint = f"did you mean '{guesses[0]}'?" if guesses else f"use {', '.join(FEED_FORMATS)}"
            errors.append(f"[feeds] formats: unknown format {fmt!r}; {hint}")


def _check_hubs(hubs: tuple[str, ...], errors: list[str]) -> None:
    for hub in hubs:
        if not _is_http_url(hub):
            _url_error(errors, "[feeds] websub_hubs", hub, "https://pubsubhubbub.appspot.com/")


def _url_error(errors: list[str], key: str, value: str, example: str) -> None:
    errors.append(f"{key}: {value!r} is not an absolute http(s) URL; write e.g. {example}")


TRANSPORTS = ("file", "smtp")


SECURITY_MODES = ("starttls", "tls", "none")


def _check_mail(sections: dict[str, Any], errors: list[str]) -> None:
    digest: DigestSettings = sections["digest"]
    smtp: SmtpSettings = sections["smtp"]
    if digest.transport not in TRANSPORTS:
        errors.append(
            f"[digest] transport: {digest.transport!r} is not one of {', '.join(TRANSPORTS)}"
        )
    if smtp.security not in SECURITY_MODES:
        errors.append(
            f"[smtp] security: {smtp.security!r} is not one of {', '.join(SECURITY_MODES)}"
        )
    for key, value in (("from_address", digest.from_address), ("reply_to", digest.reply_to)):
        if value and not _looks_like_address(value):
            errors.append(f"[digest] {key}: {value!r} is not a plain ASCII e-mail address")
    for key, number, low in (
        ("lookback_days", digest.lookback_days, 1),
        ("max_items", digest.max_items, 1),
    ):
        if number < low:
            errors.append(f"[digest] {key}: must be at least {low}, not {number}")
    for key, number, low in (
        ("connections", smtp.connections, 1),
        ("max_attempts", smtp.max_attempts, 1),
        ("rate_limit", smtp.rate_limit, 0),
        ("timeout", smtp.timeout, 1),
    ):
        if number < low:
            errors.append(f"[smtp] {key}: must be at least {low}, not {number}")
    _check_subject(digest.subject, errors)


def _looks_like_address(value: str) -> bool:
    return value.isascii() and "@" in value and not any(char in value for char in "\r\n<>, ")


SUBJECT_FIELDS = ("count", "first_title", "site_title", "date", "reviews")


def _check_subject(template: str, errors: list[str]) -> None:
    """Only the named fields, used plainly: no attribute or index access, no unknown names."""
    names = ", ".join("{" + name + "}" for name in SUBJECT_FIELDS)
    try:
        fields = [
            field for _, field, _, _ in string.Formatter().parse(template) if field is not None
        ]
    except ValueError as exc:
        errors.append(
            f"[digest] subject: {template!r} is not a valid template ({exc}); it may use {names}"
        )
        return
    if any(field not in SUBJECT_FIELDS for field in fields):
        errors.append(f"[digest] subject: {template!r} may only use {names}")


def _check_web(web: WebSettings, errors: list[str]) -> None:
    """Addresses and networks only: '*' or a host name would let any client say who it is."""
    if web.url and not _is_http_url(web.url):
        _url_error(errors, "[web] url", web.url, "https://example.org/")
    for value in web.trusted_proxies:
        if not _is_address_or_network(value):
            errors.append(
                f"[web] trusted_proxies: {value!r} is not an IP address or network;"
                " write e.g. '127.0.0.1' or '10.0.0.0/8'"
            )


def _check_subscribe(subscribe: SubscribeSettings, errors: list[str]) -> None:
    for key in ("confirm_hours", "pending_days", "client_per_hour", "total_per_hour"):
        _at_least(errors, "subscribe", key, getattr(subscribe, key), 1)
    for key in ("confirm_interval_minutes", "min_form_seconds"):
        _at_least(errors, "subscribe", key, getattr(subscribe, key), 0)
    _at_least(errors, "subscribe", "max_form_hours", subscribe.max_form_hours, 1)
    for domain in subscribe.refused_domains:
        if not _DOMAIN.match(domain):
            errors.append(
                f"[subscribe] refused_domains: {domain!r} is not a domain; write e.g. "
                "'mailinator.com'"
            )


def _at_least(errors: list[str], section: str, key: str, number: int, low: int) -> None:
    if number < low:
        errors.append(f"[{section}] {key}: must be at least {low}, not {number}")


def _check_hooks(hooks: HookSettings, errors: list[str]) -> None:
    if hooks.url and not _is_http_url(hooks.url):
        _url_error(errors, "[hooks] url", hooks.url, "https://example.org/feedkit-events")
    for event in hooks.events:
        if event not in HOOK_EVENTS:
            errors.append(f"[hooks] events: {event!r} is not one of {', '.join(HOOK_EVENTS)}")
    _at_least(errors, "hooks", "timeout", hooks.timeout, 1)


def check_topics(topics: tuple[TopicSettings, ...], errors: list[str]) -> None:
    """Names are what forms and the database keep: short, plain and unique."""
    seen: set[str] = set()
    for topic in topics:
        if not _TOPIC_NAME.match(topic.name):
            errors.append(
                f"[[topics]] name: {topic.name!r} must be lower-case letters, digits and '-', "
                "e.g. 'blu-ray'"
            )
        elif topic.name in seen:
            errors.append(f"[[topics]] name: {topic.name!r} is used by two topics")
        seen.add(topic.name)
        if not (topic.categories or topic.tags or topic.min_rating):
            errors.append(
                f"[[topics]] {topic.name}: give categories, tags or min_rating, or it holds "
                "nothing"
            )
        if not 0 <= topic.min_rating <= 5:
            errors.append(f"[[topics]] {topic.name}: min_rating must be from 0 to 5")


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


_TOPIC_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def _check_alerts(alerts: AlertSettings, digest: DigestSettings, errors: list[str]) -> None:
    """Addresses, URLs and numbers an alert needs; a typo here would only show in an emergency."""
    for address in (*alerts.to, alerts.from_address):
        if address and not _looks_like_address(address):
            errors.append(f"[alerts] to/from_address: {address!r} is not a plain e-mail address")
    if alerts.to and not (alerts.from_address or digest.from_address):
        errors.append(
            "[alerts] from_address: needed to mail alerts (or set [digest] from_address)"
        )
    for key in ("webhook_url", "ping_url"):
        url = getattr(alerts, key)
        if url and not _is_http_url(url):
            errors.append(f"[alerts] {key}: {url!r} is not an http(s) URL")
    for key in ("failures", "digest_late_minutes", "stale_after_minutes", "smtp_port"):
        if getattr(alerts, key) < 1:
            errors.append(f"[alerts] {key}: must be at least 1, not {getattr(alerts, key)}")
    if alerts.smtp_security not in SECURITY_MODES:
        modes = ", ".join(SECURITY_MODES)
        errors.append(f"[alerts] smtp_security: {alerts.smtp_security!r} is not one of {modes}")
    for value in alerts.monitoring_from:
        if not _is_address_or_network(value):
            errors.append(
                f"[alerts] monitoring_from: {value!r} is not an IP address or network;"
                " write e.g. '127.0.0.1' or '10.0.0.0/8'"
            )


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_address_or_network(value: str) -> bool:
    try:
        if "/" in value:
            ipaddress.ip_network(value)
        else:
            ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


VERP_FIELD = "{token}"


# A bounce token is 34 characters and the digest's number (up to 9 digits); a local part holds 64.
BOUNCE_TOKEN_ROOM = 43


IMAP_SECURITY = ("tls", "starttls", "none")


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _check_bounces(digest: DigestSettings, bounces: BounceSettings, errors: list[str]) -> None:
    if digest.bounce_address:
        _check_bounce_address(digest.bounce_address, errors)
    for key in ("hard_bounces", "soft_bounces", "soft_window_days"):
        if getattr(bounces, key) < 1:
            errors.append(f"[bounces] {key}: must be at least 1, not {getattr(bounces, key)}")
    if not 1 <= bounces.imap_port <= 65535:
        errors.append(f"[bounces] imap_port: {bounces.imap_port} is not a port (1 to 65535)")
    if bounces.imap_security not in IMAP_SECURITY:
        errors.append(
            f"[bounces] imap_security: {bounces.imap_security!r} is not one of "
            f"{', '.join(IMAP_SECURITY)}"
        )
    elif bounces.imap_security == "none" and bounces.imap_host not in ("", *LOOPBACK_HOSTS):
        errors.append(
            f"[bounces] imap_security: 'none' would send the password to {bounces.imap_host!r} "
            "unencrypted; use 'tls' or 'starttls' (plain IMAP only on this machine: 127.0.0.1)"
        )


def _check_bounce_address(value: str, errors: list[str]) -> None:
    """One {token} in the local part, room for it there, and an address once it is filled."""
    local, _, domain = value.rpartition("@")
    rest = value.replace(VERP_FIELD, "")
    problem = ""
    if not local or not domain or not _looks_like_address(value.replace(VERP_FIELD, "x")):
        problem = "is not a plain ASCII e-mail address"
    elif value.count(VERP_FIELD) != 1 or VERP_FIELD not in local:
        problem = f"needs one {VERP_FIELD} before the '@'"
    elif "{" in rest or "}" in rest:
        problem = f"may hold no placeholder but {VERP_FIELD}"
    elif len(local) - len(VERP_FIELD) + BOUNCE_TOKEN_ROOM > 64:
        room = 64 - BOUNCE_TOKEN_ROOM
        problem = f"leaves no room for the token: keep the rest before '@' to {room} characters"
    if problem:
        example = "write e.g. 'bounces+{token}@example.org'"
        errors.append(f"[digest] bounce_address: {value!r} {problem}; {example}")


_DNS_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"


_DNS_NAME = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")


def _check_dkim(dkim: DkimSettings, errors: list[str]) -> None:
    """DNS names where DNS names go; the key file itself is read when mail is signed."""
    if not dkim.enabled:
        return
    if not _DNS_NAME.fullmatch(dkim.selector):
        errors.append(
            f"[dkim] selector: {dkim.selector!r} is not a DNS label; write e.g. 'feedkit2025'"
        )
    if not _DNS_NAME.fullmatch(dkim.domain) or "." not in dkim.domain:
        errors.append(
            f"[dkim] domain: {dkim.domain!r} is not a domain name; write e.g. 'example.org'"
        )
    if not dkim.key_file:
        errors.append("[dkim] key_file: missing; selector, domain and key_file go together")


_CRON_FIELD = re.compile(r"^[A-Za-z0-9*/,-]+$")


def _check_schedule(schedule: ScheduleSettings, errors: list[str]) -> None:
    """The shape of each cron expression; `feedkit.schedule.check_schedule` reads them in full
    (check, run)."""
    if schedule.timezone:
        try:
            ZoneInfo(schedule.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(
                f"[schedule] timezone: {schedule.timezone!r} is not a time zone; write e.g. "
                "'Europe/London'"
            )
    for key in ("build", "digest"):
        expression = getattr(schedule, key)
        fields = expression.split()
        if expression and (
            len(fields) not in (5, 6) or not all(_CRON_FIELD.match(field) for field in fields)
        ):
            errors.append(
                cron_error(key, expression, "cron has 5 fields: minute hour day month weekday")
            )


def cron_error(key: str, expression: str, reason: str) -> str:
    return (
        f"[schedule] {key}: {expression!r} is not a cron expression ({reason}); "
        "write e.g. '0 8 * * FRI'"
    )


def _check_permalink(pattern: str, errors: list[str]) -> None:
    if not pattern.startswith("/") or "{slug}" not in pattern:
        errors.append(f"[content] permalink: {pattern!r} must start with '/' and contain {{slug}}")
        return
    try:
        pattern.format(**dict.fromkeys(PERMALINK_FIELDS, "x"))
    except (KeyError, IndexError, ValueError):
        fields_hint = ", ".join("{" + name + "}" for name in PERMALINK_FIELDS)
        errors.append(f"[content] permalink: {pattern!r} may only use {fields_hint}")
