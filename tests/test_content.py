"""Tests for the content loader: front matter, dates, slugs, statuses, problems and the cache.

Each site is built in tmp_path by `make_site`; its zone is Europe/London.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

import feedkit.content.files
import feedkit.content.loader
from feedkit.config import Config
from feedkit.content.loader import load_site
from feedkit.content.yamlreader import RefusedYamlError, fallback_loader, load_yaml
from feedkit.errors import ConfigError, ContentError
from feedkit.fingerprint import cache_fingerprint
from feedkit.model import Author, LoadResult, Problem, Review, ReviewStatus, printable
from feedkit.store.build import SqliteReviewCache
from feedkit.store.db import Store
from tests.conftest import SiteMaker

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GOOD = {"good.md": "---\ntitle: Good\ndate: 2025-01-01\n---\nStill here.\n"}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def load(config: Config, now: datetime = NOW) -> LoadResult:
    return load_site(config, now)


def only_review(result: LoadResult) -> Review:
    assert result.problems == ()
    (review,) = result.site.reviews
    return review


def review_named(result: LoadResult, source: str) -> Review:
    (review,) = [review for review in result.site.reviews if review.source == source]
    return review


def sha256(config: Config, source: str) -> str:
    return hashlib.sha256((config.content_dir / source).read_bytes()).hexdigest()


# -- front matter formats ------------------------------------------------------------------------


def test_yaml_front_matter_becomes_a_complete_review(make_site: SiteMaker) -> None:
    """Every known YAML key lands in its Review field and unknown keys are kept as text in
    `extra`."""
    config = make_site(
        {
            "vertigo.md": """\
            ---
            title: "Vertigo"
            date: 2025-03-14
            updated: 2025-04-01 10:00
            author: Ann Lee
            summary: A dizzying masterpiece.
            categories: [Classics, Thriller]
            tags: hitchcock, noir
            rating: 4.5
            image: /img/vertigo.jpg
            id: tag:reviews.example.org,2025:vertigo
            director: Alfred Hitchcock
            runtime: 128
            ---
            Scottie is afraid of heights.
            """
        }
    )
    review = only_review(load(config))
    assert review == Review(
        source="vertigo.md",
        title="Vertigo",
        slug="vertigo",
        path="/reviews/2025/vertigo/",
        published=utc(2025, 3, 14, 0, 0),
        updated=utc(2025, 4, 1, 9, 0),
        authors=(Author("Ann Lee"),),
        summary="A dizzying masterpiece.",
        categories=("Classics", "Thriller"),
        tags=("hitchcock", "noir"),
        rating=4.5,
        image="/img/vertigo.jpg",
        draft=False,
        entry_id="tag:reviews.example.org,2025:vertigo",
        extra=(("director", "Alfred Hitchcock"), ("runtime", "128")),
        content_hash=sha256(config, "vertigo.md"),
        notes=(),
    )
    assert review.published.utcoffset() == timedelta(0)


def test_toml_front_matter_becomes_a_complete_review(make_site: SiteMaker) -> None:
    """A `+++` TOML block gives the same fields as YAML, with a `Z` datetime read as UTC."""
    config = make_site(
        {
            "rear-window.md": """\
            +++
            title = "Rear Window"
            date = 2025-03-14T19:30:00Z
            lastmod = 2025-04-02T08:00:00Z
            authors = ["Ann Lee", "Bob Park"]
            categories = ["Classics"]
            tags = ["hitchcock", "voyeurism", "hitchcock"]
            rating = "4/5"
            cinematographer = "Robert Burks"
            +++
            Jeff watches the courtyard.
            """
        }
    )
    review = only_review(load(config))
    assert review == Review(
        source="rear-window.md",
        title="Rear Window",
        slug="rear-window",
        path="/reviews/2025/rear-window/",
        published=utc(2025, 3, 14, 19, 30),
        updated=utc(2025, 4, 2, 8, 0),
        authors=(Author("Ann Lee"), Author("Bob Park")),
        categories=("Classics",),
        tags=("hitchcock", "voyeurism"),
        rating=4.0,
        extra=(("cinematographer", "Robert Burks"),),
        content_hash=sha256(config, "rear-window.md"),
    )


def test_utf8_bom_and_crlf_line_endings_are_read(make_site: SiteMaker) -> None:
    """A file saved with a UTF-8 BOM and Windows line ends loads as if it had neither."""
    text = "\ufeff---\r\ntitle: Amélie\r\ndate: 2025-03-14\r\ntags: [paris]\r\n---\r\n"
    data = (text + "Body\r\n").encode()
    review = only_review(load(make_site({"amelie.md": data})))
    assert (review.title, review.published, review.tags, review.slug) == (
        "Amélie",
        utc(2025, 3, 14),
        ("paris",),
        "amelie",
    )


def test_lone_cr_line_endings_are_read(make_site: SiteMaker) -> None:
    """A file with old Mac line ends (CR only) loads with every key on its own line."""
    data = b"---\rtitle: Ran\rdate: 2025-03-14\rrating: 5\r---\rBody\r"
    review = only_review(load(make_site({"ran.md": data})))
    assert (review.title, review.published, review.rating) == ("Ran", utc(2025, 3, 14), 5.0)


def test_toml_front_matter_with_bom_and_crlf_is_read(make_site: SiteMaker) -> None:
    """TOML front matter survives a BOM and CRLF line ends too."""
    data = b'\xef\xbb\xbf+++\r\ntitle = "Ikiru"\r\ndate = 2025-03-14\r\n+++\r\nBody\r\n'
    review = only_review(load(make_site({"ikiru.md": data})))
    assert (review.title, review.published) == ("Ikiru", utc(2025, 3, 14))


def test_capitalised_keys_are_read_and_unknown_ones_kept_lower_case(make_site: SiteMaker) -> None:
    """`Title:`, `Date:` and `Tags:` work like their lower-case forms; an unknown `Director:` is
    kept."""
    config = make_site(
        {
            "psycho.md": "---\nTitle: Psycho\nDate: 2025-03-14\nTags: [horror]\nDirector: Alfred "
            "Hitchcock\n---\n"
        }
    )
    review = only_review(load(config))
    assert (review.title, review.published, review.tags, review.extra) == (
        "Psycho",
        utc(2025, 3, 14),
        ("horror",),
        (("director", "Alfred Hitchcock"),),
    )


def test_unknown_values_are_kept_as_the_text_written(make_site: SiteMaker) -> None:
    """Unknown keys keep their values as an editor wrote them, never as Python reprs like True,
    None or [...]."""
    config = make_site(
        {
            "f.md": "---\ntitle: F\ndate: 2025-03-14\nyear: 1958\nreleased: 1958-05-09\n"
            "spoilers: true\nsubtitle:\ncast: [James Stewart, Kim Novak]\n---\n"
        }
    )
    assert only_review(load(config)).extra == (
        ("year", "1958"),
        ("released", "1958-05-09"),
        ("spoilers", "true"),
        ("subtitle", ""),
        ("cast", "James Stewart, Kim Novak"),
    )


def test_title_whitespace_is_collapsed(make_site: SiteMaker) -> None:
    """A title's runs of spaces and a folded YAML title become single spaces."""
    config = make_site(
        {"m.md": "---\ntitle: >\n  Dr.   Strangelove\n  or How I Learned\ndate: 2025-03-14\n---\n"}
    )
    assert only_review(load(config)).title == "Dr. Strangelove or How I Learned"


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_line", "expected"),
    [
        pytest.param("date: 2025-03-14", utc(2025, 3, 14, 0, 0), id="plain-date-gmt"),
        pytest.param("date: 2025-07-14", utc(2025, 7, 13, 23, 0), id="plain-date-bst"),
        pytest.param("date: 2025-03-14 19:30", utc(2025, 3, 14, 19, 30), id="date-time-gmt"),
        pytest.param("date: 2025-07-14 19:30", utc(2025, 7, 14, 18, 30), id="date-time-bst"),
        pytest.param(
            "date: 2025-07-14 19:30:00", utc(2025, 7, 14, 18, 30), id="yaml-timestamp-bst"
        ),
        pytest.param("date: 2025-03-14T19:30:00+01:00", utc(2025, 3, 14, 18, 30), id="offset"),
        pytest.param("date: 2025-03-14T19:30:00Z", utc(2025, 3, 14, 19, 30), id="yaml-z"),
        pytest.param('date: "14 March 2025"', utc(2025, 3, 14, 0, 0), id="quoted-words"),
        pytest.param("published: 2025-03-14", utc(2025, 3, 14, 0, 0), id="published-key"),
    ],
)
def test_dates_are_read_in_the_site_zone_and_stored_in_utc(
    make_site: SiteMaker, date_line: str, expected: datetime
) -> None:
    """A date without a zone is in Europe/London, one with a zone keeps it, and both are stored as
    UTC."""
    review = only_review(load(make_site({"film.md": f"---\ntitle: Film\n{date_line}\n---\n"})))
    assert review.published == expected
    assert review.published.tzinfo is UTC


