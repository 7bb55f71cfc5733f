"""Loading and validating config.toml into frozen settings objects.

Every user-facing configuration error is raised here, all of them at once, each naming its key.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import string
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedkit.errors import ConfigError

FEED_FORMATS = ("rss", "atom", "json")
PERMALINK_FIELDS = ("year", "month", "day", "slug")


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """Who publishes the feeds and where the site lives."""

    title: str
    base_url: str
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""
    author_email: str = ""
    copyright: str = ""


@dataclass(frozen=True, slots=True)
class ContentSettings:
    """Where reviews are and how they become pages."""

    dir: str = "content"
    permalink: str = "/reviews/{year}/{slug}/"
    summary_words: int = 60
    max_file_kb: int = 5120  # a larger review file is refused unread


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """Which feeds are written, and how much goes in them."""

    output_dir: str = "public"
    formats: tuple[str, ...] = FEED_FORMATS
    limit: int = 50
    full_text: bool = True
    category_feeds: bool = True
    tag_feeds: bool = False
    stylesheet: bool = True


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """What goes in the e-mail digest and who it is from."""

    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    subject: str = "{site_title}: {count} new {reviews}, including {first_title}"
    lookback_days: int = 7
    max_items: int = 10
    transport: str = "file"
    outbox: str = "outbox"
    archive: bool = True
    unsubscribe_url: str = ""  # default: <base_url>unsubscribe
    unsubscribe_mailto: str = ""  # default: from_address


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the mail server; the password comes from the environment variable named
    here."""

    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password_env: str = "FEEDKIT_SMTP_PASSWORD"  # noqa: S105 - the name of a variable, not a password
    connections: int = 1
    rate_limit: int = 0
    max_attempts: int = 5
    timeout: int = 30
    pipelining: bool = True  # RFC 2920, where the server offers it: two round trips a message


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When `feedkit run` builds and sends: standard 5-field cron in `timezone` (default: the
    site's)."""

    timezone: str = ""
    build: str = "*/10 * * * *"
    digest: str = "0 8 * * FRI"
    catch_up: bool = True


@dataclass(frozen=True, slots=True)
class StateSettings:
    """Where feedkit keeps its memory between runs."""

    database: str = ".feedkit/state.db"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """`feedkit serve`: the reverse proxies whose X-Forwarded-For header names the client."""

    trusted_proxies: tuple[str, ...] = ()  # IP addresses or networks; none: the header is ignored


@dataclass(frozen=True, slots=True)
class DkimSettings:
    """DKIM signing by feedkit itself, for a site whose relay does not sign: all three or none."""

    selector: str = ""
    domain: str = ""
    key_file: str = ""  # a PEM RSA private key; its public half is published in DNS

    @property
    def enabled(self) -> bool:
        return bool(self.selector or self.domain or self.key_file)


SECTIONS: dict[str, type] = {
    "site": SiteSettings,
    "content": ContentSettings,
    "feeds": FeedSettings,
    "digest": DigestSettings,
    "smtp": SmtpSettings,
    "schedule": ScheduleSettings,
    "state": StateSettings,
    "web": WebSettings,
    "dkim": DkimSettings,
}


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration; paths are resolved against the config file's folder."""

    path: Path
    site: SiteSettings
    content: ContentSettings
    feeds: FeedSettings
    digest: DigestSettings
    smtp: SmtpSettings
    schedule: ScheduleSettings
    state: StateSettings
    web: WebSettings
    dkim: DkimSettings

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def content_dir(self) -> Path:
        return self.root / self.content.dir

    @property
    def output_dir(self) -> Path:
        return self.root / self.feeds.output_dir

    @property
    def database_path(self) -> Path:
        return self.root / self.state.database

    @property
    def outbox_dir(self) -> Path:
        return self.root / self.digest.outbox

    @property
    def unsubscribe_url(self) -> str:
        return self.digest.unsubscribe_url or self.base_url + "unsubscribe"

    @property
    def schedule_zone(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.timezone or self.site.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def base_url(self) -> str:
        """The site's base URL, always ending in one slash."""
        return self.site.base_url.rstrip("/") + "/"


def load_config(path: Path) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    raw = _read_toml(path)
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document; `path` names the file in messages."""
    errors: list[str] = []
    _check_unknown(raw, SECTIONS, "", errors)
    sections = {
        name: _build_section(cls, raw.get(name, {}), name, errors)
        for name, cls in SECTIONS.items()
    }
    if not errors:
        _check_values(sections, errors)
    if errors:
        raise ConfigError("\n".join(f"{path.name}: {error}" for error in errors))
    return Config(path=path.resolve(), **sections)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file",
            "run 'feedkit init DIR' to start a site, or pass --config PATH",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text", "save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: is not valid TOML ({exc})", "fix the line it names") from exc


def _check_unknown(
    raw: dict[str, Any], known: typing.Mapping[str, object], prefix: str, errors: list[str]
) -> None:
    for key in raw:
        if key in known:
            continue
        where = f"[{prefix}] {key}" if prefix else f"[{key}]"
        what = "unknown key" if prefix else "unknown section"
        guesses = difflib.get_close_matches(key, list(known), n=1)
        hint = f"; did you mean '{guesses[0]}'?" if guesses else f"; known: {', '.join(known)}"
        errors.append(f"{where}: {what}{hint}")


def _build_section(cls: type, raw: object, name: str, errors: list[str]) -> Any:
    if not isinstance(raw, dict):
        errors.append(f"[{name}]: must be a table (a [{name}] section), not {_type_name(raw)}")
        raw = {}
    hints = get_type_hints(cls)
    _check_unknown(raw, hints, name, errors)
    values: dict[str, Any] = {}
    for field in fields(cls):
        if field.name in raw:
            value = _coerce(raw[field.name], hints[field.name], f"[{name}] {field.name}", errors)
            if value is not None:
                values[field.name] = value
        elif field.default is MISSING:
            errors.append(f"[{name}] {field.name}: missing; this setting is required")
    try:
        return cls(**values)
    except TypeError:
        return None  # a required value was missing or wrong; already reported


def _coerce(value: object, expected: object, key: str, errors: list[str]) -> object | None:
    """Check one value against its declared type; lists become tuples."""
    if typing.get_origin(expected) is tuple:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        errors.append(f"{key}: must be a list of strings, not {_type_name(value)}")
        return None
    if expected is bool and isinstance(value, bool):
        return value
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected is str and isinstance(value, str):
        return value
    errors.append(f"{key}: must be {_type_name_of(expected)}, not {_type_name(value)} {value!r}")
    return None


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
    }.get(type(value), "a table")


def _type_name_of(expected: object) -> str:
    if isinstance(expected, type):
        return {bool: "true or false", int: "a whole number", str: "a string"}.get(
            expected, expected.__name__
        )
    return str(expected) if not isinstance(expected, types.GenericAlias) else "a list"


def _check_values(sections: dict[str, Any], errors: list[str]) -> None:
    site: SiteSettings = sections["site"]
    content: ContentSettings = sections["content"]
    feeds: FeedSettings = sections["feeds"]
    parts = urlsplit(site.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append(
            f"[site] base_url: {site.base_url!r} is not an absolute http(s) URL; write e.g. https://example.org/"
        )
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
    _check_dkim(sections["dkim"], errors)
    if content.summary_words < 1:
        errors.append(f"[content] summary_words: must be at least 1, not {content.summary_words}")
    if content.max_file_kb < 1:
        errors.append(f"[content] max_file_kb: must be at least 1, not {content.max_file_kb}")
    if feeds.limit < 1:
        errors.append(f"[feeds] limit: must be at least 1, not {feeds.limit}")
    for fmt in feeds.formats:
        if fmt not in FEED_FORMATS:
            guesses = difflib.get_close_matches(fmt, FEED_FORMATS, n=1)
            hint = f"did you mean '{guesses[0]}'?" if guesses else f"use {', '.join(FEED_FORMATS)}"
            errors.append(f"[feeds] formats: unknown format {fmt!r}; {hint}")


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
    for value in web.trusted_proxies:
        try:
            if "/" in value:
                ipaddress.ip_network(value)
            else:
                ipaddress.ip_address(value)
        except ValueError:
            errors.append(
                f"[web] trusted_proxies: {value!r} is not an IP address or network;"
                " write e.g. '127.0.0.1' or '10.0.0.0/8'"
            )


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
