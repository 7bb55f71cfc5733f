"""Readers subscribe, confirm and manage their subscription over HTTP: every outcome, every bot
defence, every kind of link; state in real SQLite, mail in the file transport's outbox."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from itsdangerous.timed import TimestampSigner
from starlette.testclient import TestClient

from feedkit import pipeline
from feedkit.config import Config, load_config
from feedkit.errors import SubscriberError
from feedkit.newsletter import subscriptions
from feedkit.newsletter.model import Subscriber
from feedkit.store import subscribers as subscriber_records
from feedkit.store.db import Store
from feedkit.tokens import Purpose, Tokens
from feedkit.web.app import create_app
from tests.conftest import BLU_RAY_TOPIC, import_rows, write_site
from tests.test_newsletter import REVIEWS

SECRET = "subscribe-test-secret-long"  # noqa: S105 - a test value
MailBox = Callable[[], list[EmailMessage]]
Site = Callable[..., Config]

BASE = """
[digest]
from_address = "digest@reviews.example.org"
[subscribe]
"""
TOPICS = f"""
{BLU_RAY_TOPIC}
[[topics]]
name = "classics"
categories = ["classics"]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)

    def make(settings: str = "min_form_seconds = 0\n", topics: str = TOPICS) -> Config:
        extra = BASE + settings
        config = load_config(write_site(tmp_path, REVIEWS, extra + topics))
        pipeline.build(config)
        return config

    return make


@pytest.fixture
def config(site: Site) -> Config:
    return site()


def client_for(config: Config) -> TestClient:
    return TestClient(create_app(config), base_url="http://testserver")


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with client_for(config) as test_client:
        yield test_client


def mailbox(config: Config) -> MailBox:
    def read() -> list[EmailMessage]:
        paths = sorted(config.outbox_dir.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in paths]

    return read


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    found = re.search(rf"https?://\S+/{path}\?t=\S+", text_of(message))
    assert found is not None, text_of(message)
    return found.group()