def test_toml_dates_local_and_offset(make_site: SiteMaker) -> None:
    """A TOML local date is midnight in the site zone and a TOML offset datetime keeps its
    offset."""
    config = make_site(
        {
            "a.md": '+++\ntitle = "A"\ndate = 2025-07-14\n+++\n',
            "b.md": '+++\ntitle = "B"\ndate = 2025-07-14T19:30:00-04:00\n+++\n',
        }
    )
    result = load(config)
    assert result.problems == ()
    assert review_named(result, "a.md").published == utc(2025, 7, 13, 23, 0)
    assert review_named(result, "b.md").published == utc(2025, 7, 14, 23, 30)


def test_date_key_wins_over_published_key(make_site: SiteMaker) -> None:
    """When both `date:` and `published:` hold dates, `date:` is the publication date."""
    config = make_site({"f.md": "---\ntitle: F\npublished: 2024-01-01\ndate: 2025-03-14\n---\n"})
    assert only_review(load(config)).published == utc(2025, 3, 14)


def test_jekyll_file_name_gives_date_and_slug(make_site: SiteMaker) -> None:
    """`2025-02-07-the-wages-of-fear.md` with no date key is published that day, slug `the-wages-
    of-fear`."""
    config = make_site({"2025-02-07-the-wages-of-fear.md": "---\ntitle: The Wages of Fear\n---\n"})
    review = only_review(load(config))
    assert (review.source, review.published, review.slug, review.path) == (
        "2025-02-07-the-wages-of-fear.md",
        utc(2025, 2, 7, 0, 0),
        "the-wages-of-fear",
        "/reviews/2025/the-wages-of-fear/",
    )


def test_front_matter_date_wins_over_jekyll_file_name(make_site: SiteMaker) -> None:
    """A `date:` key overrides the file-name date, while the slug still drops the date prefix."""
    config = make_site(
        {"2025-02-07-diabolique.md": "---\ntitle: Les Diaboliques\ndate: 2025-02-09 21:00\n---\n"}
    )
    review = only_review(load(config))
    assert (review.published, review.slug) == (utc(2025, 2, 9, 21, 0), "diabolique")


def test_hugo_page_bundle_takes_its_folder_name_as_slug(make_site: SiteMaker) -> None:
    """`reviews/vertigo/index.md` has the slug `vertigo` and the path built from it."""
    config = make_site(
        {"reviews/vertigo/index.md": "---\ntitle: Vertigo (1958)\ndate: 2025-03-14\n---\n"}
    )
    review = only_review(load(config))
    assert (review.source, review.slug, review.path) == (
        "reviews/vertigo/index.md",
        "vertigo",
        "/reviews/2025/vertigo/",
    )


@pytest.mark.parametrize(
    ("updated_line", "expected"),
    [
        pytest.param("updated: 2025-04-01 10:00", utc(2025, 4, 1, 9, 0), id="updated"),
        pytest.param("lastmod: 2025-04-01", utc(2025, 3, 31, 23, 0), id="lastmod"),
        pytest.param("modified: 2025-03-20T08:00:00Z", utc(2025, 3, 20, 8, 0), id="modified"),
        pytest.param("updated: ''", None, id="blank"),
    ],
)
def test_updated_date_is_read_from_updated_or_lastmod(
    make_site: SiteMaker, updated_line: str, expected: datetime | None
) -> None:
    """`updated`, `lastmod` or `modified` give the update time in UTC; a blank value means none."""
    config = make_site({"f.md": f"---\ntitle: F\ndate: 2025-03-14\n{updated_line}\n---\n"})
    review = only_review(load(config))
    assert review.updated == expected
    assert review.last_modified == (expected or utc(2025, 3, 14))


# -- status --------------------------------------------------------------------------------------


