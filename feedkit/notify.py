"""Where alerts go: one plain-text mail to the addresses in [alerts] to, a JSON POST to a webhook,
and a GET to a dead man's switch. Each failure is one FeedkitError saying where and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from feedkit import __version__, httpclient
from feedkit.config import Config, SmtpSettings
from feedkit.errors import FeedkitError
from feedkit.mail.message import OutgoingMessage
from feedkit.mail.transports import open_transport

HTTP_TIMEOUT = 10  # seconds: an alert or a ping must never hold a job up for long
USER_AGENT = f"feedkit/{__version__}"


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell: an incident that opened, or one that recovered."""

    event: str  # "alert" or "recovered"
    incident: str  # the incident's stable name, e.g. 'job-digest'
    summary: str
    site: str
    opened_at: datetime
    at: datetime

    @property
    def headline(self) -> str:
        prefix = "recovered: " if self.event == "recovered" else ""
        return f"{self.site}: {prefix}{self.summary}"

    def text(self) -> str:
        lines = [self.headline, "", f"Incident: {self.incident}", f"Began: {_iso(self.opened_at)}"]
        if self.event == "recovered":
            lines.append(f"Recovered: {_iso(self.at)}")
        lines += ["", "`feedkit status` shows the service's health; its log says more.", ""]
        return "\n".join(lines)

    def as_json(self) -> dict[str, str]:
        """The webhook's body; `text` is what chat webhooks (Slack, Mattermost) show."""
        return {
            "event": self.event,
            "incident": self.incident,
            "summary": self.summary,
            "site": self.site,
            "opened_at": _iso(self.opened_at),
            "at": _iso(self.at),
            "text": self.headline,
        }


def mail_notice(config: Config, notice: Notice) -> None:
    """One message to every address in [alerts] to, through the alerts' own server if one is
    set (the digest's may be what failed), else through [smtp]."""
    settings = config.alerts
    sender = settings.from_address or config.digest.from_address
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(settings.to)
    message["Subject"] = f"[feedkit] {notice.headline}"
    message["Date"] = format_datetime(notice.at)
    message["Message-ID"] = make_msgid("alert", domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text())
    data = message.as_bytes()
    with open_transport(alert_mail_config(config)) as transport:
        for address in settings.to:
            transport.send(sender, OutgoingMessage(address, str(message["Message-ID"]), data))


def alert_mail_config(config: Config) -> Config:
    """The configuration alert mail is sent with: always SMTP, and the [alerts] server if set."""
    settings = config.alerts
    digest = replace(config.digest, transport="smtp")
    if not settings.smtp_host:
        return replace(config, digest=digest)
    smtp = SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password_env=settings.smtp_password_env,
    )
    return replace(config, digest=digest, smtp=smtp)


def post_notice(url: str, notice: Notice) -> None:
    """POST the notice as JSON to a webhook."""
    body = json.dumps(notice.as_json()).encode("utf-8")
    _fetch(url, body, "webhook")


def ping(url: str) -> None:
    """Tell a dead man's switch that a job went through."""
    _fetch(url, None, "ping")


def _fetch(url: str, body: bytes | None, what: str) -> None:
    # Only the host is ever named: such URLs often hold a secret token in their path.
    where = f"{what} to {urlsplit(url).hostname or '?'}"
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        httpclient.send(url, body, headers, timeout=HTTP_TIMEOUT)
    except httpclient.HttpFailure as failure:
        raise FeedkitError(f"{where}: {failure}", "check [alerts] in config.toml") from None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
