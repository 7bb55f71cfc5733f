"""Loading config.toml into frozen settings objects.

Unknown keys and wrong types are found here; the checks on each value live in
``feedkit.config_checks``. Every problem is raised together, each line naming its key.
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo

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
    # The name of the environment variable that holds the password, never the password itself.
    password_env: str = "FEEDKIT_SMTP_PASSWORD"  # noqa: S105
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
        from feedkit.config_checks import check_topics, check_values  # noqa: PLC0415 - a cycle

        check_values(sections, errors)
        check_topics(topics, errors)
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