def test_drafts_and_future_reviews_are_not_published(make_site: SiteMaker) -> None:
    """`draft: true` and `published: false` are drafts, a future date is scheduled, and none is
    public."""
    config = make_site(
        {
            "live.md": "---\ntitle: Live\ndate: 2025-03-14\n---\n",
            "draft.md": "---\ntitle: Draft\ndate: 2025-03-14\ndraft: true\n---\n",
            "unpublished.md": "---\ntitle: Unpublished\ndate: 2025-03-14\npublished: false\n---\n",
            "status.md": "---\ntitle: Status\ndate: 2025-03-14\nstatus: Draft\n---\n",
            "future.md": "---\ntitle: Future\ndate: 2026-12-25 09:00\n---\n",
        }
    )
    result = load(config)
    assert result.problems == ()
    statuses = {review.source: review.status(NOW) for review in result.site.reviews}
    assert statuses == {
        "live.md": ReviewStatus.PUBLISHED,
        "draft.md": ReviewStatus.DRAFT,
        "unpublished.md": ReviewStatus.DRAFT,
        "status.md": ReviewStatus.DRAFT,
        "future.md": ReviewStatus.SCHEDULED,
    }
    assert [review.source for review in result.site.published_reviews] == ["live.md"]
    assert (result.site.count(ReviewStatus.DRAFT), result.site.count(ReviewStatus.SCHEDULED)) == (
        3,
        1,
    )


def test_scheduled_review_is_published_once_its_date_passes(make_site: SiteMaker) -> None:
    """A review dated 2026-12-25 09:00 London is scheduled before that moment and published from it
    on."""
    config = make_site({"future.md": "---\ntitle: Future\ndate: 2026-12-25 09:00\n---\n"})
    before = load(config, utc(2026, 12, 25, 8, 59))
    at = load(config, utc(2026, 12, 25, 9, 0))
    assert before.site.reviews[0].status(before.site.now) is ReviewStatus.SCHEDULED
    assert before.site.published_reviews == ()
    assert at.site.reviews[0].status(at.site.now) is ReviewStatus.PUBLISHED
    assert [review.source for review in at.site.published_reviews] == ["future.md"]


def test_published_true_is_not_a_date_and_not_a_draft(make_site: SiteMaker) -> None:
    """`published: true` beside a date neither replaces the date nor makes a draft."""
    config = make_site({"f.md": "---\ntitle: F\ndate: 2025-03-14\npublished: true\n---\n"})
    review = only_review(load(config))
    assert (review.published, review.status(NOW)) == (utc(2025, 3, 14), ReviewStatus.PUBLISHED)


# -- authors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("author_lines", "expected"),
    [
        pytest.param("author: Ann Lee", (Author("Ann Lee"),), id="string"),
        pytest.param(
            "author:\n  name: Ann Lee\n  email: ann@example.org\n  uri: https://ann.example.org/\n"
            "  bio: Writes about noir.",
            (
                Author(
                    "Ann Lee", "ann@example.org", "https://ann.example.org/", "Writes about noir."
                ),
            ),
            id="mapping",
        ),
        pytest.param(
            "author:\n  Name: Ann Lee\n  URL: https://ann.example.org/",
            (Author("Ann Lee", uri="https://ann.example.org/"),),
            id="mapping-capitalised-url",
        ),
        pytest.param(
            "authors:\n  - Ann Lee\n  - name: Bob Park\n    email: bob@example.org",
            (Author("Ann Lee"), Author("Bob Park", email="bob@example.org")),
            id="list-of-two",
        ),
        pytest.param("", (), id="none"),
        pytest.param("author: ''", (), id="blank"),
    ],
)
def test_authors_are_read_in_every_form(
    make_site: SiteMaker, author_lines: str, expected: tuple[Author, ...]
) -> None:
    """An author may be a string, a mapping, or a list under `authors:`; none gives an empty
    tuple."""
    config = make_site({"f.md": f"---\ntitle: F\ndate: 2025-03-14\n{author_lines}\n---\n"})
    assert only_review(load(config)).authors == expected


# -- categories and tags -------------------------------------------------------------------------


def test_categories_and_tags_as_lists_lose_duplicates_in_order(make_site: SiteMaker) -> None:
    """YAML lists of categories and tags keep their order and drop repeats and blanks."""
    config = make_site(
        {
            "f.md": "---\ntitle: F\ndate: 2025-03-14\ncategories: [Noir, Drama, Noir]\ntags: [b, "
            "a, b, '', a]\n---\n"
        }
    )
    review = only_review(load(config))
    assert (review.categories, review.tags) == (("Noir", "Drama"), ("b", "a"))


def test_categories_and_tags_as_comma_separated_strings(make_site: SiteMaker) -> None:
    """A comma-separated string is split, trimmed and deduplicated in order."""
    config = make_site(
        {
            "f.md": "---\ntitle: F\ndate: 2025-03-14\ncategories: Noir, Drama ,Noir\ntags: 'b,  a "
            ", b,'\n---\n"
        }
    )
    review = only_review(load(config))
    assert (review.categories, review.tags) == (("Noir", "Drama"), ("b", "a"))


def test_singular_category_and_tag_keys(make_site: SiteMaker) -> None:
    """`category:` and `tag:` are read when the plural keys are absent."""
    config = make_site(
        {"f.md": "---\ntitle: F\ndate: 2025-03-14\ncategory: Noir\ntag: [x]\n---\n"}
    )
    review = only_review(load(config))
    assert (review.categories, review.tags) == (("Noir",), ("x",))


# -- rating --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating_line", "expected"),
    [
        pytest.param("rating: 4.5", 4.5, id="float"),
        pytest.param("rating: 0", 0.0, id="zero"),
        pytest.param("rating: 5", 5.0, id="five"),
        pytest.param('rating: "4/5"', 4.0, id="out-of-five"),
        pytest.param("rating: 3.5 / 5", 3.5, id="spaced-out-of-five"),
        pytest.param("rating: ★★★★½", 4.5, id="stars"),
        pytest.param("rating: ★★☆☆☆", 2.0, id="stars-with-empties"),
        pytest.param("", None, id="absent"),
    ],
)
def test_rating_forms(make_site: SiteMaker, rating_line: str, expected: float | None) -> None:
    """A rating written as a number, 'n/5' or stars becomes a float from 0 to 5."""
    config = make_site({"f.md": f"---\ntitle: F\ndate: 2025-03-14\n{rating_line}\n---\n"})
    assert only_review(load(config)).rating == expected


def test_rating_out_of_range_is_dropped_with_a_problem(make_site: SiteMaker) -> None:
    """Rating 7 keeps the review, without a rating, and reports one not-skipped problem in exact
    words."""
    result = load(make_site({"f.md": "---\ntitle: F\ndate: 2025-03-14\nrating: 7\n---\n"}))
    (review,) = result.site.reviews
    assert review.rating is None
    assert result.problems == (
        Problem(
            Path("content/f.md"),
            "rating: 7 is not a number from 0 to 5; published without a rating",
            None,
            skipped=False,
        ),
    )
    assert (
        str(result.problems[0])
        == "content/f.md: rating: 7 is not a number from 0 to 5; published without a rating"
    )


