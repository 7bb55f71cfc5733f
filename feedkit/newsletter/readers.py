"""What readers do themselves, from the site and from their mail: ask to subscribe, confirm,
choose topics, pause, see their data, unsubscribe, or be forgotten.

A subscribe request is answered the same way whatever the address's state, so the answer tells
nobody who is on the list; what is mailed depends on it. Links carry signed tokens, each for one
purpose; a confirmation link also names the request it answers and expires.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedkit.config import Config
from feedkit.errors import SubscriberError
from feedkit.hooks import Event, call_hooks
from feedkit.mail.transports import Transport
from feedkit.newsletter.model import Confirmation, Request, Subscriber
from feedkit.newsletter.notices import (
    Notice,
    NoticeKind,
    read_confirm_subject,
    topic_titles,
    welcome_enabled,
)
from feedkit.newsletter.subscriptions import (
    forgotten_hash,
    known_topics,
    mail_notice,
    normalize_address,
)
from feedkit.store import subscribers as records
from feedkit.store.db import open_store
from feedkit.tokens import Purpose, Tokens, secret_from_environment

Transports = Callable[[], Transport]
MAX_PAUSE_WEEKS = 52


@dataclass(frozen=True, slots=True)
class SubscribeForm:
    """What a reader sent from the subscribe form."""

    address: str
    name: str = ""
    topics: tuple[str, ...] = ()


def check_form(config: Config, form: SubscribeForm) -> tuple[str, str]:
    """(key, address) of a request the site takes; SubscriberError says why one is refused."""
    key, address = normalize_address(form.address)
    domain = key.rpartition("@")[2]
    refused = {name.lower() for name in config.subscribe.refused_domains}
    if domain in refused or any(domain.endswith("." + name) for name in refused):
        raise SubscriberError(
            f"addresses at {domain} cannot subscribe here", "please use another address"
        )
    return key, address


def request_subscription(
    config: Config, form: SubscribeForm, transports: Transports, now: datetime | None = None
) -> Request:
    """Record a reader's request and mail what it calls for; the caller answers the reader the
    same way whatever this returns."""
    moment = now or datetime.now(UTC)
    key, address = check_form(config, form)
    topics = known_topics(config, form.topics)
    settings = config.subscribe
    with open_store(config) as store:
        records.forget_stale_requests(store, moment - timedelta(days=settings.pending_days))
        # Someone who asked to be forgotten, or left, confirms again whatever the setting.
        must_confirm = settings.double_opt_in or records.is_forgotten(store, forgotten_hash(key))
        ask = records.Ask(
            key,
            address,
            " ".join(form.name.split())[:200],
            topics,
            moment,
            timedelta(minutes=settings.confirm_interval_minutes),
            double_opt_in=must_confirm,
        )
        outcome, request = records.request_subscription(store, ask)
    notice = Notice(_KINDS[outcome], address, topic_titles(config, topics), request)
    _mail_for(config, outcome, notice, transports, moment)
    if outcome in (Request.CONFIRM, Request.WELCOME):
        call_hooks(config, Event("subscribe", address, moment, topics, "web"))
    return outcome


_KINDS = {
    Request.CONFIRM: NoticeKind.CONFIRM,
    Request.WELCOME: NoticeKind.WELCOME,
    Request.REMIND: NoticeKind.REMIND,
    Request.QUIET: NoticeKind.REMIND,
}


def _mail_for(
    config: Config, outcome: Request, notice: Notice, transports: Transports, now: datetime
) -> None:
    if outcome is Request.QUIET:
        return
    if outcome is Request.WELCOME and not welcome_enabled(config):
        return
    mail_notice(config, notice, transports, now)


# -- confirming ---------------------------------------------------------------------------------


class LinkState(enum.StrEnum):
    """What a confirmation link is, before anyone presses the button."""

    VALID = "valid"
    EXPIRED = "expired"  # genuine, but too old: a new one can be sent
    INVALID = "invalid"  # altered, or made for another purpose


@dataclass(frozen=True, slots=True)
class ConfirmLink:
    state: LinkState
    address: str = ""  # the address it names, when genuine
    request: str = ""


def read_confirm_link(config: Config, token: str) -> ConfirmLink:
    """What a confirmation link says, without acting on it (the page before the button)."""
    tokens = Tokens(secret_from_environment())
    age = timedelta(hours=config.subscribe.confirm_hours)
    checked = tokens.check(Purpose.CONFIRM, token, age)
    if checked.subject is not None:
        return ConfirmLink(LinkState.VALID, *read_confirm_subject(checked.subject))
    if checked.expired_subject is not None:
        return ConfirmLink(LinkState.EXPIRED, *read_confirm_subject(checked.expired_subject))
    return ConfirmLink(LinkState.INVALID)


def confirm_subscription(
    config: Config, token: str, now: datetime | None = None
) -> tuple[ConfirmLink, Confirmation | None, Subscriber | None]:
    """Confirm the request a valid link answers: the address becomes active (then `welcome`
    it). Nothing happens for any other link."""
    link = read_confirm_link(config, token)
    if link.state is not LinkState.VALID:
        return link, None, None
    moment = now or datetime.now(UTC)
    with open_store(config) as store:
        outcome = records.confirm(store, link.address, link.request, moment)
        subscriber = records.find_subscriber(store, link.address)
        if outcome is Confirmation.CONFIRMED:
            records.remember_again(store, forgotten_hash(link.address))
    return link, outcome, subscriber


def welcome(
    config: Config, subscriber: Subscriber, transports: Transports, now: datetime | None = None
) -> None:
    """After a confirmation: tell the hooks, and mail the welcome when the site has one."""
    moment = now or datetime.now(UTC)
    address = subscriber.address
    call_hooks(config, Event("confirm", address, moment, subscriber.topics, "web"))
    if welcome_enabled(config):
        titles = topic_titles(config, subscriber.topics)
        mail_notice(config, Notice(NoticeKind.WELCOME, address, titles), transports, moment)


def resend_confirmation(
    config: Config, token: str, transports: Transports, now: datetime | None = None
) -> bool:
    """An expired (or still valid) link asks for a fresh one: the same request goes through
    the same limits as the subscribe form. False for a link that is not genuine."""
    link = read_confirm_link(config, token)
    if link.state is LinkState.INVALID:
        return False
    with open_store(config, readonly=True) as store:
        subscriber = records.find_subscriber(store, link.address)
    if subscriber is None:
        return False
    form = SubscribeForm(subscriber.address, subscriber.name, subscriber.topics)
    request_subscription(config, form, transports, now)
    return True


# -- preferences --------------------------------------------------------------------------------


def preferences_of(config: Config, token: str) -> Subscriber | None:
    """The subscriber a preferences link is for; None for any other link or a forgotten one."""
    key = Tokens(secret_from_environment()).read(Purpose.PREFERENCES, token)
    if key is None:
        return None
    with open_store(config, readonly=True) as store:
        return records.find_subscriber(store, key)


def choose_topics(config: Config, token: str, topics: tuple[str, ...]) -> Subscriber | None:
    """Replace the reader's topics (none: everything). Digests already made are not touched:
    no reader ever receives a second copy of one."""
    subscriber = preferences_of(config, token)
    if subscriber is None:
        return None
    with open_store(config) as store:
        records.set_topics(store, subscriber.address.lower(), known_topics(config, topics))
        return records.find_subscriber(store, subscriber.address.lower())


def pause(
    config: Config, token: str, weeks: int, now: datetime | None = None
) -> Subscriber | None:
    """No digest is made for the reader for `weeks` weeks (0: resume now)."""
    subscriber = preferences_of(config, token)
    if subscriber is None:
        return None
    weeks = max(0, min(weeks, MAX_PAUSE_WEEKS))
    until = (now or datetime.now(UTC)) + timedelta(weeks=weeks) if weeks else None
    with open_store(config) as store:
        records.pause(store, subscriber.address.lower(), until)
        return records.find_subscriber(store, subscriber.address.lower())


def personal_data(config: Config, token: str) -> dict[str, object] | None:
    """Everything feedkit keeps about the reader, for them to download."""
    subscriber = preferences_of(config, token)
    if subscriber is None:
        return None
    with open_store(config, readonly=True) as store:
        sent = records.deliveries_of(store, subscriber.address.lower())
    return {
        "address": subscriber.address,
        "name": subscriber.name,
        "status": subscriber.status,
        "topics": list(subscriber.topics),
        "subscribed_at": subscriber.subscribed_at,
        "confirmed_at": subscriber.confirmed_at,
        "unsubscribed_at": subscriber.unsubscribed_at,
        "paused_until": subscriber.paused_until,
        "source": subscriber.source,
        "digests": [
            {"digest": number, "made_at": made, "subject": subject, "delivery": outcome}
            for number, made, subject, outcome in sent
        ],
    }


def forget(config: Config, token: str, now: datetime | None = None) -> str | None:
    """Delete the reader's address and everything about it; the address, or None."""
    subscriber = preferences_of(config, token)
    if subscriber is None:
        return None
    key = subscriber.address.lower()
    moment = now or datetime.now(UTC)
    with open_store(config) as store:
        records.forget(store, key, forgotten_hash(key), moment)
    call_hooks(config, Event("unsubscribe", subscriber.address, moment, source="forget"))
    return subscriber.address


# -- unsubscribing ------------------------------------------------------------------------------


def address_of_token(token: str) -> str | None:
    """The address an unsubscribe token names, without acting on it (the page before the
    button)."""
    return Tokens(secret_from_environment()).read(Purpose.UNSUBSCRIBE, token)


def unsubscribe_with_token(
    config: Config, token: str, purpose: Purpose = Purpose.UNSUBSCRIBE
) -> tuple[str, bool] | None:
    """Unsubscribe the address a genuine unsubscribe (or preferences) token names: (address,
    whether it was subscribed until now); None for any other token. Twice is harmless."""
    address = Tokens(secret_from_environment()).read(purpose, token)
    if address is None:
        return None
    now = datetime.now(UTC)
    with open_store(config) as store:
        changed = records.unsubscribe(store, address.lower(), now)
    if changed:
        call_hooks(config, Event("unsubscribe", address, now, source="mail"))
    return address, changed
