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
    websub_hubs: tuple[str, ...] = ()  # WebSub hubs told of every changed feed
    archives: bool = True  # RFC 5005: the site's feed links to monthly archives of every review


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
    bounce_address: str = ""  # the envelope sender, with {token} (VERP); default: from_address


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
    watch: bool = True  # with the build on, also rebuild as soon as a review file changes


@dataclass(frozen=True, slots=True)
class StateSettings:
    """Where feedkit keeps its memory between runs."""

    database: str = ".feedkit/state.db"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """`feedkit serve`: where readers reach it, and the reverse proxies whose X-Forwarded-For
    header names the client."""

    url: str = ""  # default: the site's base_url (feedkit serve behind the site's own address)
    trusted_proxies: tuple[str, ...] = ()  # IP addresses or networks; none: the header is ignored


@dataclass(frozen=True, slots=True)
class SubscribeSettings:
    """Readers subscribing from the site: confirmed opt-in, and the defences of the form."""

    double_opt_in: bool = True
    confirm_hours: int = 48  # a confirmation link works this long
    pending_days: int = 30  # an unconfirmed request is forgotten after this
    refused_domains: tuple[str, ...] = ()  # addresses at these domains cannot subscribe
    confirm_interval_minutes: int = 60  # at most one confirmation mail per address in this time
    client_per_hour: int = 10  # subscribe requests one client may make
    total_per_hour: int = 500  # subscribe requests from everyone together
    min_form_seconds: int = 2  # a form sent sooner than this after it was shown is a robot's
    max_form_hours: int = 24  # a form older than this is not taken