def test_rating_that_is_words_is_dropped_with_a_problem(make_site: SiteMaker) -> None:
    """A rating of 'great' is reported with its value quoted and the review still published."""
    result = load(make_site({"f.md": "---\ntitle: F\ndate: 2025-03-14\nrating: great\n---\n"}))
    assert [review.rating for review in result.site.published_reviews] == [None]
    assert [str(problem) for problem in result.problems] == [
        "content/f.md: rating: 'great' is not a number from 0 to 5; published without a rating"
    ]
    assert [problem.skipped for problem in result.problems] == [False]


# -- slugs and permalinks ------------------------------------------------------------------------


def test_slug_key_overrides_the_file_name(make_site: SiteMaker) -> None:
    """`slug: The Birds` becomes slug `the-birds` and the permalink uses it."""
    config = make_site(
        {"birds-review.md": "---\ntitle: Birds\ndate: 2025-03-14\nslug: The Birds\n---\n"}
    )
    review = only_review(load(config))
    assert (review.slug, review.path) == ("the-birds", "/reviews/2025/the-birds/")


def test_slug_comes_from_the_file_name(make_site: SiteMaker) -> None:
    """Without `slug:`, the file name (not the title) gives the slug, lower-cased and accent-
    folded."""
    config = make_site(
        {"reviews/La_Dolce_Vità.md": "---\ntitle: Something Else\ndate: 2025-03-14\n---\n"}
    )
    review = only_review(load(config))
    assert (review.slug, review.path) == ("la-dolce-vita", "/reviews/2025/la-dolce-vita/")


def test_permalink_pattern_uses_the_date_in_the_site_zone(make_site: SiteMaker) -> None:
    """00:30 BST on 14 July is 13 July in UTC, yet the permalink's day is the London day, 14."""
    config = make_site(
        {"f.md": "---\ntitle: F\ndate: 2025-07-14 00:30\n---\n"},
        extra_config='[content]\npermalink = "/{year}/{month}/{day}/{slug}/"\n',
    )
    review = only_review(load(config))
    assert (review.published, review.path) == (utc(2025, 7, 13, 23, 30), "/2025/07/14/f/")


def test_permalink_year_is_the_site_zone_year(make_site: SiteMaker) -> None:
    """A review at 03:00 UTC on 1 January 2026 is still 2025 in New York, so its path says 2025."""
    london = make_site({"f.md": "---\ntitle: F\ndate: 2026-01-01T03:00:00Z\n---\n"})
    new_york = dataclasses.replace(
        london, site=dataclasses.replace(london.site, timezone="America/New_York")
    )
    assert only_review(load(london)).path == "/reviews/2026/f/"
    assert only_review(load(new_york)).path == "/reviews/2025/f/"


# -- ordering ------------------------------------------------------------------------------------


def test_reviews_are_sorted_newest_first(make_site: SiteMaker) -> None:
    """site.reviews is ordered by publication time, newest first, whatever the file names."""
    config = make_site(
        {
            "a.md": "---\ntitle: A\ndate: 2025-03-14\n---\n",
            "b.md": "---\ntitle: B\ndate: 2025-06-01 08:00\n---\n",
            "c.md": "---\ntitle: C\ndate: 2024-12-31\n---\n",
            "d/e.md": "---\ntitle: E\ndate: 2025-06-01 09:00\n---\n",
            "f.md": "---\ntitle: F\ndate: 2026-12-01\ndraft: true\n---\n",
        }
    )
    result = load(config)
    assert [review.source for review in result.site.reviews] == [
        "f.md",
        "d/e.md",
        "b.md",
        "a.md",
        "c.md",
    ]
    assert [review.source for review in result.site.published_reviews] == [
        "d/e.md",
        "b.md",
        "a.md",
        "c.md",
    ]


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"---\ntitle: x\n---\n\xff\xfe",
            "content/x.md: is not UTF-8 text (byte 0xff at offset 17); save it as UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            b"",
            "content/x.md: is empty; add front matter with at least a title, or delete the file",
            id="empty",
        ),
        pytest.param(
            b" \n\t\r\n\n",
            "content/x.md: is empty; add front matter with at least a title, or delete the file",
            id="whitespace-only",
        ),
        pytest.param(
            b"# A heading\n\nJust a body: no metadata.\n",
            "content/x.md:1: has no front matter; start the file with a '---' line, then 'title: "
            "...', "
            "then a '---' line",
            id="no-front-matter",
        ),
        pytest.param(
            b"---\ntitle: x\ndate: 2025-03-14\n\nThe body starts here.\n",
            "content/x.md:1: front matter is never closed; add a '---' line after it",
            id="never-closed-yaml",
        ),
        pytest.param(
            b'+++\ntitle = "x"\n',
            "content/x.md:1: front matter is never closed; add a '+++' line after it",
            id="never-closed-toml",
        ),
        pytest.param(
            b"---\ntitle: x\ndate: 2025-03-14\nrating: 4: 5\nslug: x\n---\n",
            "content/x.md:4: front matter is not valid YAML (mapping values are not allowed in "
            "this context); "
            "fix that line",
            id="broken-yaml",
        ),
        pytest.param(
            b"---\ntitle: Dr. Strangelove: or How I Learned\ndate: 2025-03-14\n---\n",
            "content/x.md:2: front matter is not valid YAML (mapping values are not allowed in "
            "this context); "
            "fix that line",
            id="yaml-colon-in-title",
        ),
        pytest.param(
            b'+++\ntitle = "x"\ndate = 2025-03-14\nrating = \n+++\n',
            "content/x.md:4: front matter is not valid TOML (Invalid value (at line 3, column "
            "10)); fix that line",
            id="broken-toml",
        ),
        pytest.param(
            b"---\n- title: x\n- date: 2025-03-14\n---\n",
            "content/x.md:2: front matter must be 'key: value' lines, not a single value or a "
            "list",
            id="front-matter-list",
        ),
        pytest.param(
            b"---\njust some words\n---\n",
            "content/x.md:2: front matter must be 'key: value' lines, not a single value or a "
            "list",
            id="front-matter-scalar",
        ),
        pytest.param(
            b"---\ndate: 2025-03-14\n---\nBody\n",
            "content/x.md: has no title; add a line 'title: ...' to the front matter",
            id="no-title",
        ),
        pytest.param(
            b"---\n---\nBody\n",
            "content/x.md: has no title; add a line 'title: ...' to the front matter",
            id="empty-front-matter",
        ),
        pytest.param(
            b"---\ndate: 2025-03-14\ntitle: '  '\n---\n",
            "content/x.md:3: has no title; add a line 'title: ...' to the front matter",
            id="blank-title",
        ),
        pytest.param(
            b"---\ndate: 2025-03-14\ntitle:\n---\n",
            "content/x.md:3: has no title; add a line 'title: ...' to the front matter",
            id="empty-title",
        ),
        pytest.param(
            b"---\ntitle: x\ndate: 14 March\n---\n",
            "content/x.md:3: date: '14 March' has no year; write e.g. 2024-02-28",
            id="date-without-year",
        ),
        pytest.param(
            b"---\ntitle: x\n---\nBody\n",
            "content/x.md:2: has no date; add 'date: 2024-02-28' to the front matter, or start "
            "the file name "
            "with the date",
            id="no-date",
        ),
        pytest.param(
            b"---\ntitle: x\ndate: 2025-03-14\nupdated: soon\n---\n",
            "content/x.md:4: updated: 'soon' is not a date; write e.g. 2024-02-28 or 2024-02-28 "
            "19:30",
            id="bad-updated",
        ),
        pytest.param(
            b"---\ntitle: x\npublished: yesterday-ish\n---\n",
            "content/x.md:3: published: 'yesterday-ish' is not a date; write e.g. 2024-02-28 or "
            "2024-02-28 19:30",
            id="bad-published",
        ),
    ],
)
def test_unusable_file_is_one_problem_and_the_others_still_load(
    make_site: SiteMaker, data: bytes, expected: str
) -> None:
    """An unusable file becomes exactly one skipped problem in these words, and the good file
    beside it loads."""
    result = load(make_site({**GOOD, "x.md": data}))
    assert [str(problem) for problem in result.problems] == [expected]
    assert [problem.skipped for problem in result.problems] == [True]
    assert [review.source for review in result.site.reviews] == ["good.md"]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        pytest.param(
            b'---\ntitle: "Vertigo\ndate: 2025-03-14\n---\nBody\n', 2, id="unclosed-quote"
        ),
        pytest.param(
            b"---\ntitle: Vertigo\ntags: [a, b\ndate: 2025-03-14\n---\nBody\n",
            3,
            id="unclosed-bracket",
        ),
    ],
)
def test_unclosed_yaml_value_points_at_the_line_that_opens_it(
    make_site: SiteMaker, data: bytes, line: int
) -> None:
    """An unclosed quote or bracket is reported on the line where it opens, not on a later line."""
    result = load(make_site({**GOOD, "x.md": data}))
    assert [review.source for review in result.site.reviews] == ["good.md"]
    assert [(problem.path, problem.line, problem.skipped) for problem in result.problems] == [
        (Path("content/x.md"), line, True)
    ]


