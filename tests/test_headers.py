"""Pelican and MultiMarkdown files: `Key: value` headers up to the first blank line, no fences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedkit.content.frontmatter import split_front_matter
from feedkit.content.loader import load_site
from feedkit.model import Author, LoadResult, Review, ReviewStatus
from tests.conftest import SiteMaker

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

# A small site as a Pelican user has it: every key Pelican's Markdown reader knows, some files
# with only a few of them, MultiMarkdown's keys with spaces, and one file with no metadata at all.
PELICAN_SITE: dict[str, str | bytes] = {
    "films/la-jetee.md": """
        Title: La Jetée, on Blu-ray
        Date: 2024-05-02 18:30
        Modified: 2024-05-09 08:00
        Category: Blu-ray
        Tags: short film, science fiction, Chris Marker
        Slug: la-jetee-blu-ray
        Authors: Ana Ruiz, Tom Berger
        Summary: Still photographs that move more than most films do.

        A time-travel story told almost entirely in stills.
        """,
    "films/playtime.md": """
        Title: Playtime in 70mm
        Date: 2024-06-10
        Author: Ana Ruiz
        Tags: Jacques Tati; comedy, French; 70mm
        Summary: Tati's city of glass, restored,
            and bigger than any screen it plays on.

        Paris as a maze of *glass*.
        """,
    "films/stalker-draft.md": """
        Title: Stalker
        Date: 2024-07-01
        Status: draft

        Not finished.
        """,
    "films/mirror-hidden.md": """
        Title: Mirror
        Date: 2024-07-02
        Status: hidden

        Only for those who have the link.
        """,
    "films/solaris-published.md": """
        Title: Solaris
        Date: 2024-07-03
        Status: published
        Lang: en
        Base Header Level: 2

        Published explicitly.
        """,
    "films/notes.md": """
        # Just notes

        Nothing here is metadata.
        """,
}


@pytest.fixture
def loaded(make_site: SiteMaker) -> LoadResult:
    return load_site(make_site(PELICAN_SITE), NOW)


def review(result: LoadResult, source: str) -> Review:
    (found,) = [item for item in result.site.reviews if item.source == source]
    return found


def test_every_pelican_key_is_read(loaded: LoadResult) -> None:
    """Title, Date, Modified, Category, Tags, Slug, Authors and Summary all reach the review."""
    jetee = review(loaded, "films/la-jetee.md")
    assert jetee.title == "La Jetée, on Blu-ray"
    assert jetee.published == datetime(2024, 5, 2, 17, 30, tzinfo=UTC)  # BST
    assert jetee.updated == datetime(2024, 5, 9, 7, 0, tzinfo=UTC)
    assert jetee.categories == ("Blu-ray",)
    assert jetee.tags == ("short film", "science fiction", "Chris Marker")
    assert jetee.slug == "la-jetee-blu-ray"
    assert jetee.authors == (Author("Ana Ruiz"), Author("Tom Berger"))
    assert jetee.summary == "Still photographs that move more than most films do."


def test_lists_split_at_semicolons_when_there_are_any(loaded: LoadResult) -> None:
    """'a; b, c' is two tags, as Pelican reads it; an indented line continues the summary."""
    playtime = review(loaded, "films/playtime.md")
    assert playtime.tags == ("Jacques Tati", "comedy, French", "70mm")
    assert playtime.authors == (Author("Ana Ruiz"),)
    assert playtime.summary == (
        "Tati's city of glass, restored, and bigger than any screen it plays on."
    )


def test_status_draft_and_hidden_keep_a_review_out(loaded: LoadResult) -> None:
    """Status: draft and Status: hidden are not public; Status: published is."""
    statuses = {
        item.source: item.status(NOW)
        for item in loaded.site.reviews
        if item.source.startswith(("films/stalker", "films/mirror", "films/solaris"))
    }
    assert statuses == {
        "films/stalker-draft.md": ReviewStatus.DRAFT,
        "films/mirror-hidden.md": ReviewStatus.DRAFT,
        "films/solaris-published.md": ReviewStatus.PUBLISHED,
    }


def test_unknown_keys_are_kept_with_their_case_folded(loaded: LoadResult) -> None:
    """Lang and MultiMarkdown's 'Base Header Level' are kept as extra values."""
    solaris = review(loaded, "films/solaris-published.md")
    assert dict(solaris.extra) == {"lang": "en", "base header level": "2"}


def test_the_body_starts_after_the_blank_line() -> None:
    """The header block is not part of the body, and the body keeps its Markdown."""
    split = split_front_matter("Title: A\nDate: 2024-01-01\n\nFirst *line*.\n\nSecond.\n")
    assert split.values == {"title": "A", "date": "2024-01-01"}
    assert split.body == "First *line*.\n\nSecond.\n"


def test_a_file_with_no_metadata_is_one_problem(loaded: LoadResult) -> None:
    """Five of the six files are read; the one with none is a one-line problem."""
    assert len(loaded.site.reviews) == 5
    assert [str(problem) for problem in loaded.problems] == [
        "content/films/notes.md:1: has no front matter; start the file with a '---' line, then "
        "'title: ...', then a '---' line"
    ]


def test_a_bad_date_names_its_own_line(make_site: SiteMaker) -> None:
    """Line numbers count from the file's first line: there is no fence before the headers."""
    config = make_site({"x.md": "Title: X\nSlug: x\nDate: someday\n\nBody.\n"})
    (problem,) = load_site(config, NOW).problems
    assert problem.line == 3
    assert problem.message.startswith("date: 'someday' is not a date")


def test_a_first_line_that_is_a_link_is_no_header(make_site: SiteMaker) -> None:
    """'https://…' on the first line is Markdown, not a key: the file has no front matter."""
    config = make_site({"x.md": "https://example.org\n\nA link.\n"})
    (problem,) = load_site(config, NOW).problems
    assert problem.message.startswith("has no front matter")