@dataclass(frozen=True, slots=True)
class HookSettings:
    """A command and/or a URL told of subscribes, confirmations and unsubscribes (JSON)."""

    command: str = ""  # run without a shell; the event arrives on standard input
    url: str = ""  # receives a POST
    events: tuple[str, ...] = ("subscribe", "confirm", "unsubscribe")
    secret_env: str = ""  # names a variable whose value signs each POST (X-Feedkit-Signature)
    timeout: int = 10


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """One topic readers may choose: reviews in its categories or with its tags (any of them),
    rated at least `min_rating` when that is set."""

    name: str
    title: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_rating: float = 0.0

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Who hears of a job that keeps failing or a digest that did not go, and what counts as
    unhealthy; mail goes through the smtp_* settings here when smtp_host is set, else [smtp]."""

    to: tuple[str, ...] = ()
    from_address: str = ""  # default: [digest] from_address
    webhook_url: str = ""  # gets a JSON POST per alert and per recovery
    ping_url: str = ""  # a dead man's switch, fetched after every job that went through
    failures: int = 2  # failed runs of one job in a row that make an incident
    digest_late_minutes: int = 60  # a due digest not out this long after its time is an incident
    stale_after_minutes: int = 5  # a service heartbeat older than this is unhealthy
    monitoring_from: tuple[str, ...] = ("127.0.0.1", "::1")  # who may read /healthz and /metrics
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = "FEEDKIT_ALERTS_SMTP_PASSWORD"  # noqa: S105 - a variable's name


@dataclass(frozen=True, slots=True)
class BounceSettings:
    """When returned mail suppresses an address, where messages not understood are kept, and the
    IMAP mailbox `bounces ingest --imap` reads (its password from the variable named here)."""

    hard_bounces: int = 1  # hard bounces that mark an address bounced
    soft_bounces: int = 3  # soft bounces, from as many digests, within soft_window_days
    soft_window_days: int = 30
    kept_dir: str = ".feedkit/bounces-kept"  # messages not understood, for an editor to read
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"
    imap_user: str = ""
    imap_password_env: str = "FEEDKIT_IMAP_PASSWORD"  # noqa: S105 - a variable's name
    imap_folder: str = "INBOX"
    imap_move_to: str = ""  # a folder for messages read; empty: they are flagged as read instead


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
    "subscribe": SubscribeSettings,
    "hooks": HookSettings,
    "alerts": AlertSettings,
    "bounces": BounceSettings,
    "dkim": DkimSettings,
}
TOPICS = "topics"  # an array of tables, [[topics]]: the one key that is not a section
HOOK_EVENTS = ("subscribe", "confirm", "unsubscribe")


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
    subscribe: SubscribeSettings = SubscribeSettings()
    hooks: HookSettings = HookSettings()
    alerts: AlertSettings = AlertSettings()
    bounces: BounceSettings = BounceSettings()
    dkim: DkimSettings = DkimSettings()
    topics: tuple[TopicSettings, ...] = ()

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
    def web_url(self) -> str:
        """Where readers reach `feedkit serve`, ending in one slash: links in mail point here."""
        return self.web.url.rstrip("/") + "/" if self.web.url else self.base_url

    @property
    def kept_bounces_dir(self) -> Path:
        return self.root / self.bounces.kept_dir

    @property
    def unsubscribe_url(self) -> str:
        return self.digest.unsubscribe_url or self.web_url + "unsubscribe"

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
    _check_unknown(raw, {**SECTIONS, TOPICS: TopicSettings}, "", errors)
    sections = {
        name: _build_section(cls, raw.get(name, {}), name, errors)
        for name, cls in SECTIONS.items()
    }
    topics = _build_topics(raw.get(TOPICS, []), errors)
    if not errors:
        _check_values(sections, errors)
        _check_topics(topics, errors)
    if errors:
        raise ConfigError("\n".join(f"{path.name}: {error}" for error in errors))
    return Config(path=path.resolve(), topics=topics, **sections)


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


def _build_topics(raw: object, errors: list[str]) -> tuple[TopicSettings, ...]:
    """[[topics]]: each table one topic, checked like a section."""
    if not isinstance(raw, list):
        errors.append("[[topics]]: write each topic as a [[topics]] table with a name")
        return ()
    built = [_build_section(TopicSettings, table, TOPICS, errors) for table in raw]
    return tuple(topic for topic in built if topic is not None)


def _coerce(value: object, expected: object, key: str, errors: list[str]) -> object | None:
    """Check one value against its declared type; lists become tuples, whole numbers floats."""
    if typing.get_origin(expected) is tuple:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        errors.append(f"{key}: must be a list of strings, not {_type_name(value)}")
        return None
    accepted = _ACCEPTED.get(expected, ()) if isinstance(expected, type) else ()
    if isinstance(value, accepted) and not (isinstance(value, bool) and expected is not bool):
        return float(value) if isinstance(value, int) and expected is float else value
    errors.append(f"{key}: must be {_type_name_of(expected)}, not {_type_name(value)} {value!r}")
    return None


# The TOML types each declared type takes (a bool is an int to Python, and is refused apart).
_ACCEPTED: dict[type, tuple[type, ...]] = {
    bool: (bool,),
    int: (int,),
    float: (int, float),
    str: (str,),
}


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
        names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
        return names.get(expected, expected.__name__)
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
        parts = urlsplit(hub)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                f"[feeds] websub_hubs: {hub!r} is not an absolute http(s) URL; write e.g. "
                "https://pubsubhubbub.appspot.com/"
            )


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
    parts = urlsplit(web.url)
    if web.url and (parts.scheme not in ("http", "https") or not parts.netloc):
        errors.append(
            f"[web] url: {web.url!r} is not an absolute http(s) URL; write e.g. "
            "https://example.org/"
        )
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
    if hooks.url and urlsplit(hooks.url).scheme not in ("http", "https"):
        errors.append(f"[hooks] url: {hooks.url!r} is not an http(s) URL")
    for event in hooks.events:
        if event not in HOOK_EVENTS:
            errors.append(f"[hooks] events: {event!r} is not one of {', '.join(HOOK_EVENTS)}")
    _at_least(errors, "hooks", "timeout", hooks.timeout, 1)


def _check_topics(topics: tuple[TopicSettings, ...], errors: list[str]) -> None:
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