@pytest.mark.parametrize(
    ("date_line", "line"),
    [
        pytest.param("date: 2025-02-30", 3, id="february-30"),
        pytest.param("date: 2025-13-01", 3, id="month-13"),
        pytest.param("date: 2025-03-14\nupdated: 2025-02-30", 4, id="updated-february-30"),
    ],
)
def test_impossible_unquoted_yaml_date_is_a_problem_not_a_crash(
    make_site: SiteMaker, date_line: str, line: int
) -> None:
    """An unquoted YAML date that is not in the calendar is one problem on its line; the other
    files load."""
    result = load(make_site({**GOOD, "x.md": f"---\ntitle: x\n{date_line}\n---\n"}))
    assert [review.source for review in result.site.reviews] == ["good.md"]
    assert [(problem.path, problem.line, problem.skipped) for problem in result.problems] == [
        (Path("content/x.md"), line, True)
    ]


def test_date_with_unknown_zone_name_is_a_problem_not_a_silent_shift(make_site: SiteMaker) -> None:
    """A zone name feedkit does not know is reported on its line, not read as London time with the
    zone dropped."""
    result = load(make_site({**GOOD, "x.md": "---\ntitle: x\ndate: 2025-03-14 19:30 XYZT\n---\n"}))
    assert [review.source for review in result.site.reviews] == ["good.md"]
    (problem,) = result.problems
    assert str(problem) == (
        "content/x.md:3: date: '2025-03-14 19:30 XYZT' names a time zone feedkit does not know; "
        "write an offset, e.g. +01:00"
    )


def test_common_zone_abbreviations_are_read(make_site: SiteMaker) -> None:
    """`19:30 EST` is US Eastern (-05:00) and `19:30 CEST` is +02:00, as editors mean them."""
    result = load(
        make_site(
            {
                "est.md": "---\ntitle: est\ndate: 2025-03-14 19:30 EST\n---\n",
                "cest.md": "---\ntitle: cest\ndate: 2025-06-14 19:30 CEST\n---\n",
            }
        )
    )
    assert result.problems == ()
    assert {review.source: review.published for review in result.site.reviews} == {
        "est.md": datetime(2025, 3, 15, 0, 30, tzinfo=UTC),
        "cest.md": datetime(2025, 6, 14, 17, 30, tzinfo=UTC),
    }


def test_ambiguous_numeric_date_is_refused(make_site: SiteMaker) -> None:
    """'10/11/2025' could be October or November: it is a problem, never a silent guess."""
    result = load(make_site({**GOOD, "x.md": "---\ntitle: x\ndate: 10/11/2025\n---\n"}))
    assert [str(problem) for problem in result.problems] == [
        "content/x.md:3: date: '10/11/2025' could be read day-first or month-first; write it as "
        "e.g. 2025-11-10"
    ]


def test_unambiguous_numeric_date_is_read(make_site: SiteMaker) -> None:
    """'25/12/2025' can only be Christmas Day."""
    result = load(make_site({"x.md": "---\ntitle: x\ndate: 25/12/2025\n---\n"}))
    assert result.problems == ()
    assert result.site.reviews[0].published == datetime(2025, 12, 25, 0, 0, tzinfo=UTC)


def test_draft_never_takes_a_slug_from_a_published_review(make_site: SiteMaker) -> None:
    """An older draft with the same slug is the one reported; the published review keeps its
    URL."""
    result = load(
        make_site(
            {
                "a/vertigo.md": "---\ntitle: Old draft\ndate: 2020-01-01\ndraft: true\n---\n",
                "b/vertigo.md": "---\ntitle: Vertigo\ndate: 2025-01-01\n---\n",
            }
        )
    )
    assert [review.title for review in result.site.reviews] == ["Vertigo"]
    assert [str(problem) for problem in result.problems] == [
        "content/a/vertigo.md: slug 'vertigo' is already used by content/b/vertigo.md; "
        "give this review its own 'slug:' in the front matter"
    ]


