"""Topics: which reviews each reader's choice takes, and a run's digests per distinct choice,
delivered over a real SMTP server (aiosmtpd), each exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.config import Config, TopicSettings, load_config
from feedkit.mail.transports import open_transport
from feedkit.model import Review
from feedkit.newsletter import campaigns, history, readers
from feedkit.newsletter.model import Audience
from feedkit.newsletter.topics import in_topic, reviews_for, segments
from feedkit.store import subscribers as subscriber_records
from feedkit.store.db import Store
from feedkit.tokens import Purpose, Tokens
from tests.conftest import import_rows, write_site
from tests.smtp_server import SmtpServer

SECRET = "topics-test-secret-long-enough"  # noqa: S105 - a test value
NOW = datetime.now(UTC)
BLU_RAY = TopicSettings("blu-ray", "Blu-ray", tags=("Blu-ray",))
CLASSICS = TopicSettings("classics", categories=("classics",))
GREAT = TopicSettings("great", min_rating=4.5)


def a_review(source: str, **fields: object) -> Review:
    defaults: dict[str, object] = {"title": source, "slug": source, "path": f"/{source}/"}
    return Review(source=source, published=NOW, **{**defaults, **fields})  # type: ignore[arg-type]


def test_a_review_is_in_a_topic_by_category_or_tag_as_slugs() -> None:
    """'Blu-ray' and 'blu ray' are one tag; categories and tags both count."""
    assert in_topic(BLU_RAY, a_review("a", tags=("blu ray",)))
    assert in_topic(CLASSICS, a_review("b", categories=("Classics",)))
    assert not in_topic(BLU_RAY, a_review("c", tags=("dvd",)))


def test_min_rating_narrows_a_topic_or_makes_one_alone() -> None:
    rated = TopicSettings("top-blu-ray", tags=("blu-ray",), min_rating=4)
    assert in_topic(rated, a_review("a", tags=("blu-ray",), rating=4.0))
    assert not in_topic(rated, a_review("b", tags=("blu-ray",), rating=3.5))
    assert not in_topic(rated, a_review("c", tags=("blu-ray",)))
    assert in_topic(GREAT, a_review("d", rating=5.0))


def test_no_topic_or_only_unknown_ones_means_everything() -> None:
    reviews = [a_review("a", tags=("dvd",)), a_review("b", tags=("blu-ray",))]
    topics = [BLU_RAY]
    assert reviews_for(reviews, topics, ()) == tuple(reviews)
    assert reviews_for(reviews, topics, ("gone",)) == tuple(reviews)
    assert reviews_for(reviews, topics, ("blu-ray", "gone")) == (reviews[1],)


def test_readers_with_the_same_reviews_share_one_segment() -> None:
    """Different choices that select the same reviews are one digest; an empty one is none."""
    reviews = [
        a_review("a", tags=("blu-ray",), categories=("classics",)),
        a_review("b", tags=("dvd",)),
    ]
    readers_ = [
        Audience("all@x", frozenset()),
        Audience("blu@x", frozenset({"blu-ray"})),
        Audience("old@x", frozenset({"classics"})),
        Audience("top@x", frozenset({"great"})),
    ]
    found = segments(reviews, [BLU_RAY, CLASSICS, GREAT], readers_)
    assert [(s.email_keys, len(s.reviews), s.label) for s in found] == [
        (("all@x",), 2, ""),
        (("blu@x", "old@x"), 1, "blu-ray"),
    ]


# -- over SMTP ----------------------------------------------------------------------------------


def dated(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


REVIEWS: dict[str, str | bytes] = {
    "vertigo.md": f"---\ntitle: Vertigo Blu-ray\ndate: {dated(1)}\ntags: [blu-ray]\n---\nText.\n",
    "ran.md": f"---\ntitle: Ran DVD\ndate: {dated(2)}\ntags: [dvd]\n---\nText.\n",
    "alien.md": f"---\ntitle: Alien Blu-ray\ndate: {dated(3)}\ntags: [blu-ray]\n---\nText.\n",
}
TOPICS = (
    '[[topics]]\nname = "blu-ray"\ntags = ["blu-ray"]\n[[topics]]\nname = "vhs"\ntags = ["vhs"]\n'
)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer().start()
    yield running
    running.stop()


@pytest.fixture
def config(tmp_path: Path, server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    smtp = (
        '[digest]\nfrom_address = "digest@reviews.example.org"\ntransport = "smtp"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
    )
    return load_config(write_site(tmp_path, REVIEWS, smtp + TOPICS))


def choose(config: Config, address: str, topics: tuple[str, ...]) -> None:
    token = Tokens(SECRET.encode()).make(Purpose.PREFERENCES, address)
    assert readers.choose_topics(config, token, topics) is not None


def titles_received(server: SmtpServer) -> dict[str, list[str]]:
    """Each recipient's digests, as the review titles in their text part."""
    found: dict[str, list[str]] = {}
    for address, copies in server.handler.by_recipient().items():
        for copy in copies:
            body = copy.message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            names = [title for title in ("Vertigo", "Ran", "Alien") if f"\n{title} " in text]
            found.setdefault(address, []).append(" ".join(names))
    return found


