"""The mails a reader's own actions bring: a confirmation link, a reminder that they are
subscribed already (with the link to their preferences), and the optional welcome.

Rendered from the site's templates (confirm.*.j2, welcome.*.j2; feedkit's own confirm templates
when the site has none). The welcome is sent only when the site has its own welcome templates.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from feedkit.config import Config
from feedkit.mail.message import Letter, MessageBuilder, OutgoingMessage, Recipient
from feedkit.newsletter.messages import (
    mail_host,
    preferences_link,
    sender_address,
    unsubscribe_link,
)
from feedkit.newsletter.render import render_template, site_has_template
from feedkit.tokens import Purpose, Tokens

CONFIRM = "confirm"
WELCOME = "welcome"


class NoticeKind(enum.StrEnum):
    CONFIRM = "confirm"  # a link that confirms the subscription
    REMIND = "remind"  # subscribed already: the link to their preferences
    WELCOME = "welcome"  # confirmed: what they will receive


@dataclass(frozen=True, slots=True)
class Notice:
    """One mail to one reader."""

    kind: NoticeKind
    address: str
    topics: tuple[str, ...] = ()  # the titles of the topics chosen; empty for everything
    request: str = ""  # the open request a confirmation link answers


def confirm_token(tokens: Tokens, address: str, request: str) -> str:
    """Signed and dated: it names the address and the request, so a link mailed before an
    unsubscribe cannot bring the address back."""
    return tokens.make(Purpose.CONFIRM, f"{address.lower()} {request}")


def read_confirm_subject(subject: str) -> tuple[str, str]:
    """(address key, request) from a confirmation token's subject."""
    key, _, request = subject.partition(" ")
    return key, request


def welcome_enabled(config: Config) -> bool:
    return site_has_template(config, f"{WELCOME}.html.j2")


def check_notice_templates(config: Config) -> None:
    """The confirmation templates (and the welcome ones, when the site has any) can be used."""
    sample = "reader@example.org"
    for kind in (NoticeKind.CONFIRM, NoticeKind.REMIND):
        render_notice_bodies(config, Notice(kind, sample), "", config.web_url, "")
    if welcome_enabled(config):
        welcome = Notice(NoticeKind.WELCOME, sample)
        render_notice_bodies(config, welcome, "", config.web_url, config.web_url)


def notice_message(
    config: Config, tokens: Tokens, notice: Notice, now: datetime
) -> OutgoingMessage:
    """The mail for one notice, with its own Message-ID."""
    subject = notice_subject(config, notice.kind)
    links = _links(config, tokens, notice)
    text, html = render_notice_bodies(config, notice, subject, *links)
    sender = sender_address(config)
    identity = secrets.token_hex(10)
    letter = Letter(
        sender=sender,
        sender_name=config.digest.from_name or config.site.title,
        reply_to=config.digest.reply_to or sender,
        subject=subject,
        date=now,
        text=text,
        html=html,
        identity=identity,
    )
    message_id = f"<{notice.kind}-{identity}@{mail_host(config)}>"
    return MessageBuilder(letter).build(Recipient(notice.address, message_id, links[0]))


def notice_subject(config: Config, kind: NoticeKind) -> str:
    title = config.site.title
    return {
        NoticeKind.CONFIRM: f"Confirm your subscription to {title}",
        NoticeKind.REMIND: f"Your subscription to {title}",
        NoticeKind.WELCOME: f"Welcome to {title}",
    }[kind]


def _links(config: Config, tokens: Tokens, notice: Notice) -> tuple[str, str]:
    """(the main link, the unsubscribe link): what the mail asks the reader to follow."""
    if notice.kind is NoticeKind.CONFIRM:
        token = confirm_token(tokens, notice.address, notice.request)
        return f"{config.web_url}confirm?t={token}", ""
    preferences = preferences_link(config, tokens, notice.address)
    return preferences, unsubscribe_link(config, tokens, notice.address)


def render_notice_bodies(
    config: Config, notice: Notice, subject: str, link: str, unsubscribe: str
) -> tuple[str, str]:
    """(text, html) of one notice."""
    context = _context(config, notice, subject, link, unsubscribe)
    name = WELCOME if notice.kind is NoticeKind.WELCOME else CONFIRM
    html = render_template(config, f"{name}.html.j2", context)
    text = render_template(config, f"{name}.txt.j2", context)
    return text, html


def _context(
    config: Config, notice: Notice, subject: str, link: str, unsubscribe: str
) -> dict[str, object]:
    confirming = notice.kind is NoticeKind.CONFIRM
    return {
        "site": {
            "title": config.site.title,
            "url": config.base_url,
            "language": config.site.language,
        },
        "subject": subject,
        "address": notice.address,
        "topics": list(notice.topics),
        "hours": config.subscribe.confirm_hours,
        "confirm_url": link if confirming else None,
        "preferences_url": None if confirming else link,
        "unsubscribe_url": unsubscribe or None,
    }


def topic_titles(config: Config, names: Sequence[str]) -> tuple[str, ...]:
    """The titles of the named topics the site has, in the site's order."""
    return tuple(topic.label for topic in config.topics if topic.name in set(names))