def test_bom_only_file_is_reported_as_empty(make_site: SiteMaker) -> None:
    """A file holding nothing but a UTF-8 BOM and a line end is empty, as an editor shows it."""
    result = load(make_site({**GOOD, "x.md": b"\xef\xbb\xbf\r\n"}))
    assert [str(problem) for problem in result.problems] == [
        "content/x.md: is empty; add front matter with at least a title, or delete the file"
    ]
    assert [review.source for review in result.site.reviews] == ["good.md"]


def test_misspelt_date_names_key_value_example_and_line(make_site: SiteMaker) -> None:
    """`date: Febuary 2` on line 3 is reported on line 3 with the key, the value and an example
    date."""
    result = load(
        make_site({**GOOD, "reviews/x.md": "---\ntitle: x\ndate: Febuary 2\n---\nBody\n"})
    )
    (problem,) = result.problems
    assert str(problem) == (
        "content/reviews/x.md:3: date: 'Febuary 2' is not a date; write e.g. 2024-02-28 or "
        "2024-02-28 19:30"
    )
    assert problem == Problem(
        Path("content/reviews/x.md"),
        "date: 'Febuary 2' is not a date; write e.g. 2024-02-28 or 2024-02-28 19:30",
        3,
    )
    assert "date" in problem.message
    assert "'Febuary 2'" in problem.message
    assert "2024-02-28" in problem.message
    assert [review.source for review in result.site.reviews] == ["good.md"]


def test_bad_date_line_is_right_with_crlf_and_capitalised_key(make_site: SiteMaker) -> None:
    """Line numbers count CRLF lines correctly and find a capitalised `Date:` key."""
    data = b"\xef\xbb\xbf---\r\ntitle: x\r\nauthor: Ann\r\nDate: Febuary 2\r\n---\r\n"
    result = load(make_site({**GOOD, "x.md": data}))
    assert [str(problem) for problem in result.problems] == [
        "content/x.md:4: date: 'Febuary 2' is not a date; write e.g. 2024-02-28 or 2024-02-28 "
        "19:30"
    ]
    assert [review.source for review in result.site.reviews] == ["good.md"]


def test_duplicate_slug_is_kept_by_the_earlier_review(make_site: SiteMaker) -> None:
    """Of two files with slug `vertigo`, the earlier published keeps it and the other is reported
    naming both."""
    config = make_site(
        {
            **GOOD,
            "a/vertigo.md": "---\ntitle: Vertigo again\ndate: 2025-05-01\n---\n",
            "b/vertigo.md": "---\ntitle: Vertigo\ndate: 2025-03-14\n---\n",
        }
    )
    result = load(config)
    assert [str(problem) for problem in result.problems] == [
        "content/a/vertigo.md: slug 'vertigo' is already used by content/b/vertigo.md; "
        "give this review its own 'slug:' in the front matter"
    ]
    assert [problem.skipped for problem in result.problems] == [True]
    assert [review.source for review in result.site.reviews] == ["b/vertigo.md", "good.md"]


def test_duplicate_slug_from_slug_key_and_file_name(make_site: SiteMaker) -> None:
    """A `slug:` override that collides with another file's name-derived slug is reported the same
    way."""
    config = make_site(
        {
            "psycho.md": "---\ntitle: Psycho\ndate: 2025-03-14\n---\n",
            "remake.md": "---\ntitle: Psycho (1998)\ndate: 2025-04-01\nslug: psycho\n---\n",
        }
    )
    result = load(config)
    assert [str(problem) for problem in result.problems] == [
        "content/remake.md: slug 'psycho' is already used by content/psycho.md; "
        "give this review its own 'slug:' in the front matter"
    ]
    assert [review.source for review in result.site.reviews] == ["psycho.md"]


def test_missing_content_folder_is_an_error(make_site: SiteMaker) -> None:
    """A content folder that does not exist stops the load with a ContentError naming it."""
    config = make_site({}, extra_config='[content]\ndir = "nowhere"\n')
    with pytest.raises(ContentError) as caught:
        load(config)
    assert str(caught.value) == (
        f"{config.root / 'nowhere'}: content folder not found; create it or set [content] dir in "
        "config.toml"
    )


# -- which files are read ------------------------------------------------------------------------


def test_hidden_underscored_and_non_markdown_files_are_skipped(make_site: SiteMaker) -> None:
    """Dot files, `_index.md`, `_`-folders and non-Markdown files are ignored; `.markdown` is
    read."""
    review = "---\ntitle: T\ndate: 2025-03-14\n---\n"
    config = make_site(
        {
            **GOOD,
            ".x.md": "not front matter at all",
            "_index.md": "---\ntitle: Section\n---\n",
            "reviews/_index.md": "---\ntitle: Section\n---\n",
            "_drafts/y.md": review,
            ".git/z.md": review,
            "long.markdown": "---\ntitle: Long\ndate: 2025-03-15\n---\n",
            "UPPER.MD": "---\ntitle: Upper\ndate: 2025-03-16\n---\n",
            "notes.txt": "no front matter",
            "poster.jpg": b"\xff\xd8\xff\xe0",
            "readme": "hello",
        }
    )
    result = load(config)
    assert result.problems == ()
    assert [review.source for review in result.site.reviews] == [
        "UPPER.MD",
        "long.markdown",
        "good.md",
    ]
    assert [review.slug for review in result.site.reviews] == ["upper", "long", "good"]


# -- the cache -----------------------------------------------------------------------------------


def load_with_cache(config: Config, store: Store, now: datetime = NOW) -> LoadResult:
    cache = SqliteReviewCache(store, cache_fingerprint(config))
    result = load_site(config, now, cache)
    cache.save()
    return result