def test_each_reader_gets_only_what_they_chose_once(config: Config, server: SmtpServer) -> None:
    """Blu-ray only, everything, and a topic with nothing new: two digests, each reader one copy
    (or none), and the digest status tells the run apart."""
    import_rows(config, [["blu@example.org"], ["all@example.org"], ["vhs@example.org"]])
    choose(config, "blu@example.org", ("blu-ray",))
    choose(config, "vhs@example.org", ("vhs",))
    run = campaigns.deliver(config, lambda: open_transport(config))
    assert run.failure is None
    assert titles_received(server) == {
        "all@example.org": ["Vertigo Ran Alien"],
        "blu@example.org": ["Vertigo Alien"],
    }
    statuses = history.status(config)
    assert [(item.segment, item.reviews, item.recipients) for item in statuses] == [
        ("blu-ray", 2, 1),
        ("", 3, 1),
    ]
    assert {item.run_id for item in statuses} == {statuses[-1].id}
    blu = server.handler.by_recipient()["blu@example.org"][0].message
    assert blu["Subject"] == "Test Reviews: 2 new reviews, including Vertigo Blu-ray"
    index = (config.output_dir / "digests" / "index.html").read_text("utf-8")
    assert index.count("3 new reviews") == 1  # one issue per run: the copy with every review
    assert "2 new reviews" not in index


def test_changing_topics_after_a_digest_never_sends_it_again(
    config: Config, server: SmtpServer
) -> None:
    import_rows(config, [["ann@example.org"]])
    choose(config, "ann@example.org", ("blu-ray",))
    campaigns.deliver(config, lambda: open_transport(config))
    choose(config, "ann@example.org", ())
    assert campaigns.deliver(config, lambda: open_transport(config)).reports == []
    assert titles_received(server) == {"ann@example.org": ["Vertigo Alien"]}


def test_a_paused_reader_gets_no_digest_and_is_not_counted(
    config: Config, server: SmtpServer
) -> None:
    import_rows(config, [["ann@example.org"], ["bob@example.org"]])
    token = Tokens(SECRET.encode()).make(Purpose.PREFERENCES, "bob@example.org")
    readers.pause(config, token, 2)
    assert campaigns.plan_send(config).recipients == 1
    campaigns.deliver(config, lambda: open_transport(config))
    assert sorted(server.handler.by_recipient()) == ["ann@example.org"]


def test_pending_readers_never_receive_a_digest(config: Config, server: SmtpServer) -> None:
    import_rows(config, [["ann@example.org"]])
    with Store(config.database_path) as store:
        store.db.execute("UPDATE subscribers SET status = 'pending'")
        store.db.commit()
        assert subscriber_records.audience(store, NOW) == []
    campaigns.deliver(config, lambda: open_transport(config))
    assert server.handler.received == []