def form_token(page: str) -> str:
    found = re.search(r'name="ft" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def subscribe(client: TestClient, email: str, **fields: str | list[str]) -> str:
    """Fill in and send the form as a reader would; the answer page."""
    token = form_token(client.get("/subscribe").text)
    data: dict[str, str | list[str]] = {"ft": token, "email": email, **fields}
    response = client.post("/subscribe", data=data)
    assert response.status_code == 200, response.text
    return response.text


def status_of(config: Config, address: str) -> Subscriber | None:
    with Store(config.database_path) as store:
        return subscriber_records.find_subscriber(store, address.lower())


def known(config: Config, address: str) -> Subscriber:
    """The subscriber, who must be on the list."""
    subscriber = status_of(config, address)
    assert subscriber is not None, address
    return subscriber


def local(url: str) -> str:
    """A link from a mail, as a path the test client asks for."""
    return re.sub(r"^https?://[^/]+", "", url)


def confirm(client: TestClient, link: str) -> str:
    token = local(link).split("?t=", 1)[1]
    response = client.post("/confirm", data={"t": token})
    return response.text


# -- the whole way ------------------------------------------------------------------------------


def test_a_reader_subscribes_confirms_and_chose_their_topics(
    config: Config, client: TestClient
) -> None:
    """Form, mail, link, button: pending until the button, then active with the chosen topics."""
    page = subscribe(client, "Zoe@Example.org", name="Zoe", topics=["blu-ray"])
    assert "Check your inbox" in page
    (mail,) = mailbox(config)()
    assert mail["To"] == "Zoe@example.org"
    assert mail["Subject"] == "Confirm your subscription to Test Reviews"
    assert "(Blu-ray releases)" in text_of(mail)
    subscriber = status_of(config, "zoe@example.org")
    assert subscriber is not None
    assert (subscriber.status, subscriber.topics, subscriber.name) == (
        "pending",
        ("blu-ray",),
        "Zoe",
    )
    link = link_in(mail, "confirm")
    shown = client.get(local(link))
    assert "Yes, subscribe me" in shown.text
    assert known(config, "zoe@example.org").status == "pending"
    assert "You are subscribed" in confirm(client, link)
    confirmed = status_of(config, "zoe@example.org")
    assert confirmed is not None
    assert (confirmed.status, confirmed.source) == ("active", "web")
    assert confirmed.confirmed_at is not None


def test_the_welcome_goes_only_when_the_site_has_its_template(site: Site) -> None:
    """No welcome template: no welcome; with one, the confirmed reader gets it."""
    config = site()
    with client_for(config) as client:
        subscribe(client, "zoe@example.org")
        confirm(client, link_in(mailbox(config)()[0], "confirm"))
        assert len(mailbox(config)()) == 1
        templates = config.root / "templates"
        templates.mkdir(exist_ok=True)
        for suffix in ("html", "txt"):
            (templates / f"welcome.{suffix}.j2").write_text(
                "Welcome {{ address }}: {{ preferences_url }}", "utf-8"
            )
        subscribe(client, "amy@example.org")
        confirm(client, link_in(mailbox(config)()[-1], "confirm"))
    welcome = mailbox(config)()[-1]
    assert welcome["Subject"] == "Welcome to Test Reviews"
    assert text_of(welcome).startswith("Welcome amy@example.org: https://reviews.example.org/")


def test_without_double_opt_in_a_new_reader_is_active_at_once(site: Site) -> None:
    """double_opt_in = false: active on the form; the answer page is the same."""
    config = site("min_form_seconds = 0\ndouble_opt_in = false\n")
    with client_for(config) as client:
        assert "Check your inbox" in subscribe(client, "zoe@example.org")
    assert known(config, "zoe@example.org").status == "active"


# -- nobody learns who is on the list ---------------------------------------------------------


def test_every_address_gets_the_same_answer_whatever_its_state(
    config: Config, client: TestClient
) -> None:
    """New, pending, active and unsubscribed: byte-identical pages apart from the form token."""
    import_rows(config, [["active@example.org"], ["left@example.org"]])
    subscriptions.remove_subscriber(config, "left@example.org")
    subscribe(client, "pending@example.org")
    pages = {
        state: subscribe(client, f"{state}@example.org")
        for state in ("new", "pending", "active", "left")
    }
    blanked = {
        state: re.sub(r'name="ft" value="[^"]+"', "", page).replace(f"{state}@", "ADDRESS@")
        for state, page in pages.items()
    }
    assert len(set(blanked.values())) == 1


def test_an_address_that_left_is_mailed_a_link_and_stays_out_until_it_confirms(
    config: Config, client: TestClient
) -> None:
    """No digest goes to it on the strength of the form: only its reader's click brings it back."""
    import_rows(config, [["left@example.org"]])
    subscriptions.remove_subscriber(config, "left@example.org")
    subscribe(client, "left@example.org")
    assert known(config, "left@example.org").status == "unsubscribed"
    (mail,) = mailbox(config)()
    confirm(client, link_in(mail, "confirm"))
    assert known(config, "left@example.org").status == "active"


def test_an_address_that_complained_is_mailed_nothing(config: Config, client: TestClient) -> None:
    import_rows(config, [["angry@example.org"]])
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("UPDATE subscribers SET status = 'complained'")
    assert "Check your inbox" in subscribe(client, "angry@example.org")
    assert mailbox(config)() == []


def test_an_active_reader_asking_again_is_sent_their_preferences_link(
    config: Config, client: TestClient
) -> None:
    """They may have forgotten they subscribed: the mail says so and links their page."""
    import_rows(config, [["ann@example.org"]])
    subscribe(client, "ann@example.org", topics=["classics"])
    (mail,) = mailbox(config)()
    assert mail["Subject"] == "Your subscription to Test Reviews"
    assert client.get(local(link_in(mail, "preferences"))).status_code == 200
    assert known(config, "ann@example.org").topics == ()


# -- robots -------------------------------------------------------------------------------------


def test_a_filled_honeypot_is_answered_alike_and_does_nothing(
    config: Config, client: TestClient
) -> None:
    page = subscribe(client, "bot@example.org", website="http://spam.example")
    assert "Check your inbox" in page
    assert (status_of(config, "bot@example.org"), mailbox(config)()) == (None, [])


def test_a_form_posted_again_is_answered_alike_and_does_nothing(
    config: Config, client: TestClient
) -> None:
    """One showing of the form subscribes once: replaying its token for other addresses mails
    none of them, and each showing of the form has a token of its own."""
    token = form_token(client.get("/subscribe").text)
    assert form_token(client.get("/subscribe").text) != token
    for email in ("first@example.org", "second@example.org", "third@example.org"):
        response = client.post("/subscribe", data={"ft": token, "email": email})
        assert response.status_code == 200
        assert "Check your inbox" in response.text
    assert [message["To"] for message in mailbox(config)()] == ["first@example.org"]
    assert status_of(config, "second@example.org") is None


def test_a_form_sent_too_quickly_is_dropped_silently(site: Site) -> None:
    """A person takes seconds to fill in the form; a robot posts at once."""
    config = site("min_form_seconds = 60\n")
    with client_for(config) as client:
        assert "Check your inbox" in subscribe(client, "quick@example.org")
    assert (status_of(config, "quick@example.org"), mailbox(config)()) == (None, [])


def test_a_form_older_than_allowed_is_dropped_silently(
    config: Config, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form token from a day and more ago (a replayed one) does nothing."""
    day_old = int(time.time()) - 25 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda _self: day_old)
        old_token = Tokens(SECRET.encode()).make(Purpose.SUBSCRIBE_FORM, "subscribe")
    data = {"ft": old_token, "email": "late@example.org"}
    assert "Check your inbox" in client.post("/subscribe", data=data).text
    assert (status_of(config, "late@example.org"), mailbox(config)()) == (None, [])


def test_a_form_from_the_sites_own_pages_asks_for_one_more_click(
    config: Config, client: TestClient
) -> None:
    """The snippet cannot sign a timestamp: its post shows the full form, filled in."""
    response = client.post("/subscribe", data={"email": "snip@example.org", "topics": "blu-ray"})
    assert response.status_code == 200
    assert 'value="snip@example.org"' in response.text
    assert 'value="blu-ray" checked' in response.text
    assert "Please check your address and press Subscribe." in response.text
    assert status_of(config, "snip@example.org") is None


def test_one_client_and_everyone_together_are_limited(site: Site) -> None:
    """Past the per-client limit a client is told to wait; past the total, everyone is."""
    config = site("min_form_seconds = 0\nclient_per_hour = 2\n")
    with client_for(config) as client:
        subscribe(client, "a@example.org")
        subscribe(client, "b@example.org")
        token = form_token(client.get("/subscribe").text)
        refused = client.post("/subscribe", data={"ft": token, "email": "c@example.org"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert status_of(config, "c@example.org") is None
    config = site("min_form_seconds = 0\ntotal_per_hour = 1\n")
    app = create_app(config)
    with TestClient(app, client=("192.0.2.1", 5000)) as first:
        subscribe(first, "d@example.org")
    with TestClient(app, client=("192.0.2.2", 5000)) as second:
        token = form_token(second.get("/subscribe").text)
        refused = second.post("/subscribe", data={"ft": token, "email": "e@example.org"})
    assert refused.status_code == 429


def test_one_address_gets_at_most_one_mail_an_hour(config: Config, client: TestClient) -> None:
    """Someone submitting a victim's address again and again sends them one mail, not many."""
    for _ in range(3):
        subscribe(client, "victim@example.org")
    assert len(mailbox(config)()) == 1


def test_a_refused_domain_is_told_so(site: Site) -> None:
    """Not a silent drop: a person at that domain needs to know to use another address."""
    config = site('min_form_seconds = 0\nrefused_domains = ["mailinator.com"]\n')
    with client_for(config) as client:
        token = form_token(client.get("/subscribe").text)
        refused = client.post("/subscribe", data={"ft": token, "email": "x@sub.mailinator.com"})
    assert refused.status_code == 400
    assert "addresses at sub.mailinator.com cannot subscribe here" in refused.text
    assert status_of(config, "x@sub.mailinator.com") is None


def test_a_malformed_address_shows_the_form_again_with_the_reason(client: TestClient) -> None:
    token = form_token(client.get("/subscribe").text)
    response = client.post("/subscribe", data={"ft": token, "email": "not an address"})
    assert response.status_code == 400
    assert "is not a valid e-mail address" in response.text
    assert 'value="not an address"' in response.text


# -- links --------------------------------------------------------------------------------------


def test_an_expired_link_offers_a_new_one(
    config: Config, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past confirm_hours the page says so and mails a fresh link on request; that one works."""
    subscribe(client, "slow@example.org")
    request = known(config, "slow@example.org").confirm_requested_at
    three_days_ago = int(time.time()) - 72 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda _self: three_days_ago)
        old = Tokens(SECRET.encode()).make(Purpose.CONFIRM, f"slow@example.org {request}")
    page = client.get(f"/confirm?t={old}")
    assert "This link has expired" in page.text
    assert "You are subscribed" not in confirm(client, f"/confirm?t={old}")
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("UPDATE subscribers SET confirm_sent_at = NULL")  # an hour has gone by
    assert "Check your inbox" in client.post("/confirm/resend", data={"t": old}).text
    fresh = mailbox(config)()[-1]
    assert "You are subscribed" in confirm(client, link_in(fresh, "confirm"))


@pytest.mark.parametrize("kind", ["altered", "unsubscribe", "preferences"])
def test_an_altered_or_other_purpose_token_confirms_nothing(
    config: Config, client: TestClient, kind: str
) -> None:
    subscribe(client, "zoe@example.org")
    link = link_in(mailbox(config)()[0], "confirm")
    token = local(link).split("?t=", 1)[1]
    tokens = Tokens(SECRET.encode())
    forged = {
        "altered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "unsubscribe": tokens.make(Purpose.UNSUBSCRIBE, "zoe@example.org"),
        "preferences": tokens.make(Purpose.PREFERENCES, "zoe@example.org"),
    }[kind]
    assert client.get(f"/confirm?t={forged}").status_code == 400
    assert client.post("/confirm", data={"t": forged}).status_code == 400
    assert known(config, "zoe@example.org").status == "pending"


def test_a_link_mailed_before_an_unsubscribe_no_longer_subscribes(
    config: Config, client: TestClient
) -> None:
    """Leaving ends the open request: an old confirmation link cannot bring the address back."""
    subscribe(client, "zoe@example.org")
    link = link_in(mailbox(config)()[0], "confirm")
    assert subscriptions.remove_subscriber(config, "zoe@example.org")
    token = local(link).split("?t=", 1)[1]
    stale = client.post("/confirm", data={"t": token})
    assert stale.status_code == 410
    assert known(config, "zoe@example.org").status == "unsubscribed"


def test_get_and_head_of_every_reader_link_change_nothing(
    config: Config, client: TestClient
) -> None:
    """Mail scanners follow links; only a button's POST acts."""
    import_rows(config, [["ann@example.org"]])
    subscribe(client, "zoe@example.org")
    confirm_link = local(link_in(mailbox(config)()[0], "confirm"))
    preferences = "/preferences?t=" + Tokens(SECRET.encode()).make(
        Purpose.PREFERENCES, "ann@example.org"
    )
    before = config.database_path.read_bytes()
    data = preferences.replace("/preferences?", "/preferences/data?")
    for path in (confirm_link, preferences, data, "/subscribe?email=x@example.org"):
        assert client.get(path).status_code == 200, path
        assert client.head(path).status_code == 200, path
    assert config.database_path.read_bytes() == before
    assert known(config, "zoe@example.org").status == "pending"


# -- preferences --------------------------------------------------------------------------------


def preferences_of(address: str) -> str:
    return "/preferences?t=" + Tokens(SECRET.encode()).make(Purpose.PREFERENCES, address)


def test_a_reader_chooses_topics_and_pauses(config: Config, client: TestClient) -> None:
    import_rows(config, [["ann@example.org"]])
    token = preferences_of("ann@example.org").split("=", 1)[1]
    shown = client.get(preferences_of("ann@example.org"))
    assert shown.headers["cache-control"] == "no-store"  # a reader's details: no copy is kept
    page = client.post("/preferences", data={"t": token, "topics": ["classics", "nonsense"]})
    assert "Your topics are saved." in page.text
    assert page.headers["cache-control"] == "no-store"
    assert known(config, "ann@example.org").topics == ("classics",)
    paused = client.post("/preferences/pause", data={"t": token, "weeks": "4"})
    assert "Paused for 4 weeks." in paused.text
    assert known(config, "ann@example.org").paused_until
    client.post("/preferences/pause", data={"t": token, "weeks": "0"})
    assert known(config, "ann@example.org").paused_until is None


def test_a_reader_downloads_their_data(config: Config, client: TestClient) -> None:
    import_rows(config, [["ann@example.org", "Ann"]])
    response = client.get(preferences_of("ann@example.org").replace("?", "/data?"))
    assert response.headers["content-disposition"].startswith("attachment;")
    data = json.loads(response.text)
    assert (data["address"], data["name"], data["status"], data["digests"]) == (
        "ann@example.org",
        "Ann",
        "active",
        [],
    )


def test_a_reader_unsubscribes_from_their_page(config: Config, client: TestClient) -> None:
    import_rows(config, [["ann@example.org"]])
    token = preferences_of("ann@example.org").split("=", 1)[1]
    page = client.post("/preferences/unsubscribe", data={"t": token})
    assert "You are unsubscribed." in page.text
    assert known(config, "ann@example.org").status == "unsubscribed"


def test_a_reader_who_is_forgotten_leaves_only_a_hash(config: Config, client: TestClient) -> None:
    """Deleted entirely; an import cannot bring them back; they alone can, from the site."""
    import_rows(config, [["ann@example.org"]])
    token = preferences_of("ann@example.org").split("=", 1)[1]
    unsure = client.post("/preferences/forget", data={"t": token})
    assert "Tick the box" in unsure.text
    assert (
        "are deleted" in client.post("/preferences/forget", data={"t": token, "sure": "yes"}).text
    )
    assert status_of(config, "ann@example.org") is None
    assert b"ann@example.org" not in config.database_path.read_bytes()
    assert import_rows(config, [["ann@example.org"]]).added == 0
    with pytest.raises(SubscriberError, match="asked to be forgotten"):
        subscriptions.add_subscriber(config, "ann@example.org", confirmed=True)
    subscribe(client, "ann@example.org")
    confirm(client, link_in(mailbox(config)()[-1], "confirm"))
    assert known(config, "ann@example.org").status == "active"


def test_an_unconfirmed_request_is_forgotten_after_pending_days(
    config: Config, client: TestClient
) -> None:
    subscribe(client, "zoe@example.org", topics=["classics"])
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("UPDATE subscribers SET confirm_requested_at = '2020-01-01T00:00:00+00:00'")
    subscribe(client, "amy@example.org")
    assert status_of(config, "zoe@example.org") is None
    with Store(config.database_path) as store:
        assert store.query_all("SELECT * FROM subscriber_topics") == []