def recording_parse(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap parse_review so each call records the source it parsed."""
    calls: list[str] = []
    original: Callable[..., Review] = feedkit.content.loader.parse_review

    def parse(text: str, source: str, content_hash: str, config: Config) -> Review:
        calls.append(source)
        return original(text, source, content_hash, config)

    monkeypatch.setattr(feedkit.content.loader, "parse_review", parse)
    return calls


def forbid_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(_text: str, source: str, _content_hash: str, _config: Config) -> Review:
        raise AssertionError(f"{source} was parsed again")

    monkeypatch.setattr(feedkit.content.loader, "parse_review", parse)


CACHED_SITE = {
    "a.md": """\
    ---
    title: A
    date: 2025-03-14 19:30
    updated: 2025-04-01
    author: {name: Ann Lee, email: ann@example.org}
    tags: noir, drama
    rating: 7
    director: Someone
    ---
    Body A.
    """,
    "b.md": "---\ntitle: B\ndate: 2025-03-15\n---\nBody B.\n",
    "c.md": "---\ntitle: C\ndate: 2025-03-16\ndraft: true\n---\nBody C.\n",
}


def test_cache_returns_equal_reviews_without_parsing(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second load with the same cache gives equal reviews and problems, and parses nothing."""
    config = make_site(CACHED_SITE)
    with Store(tmp_path / "state.db") as store:
        first = load_with_cache(config, store)
        forbid_parse(monkeypatch)
        second = load_with_cache(config, store)
    assert first.site.reviews == second.site.reviews
    assert [review.source for review in second.site.reviews] == ["c.md", "b.md", "a.md"]
    assert second.problems == first.problems
    assert [str(problem) for problem in second.problems] == [
        "content/a.md: rating: 7 is not a number from 0 to 5; published without a rating"
    ]


def test_cache_survives_reopening_the_store(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reviews cached by one Store are served, equal and unparsed, by a Store opened later on the
    same file."""
    config = make_site(CACHED_SITE)
    with Store(tmp_path / "state.db") as store:
        first = load_with_cache(config, store)
    forbid_parse(monkeypatch)
    with Store(tmp_path / "state.db") as store:
        second = load_with_cache(config, store)
    assert second.site.reviews == first.site.reviews


def test_changed_file_is_parsed_again_and_unchanged_ones_are_not(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the file whose bytes changed is parsed on the next load, and its new values are
    used."""
    config = make_site(CACHED_SITE)
    b_path = config.content_dir / "b.md"
    with Store(tmp_path / "state.db") as store:
        first = load_with_cache(config, store)
        calls = recording_parse(monkeypatch)
        stamp = b_path.stat().st_mtime_ns
        b_path.write_text(
            "---\ntitle: B, revised\ndate: 2025-03-15\n---\nBody B.\n", encoding="utf-8"
        )
        os.utime(b_path, ns=(stamp + 2_000_000_000, stamp + 2_000_000_000))
        second = load_with_cache(config, store)
    assert calls == ["b.md"]
    assert review_named(second, "b.md").title == "B, revised"
    assert review_named(second, "b.md").content_hash == sha256(config, "b.md")
    assert review_named(second, "a.md") == review_named(first, "a.md")
    assert review_named(second, "c.md") == review_named(first, "c.md")


def test_changed_file_with_same_size_and_new_mtime_is_parsed_again(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-letter edit that keeps the size is still noticed through the new mtime and hash."""
    config = make_site(CACHED_SITE)
    b_path = config.content_dir / "b.md"
    with Store(tmp_path / "state.db") as store:
        load_with_cache(config, store)
        calls = recording_parse(monkeypatch)
        stamp = b_path.stat().st_mtime_ns
        b_path.write_text("---\ntitle: X\ndate: 2025-03-15\n---\nBody B.\n", encoding="utf-8")
        os.utime(b_path, ns=(stamp + 1_000_000_000, stamp + 1_000_000_000))
        second = load_with_cache(config, store)
    assert calls == ["b.md"]
    assert review_named(second, "b.md").title == "X"


def test_touched_file_with_same_bytes_is_not_parsed_again(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose mtime changed but whose bytes did not comes from the cache, on this load and
    the next."""
    config = make_site(CACHED_SITE)
    c_path = config.content_dir / "c.md"
    with Store(tmp_path / "state.db") as store:
        first = load_with_cache(config, store)
        forbid_parse(monkeypatch)
        stamp = c_path.stat().st_mtime_ns
        os.utime(c_path, ns=(stamp + 5_000_000_000, stamp + 5_000_000_000))
        second = load_with_cache(config, store)
        third = load_with_cache(config, store)
    assert second.site.reviews == first.site.reviews
    assert third.site.reviews == first.site.reviews


def test_new_and_deleted_files_are_noticed_with_a_cache(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file added after the first load is parsed, and a deleted one disappears from the site."""
    config = make_site(CACHED_SITE)
    with Store(tmp_path / "state.db") as store:
        load_with_cache(config, store)
        calls = recording_parse(monkeypatch)
        (config.content_dir / "a.md").unlink()
        (config.content_dir / "d.md").write_text(
            "---\ntitle: D\ndate: 2025-03-17\n---\n", encoding="utf-8"
        )
        second = load_with_cache(config, store)
    assert calls == ["d.md"]
    assert [review.source for review in second.site.reviews] == ["d.md", "c.md", "b.md"]
    assert second.problems == ()


def test_cache_of_an_old_fingerprint_is_not_used(
    make_site: SiteMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the site zone changes, cached reviews are parsed again and dated in the new zone."""
    config = make_site({"f.md": "---\ntitle: F\ndate: 2025-07-14 19:30\n---\n"})
    utc_config = dataclasses.replace(config, site=dataclasses.replace(config.site, timezone="UTC"))
    with Store(tmp_path / "state.db") as store:
        assert only_review(load_with_cache(config, store)).published == utc(2025, 7, 14, 18, 30)
        calls = recording_parse(monkeypatch)
        assert only_review(load_with_cache(utc_config, store)).published == utc(
            2025, 7, 14, 19, 30
        )
    assert calls == ["f.md"]


def test_rejected_files_are_reported_again_on_a_cached_load(
    make_site: SiteMaker, tmp_path: Path
) -> None:
    """A file that could not be used is reported on every load, not hidden by the cache."""
    config = make_site({**GOOD, "x.md": "---\ntitle: x\n---\n"})
    with Store(tmp_path / "state.db") as store:
        first = load_with_cache(config, store)
        second = load_with_cache(config, store)
    expected = [
        "content/x.md:2: has no date; add 'date: 2024-02-28' to the front matter, or start the "
        "file name with the date"
    ]
    assert [str(problem) for problem in first.problems] == expected
    assert [str(problem) for problem in second.problems] == expected


def test_file_name_that_is_not_utf8_does_not_crash_a_cached_load(
    make_site: SiteMaker, tmp_path: Path
) -> None:
    """A review whose file name is Latin-1 bytes is loaded or reported, and the cached load does
    not crash."""
    config = make_site(GOOD)
    (config.content_dir / os.fsdecode(b"caf\xe9.md")).write_bytes(
        b"---\ntitle: Cafe\ndate: 2025-01-02\n---\n"
    )
    with Store(tmp_path / "state.db") as store:
        result = load_with_cache(config, store)
    assert review_named(result, "good.md").title == "Good"
    assert len(result.site.reviews) + len(result.problems) == 2


def test_jekyll_posts_folder_is_read_and_drafts_folder_is_not(make_site: SiteMaker) -> None:
    """A Jekyll site's `_posts/` holds its posts (dated by file name); `_drafts/` stays out."""
    config = make_site(
        {
            "_posts/2024-05-01-la-strada.md": "---\ntitle: La Strada\n---\nText.\n",
            "_drafts/unfinished.md": "---\ntitle: Unfinished\n---\nText.\n",
        }
    )
    result = load(config)
    assert [(review.source, review.slug) for review in result.site.reviews] == [
        ("_posts/2024-05-01-la-strada.md", "la-strada")
    ]
    assert result.problems == ()


def test_symlink_loop_is_read_once(make_site: SiteMaker) -> None:
    """A symbolic link back to a parent folder does not make the scan go round forever."""
    config = make_site({"reviews/a.md": "---\ntitle: A\ndate: 2025-01-01\n---\n"})
    (config.content_dir / "reviews" / "again").symlink_to(config.content_dir)
    assert [review.source for review in load(config).site.reviews] == ["reviews/a.md"]


def test_unreadable_subfolder_is_a_problem_and_the_rest_loads(
    make_site: SiteMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sub-folder that cannot be entered is reported by name; other reviews still load."""
    config = make_site(
        {"ok.md": "---\ntitle: OK\ndate: 2025-01-01\n---\n", "locked/x.md": "---\ntitle: X\n---\n"}
    )
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        # Tests run as root here, which reads any folder whatever its mode: the refusal is
        # simulated.
        if str(path).endswith("/locked/"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = load(config)
    assert [review.source for review in result.site.reviews] == ["ok.md"]
    assert [str(problem) for problem in result.problems] == [
        "content/locked: folder cannot be read (Permission denied); check its permissions"
    ]


@pytest.mark.parametrize(
    "line", ['draft: "true"', "draft: yes", 'published: "false"', "published: no"]
)
def test_draft_flags_written_as_text_still_hide_the_review(
    make_site: SiteMaker, line: str
) -> None:
    """A quoted or yes/no draft flag counts like a boolean one, and is never read as a date."""
    result = load(make_site({"x.md": f"---\ntitle: X\ndate: 2025-01-01\n{line}\n---\n"}))
    assert result.problems == ()
    assert [review.draft for review in result.site.reviews] == [True]


def test_yaml_alias_bomb_is_refused_quickly(make_site: SiteMaker) -> None:
    """Nested anchors and aliases (a "billion laughs" file) are one problem, not a hang; others
    load."""
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]" for n in range(8)
    ]
    bomb = "---\ntitle: Bomb\ndate: 2025-01-01\n" + "\n".join(levels) + "\ntags: *i\n---\n"
    result = load(make_site({**GOOD, "bomb.md": bomb}))
    assert [str(problem) for problem in result.problems] == [
        "content/bomb.md:5: front matter uses YAML anchors and aliases (&name, *name); write the "
        "values out"
    ]
    assert [review.source for review in result.site.reviews] == ["good.md"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31 23:59"])
def test_dates_at_the_ends_of_the_calendar_are_problems_not_crashes(
    make_site: SiteMaker, value: str
) -> None:
    """Year 1 or 9999 (a typo, and past the edge of UTC conversion) is a problem naming the
    value."""
    result = load(make_site({**GOOD, "x.md": f"---\ntitle: x\ndate: {value}\n---\n"}))
    (problem,) = result.problems
    assert problem.message.startswith("date: ")
    assert "is outside the years 1800-9000; write e.g. 2024-02-28" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "title: &t Vertigo\nother: *t\n",
        "tags: !!seq [a, *t]\n",
        "? *key\n: value\n",
        "author: {name: &n Ann, alias: *n}\n",
    ],
)
def test_every_yaml_reader_refuses_aliases_however_written(text: str) -> None:
    """The event reader and PyYAML's loader it falls back on both refuse an alias as a key, in
    a flow, after a tag."""
    with pytest.raises(RefusedYamlError, match=r"uses YAML anchors and aliases"):
        load_yaml(text)
    with pytest.raises(RefusedYamlError, match=r"uses YAML anchors and aliases"):
        # The loader under test is a safe one.
        yaml.load(text, Loader=fallback_loader())  # noqa: S506


def test_an_anchor_without_an_alias_is_harmless(make_site: SiteMaker) -> None:
    """An anchor nothing refers to repeats nothing: the review loads with its value."""
    config = make_site({"a.md": "---\ntitle: &t Vertigo\ndate: 2025-01-01\n---\n"})
    review = only_review(load(config))
    assert review.title == "Vertigo"


def test_deeply_nested_toml_is_one_problem(make_site: SiteMaker) -> None:
    """Arrays nested a thousand deep in TOML are a problem line, not a RecursionError."""
    tags = "[" * 1000 + "]" * 1000
    nested = f'+++\ntitle = "Deep"\ndate = 2025-01-01\ntags = {tags}\n+++\n'
    result = load(make_site({**GOOD, "deep.md": nested}))
    assert [str(problem) for problem in result.problems] == [
        "content/deep.md: front matter nests lists or mappings more than 32 deep; write it flatter"
    ]


def test_toml_nested_past_the_limit_is_refused_whatever_the_recursion_limit(
    make_site: SiteMaker,
) -> None:
    """Forty levels parse without recursion trouble, yet are refused like YAML past 32 levels."""
    tags = "[" * 40 + "]" * 40
    nested = f'+++\ntitle = "Deep"\ndate = 2025-01-01\ntags = {tags}\n+++\n'
    result = load(make_site({**GOOD, "deep.md": nested}))
    assert [str(problem) for problem in result.problems] == [
        "content/deep.md: front matter nests lists or mappings more than 32 deep; write it flatter"
    ]


def test_max_file_kb_below_one_is_a_config_error(make_site: SiteMaker) -> None:
    """A size limit of 0 KB would refuse every review: config.toml names the key instead."""
    with pytest.raises(ConfigError) as caught:
        make_site(GOOD, extra_config="[content]\nmax_file_kb = 0\n")
    assert str(caught.value) == "config.toml: [content] max_file_kb: must be at least 1, not 0"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("tab\there", "tab\\there"),
        ("\x1b[2Kwiped", "\\x1b[2Kwiped"),
        ("right\u202eleft", "right\\u202eleft"),
        ("caf\udce9", "caf\\udce9"),
        ("Amélie ★ 🎬", "Amélie ★ 🎬"),
    ],
)
def test_printable_escapes_what_could_forge_or_hide_a_line(text: str, shown: str) -> None:
    """Controls, bidi overrides and undecodable bytes are escaped; letters and symbols are kept."""
    assert printable(text) == shown
    assert str(Problem(Path("content") / text, "x")) == f"content/{shown}: x"
