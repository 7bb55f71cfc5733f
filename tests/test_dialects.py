"""Front matter as other site generators write it: Hexo's posts with no opening fence and nested
categories, Astro's `pubDate`, `updatedDate` and `heroImage`, Hugo's `publishDate`, Zola's
`[taxonomies]` and `[extra]`, Jekyll's space-separated tags, and the image mappings of popular Hugo
and Jekyll themes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedkit.content.loader import load_site
from feedkit.model import LoadResult, Review, ReviewStatus
from tests.conftest import SiteMaker

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BASE = "https://reviews.example.org/"

SITE: dict[str, str | bytes] = {
    # Hexo's own post scaffold: YAML from the first line, closed by '---', nothing opens it.
    "source/_posts/le-samourai.md": """
        title: Le Samouraï Blu-ray
        date: 2024-03-09 20:46:25
        categories:
        - [Blu-ray, Criterion]
        - Policier
        tags: [Melville, Delon]
        ---
        A hitman, a trench coat, a *bird* in a cage.

        ---

        A rule in the body is no fence.
        """,
    # Astro's blog starter.
    "src/content/blog/stalker.md": """
        ---
        title: 'Stalker 4K Unboxing'
        description: 'The Zone, restored frame by frame.'
        pubDate: 'Jul 08 2025'
        updatedDate: 'Jul 10 2025'
        heroImage: '/images/stalker.jpg'
        ---
        Tarkovsky's long takes, in 4K.
        """,
    # Hugo: a publish date alone, and one later than the date (held back until then).
    "content/posts/ran.md": """
        ---
        title: Ran DVD
        publishDate: 2025-02-01T10:00:00Z
        cover:
          image: /covers/ran.jpg
          alt: Riders in the mist
        ---
        Kurosawa's Lear.
        """,
    "content/posts/kagemusha.md": """
        ---
        title: Kagemusha Blu-ray
        date: 2026-11-01
        publishDate: 2026-12-25T09:00:00Z
        ---
        Held back for Christmas.
        """,
    # Zola: taxonomies and a theme's image under [extra]; a top-level value is never overridden.
    "content/blog/playtime.md": """
        +++
        title = "Playtime Blu-ray"
        date = 2024-06-10
        description = "Tati's city of glass."
        [taxonomies]
        categories = ["Blu-ray"]
        tags = ["Tati", "comedy"]
        [extra]
        image = "playtime.jpg"
        rating = 4.5
        +++
        Paris as a maze of glass.
        """,
    # Jekyll's Minimal Mistakes theme keeps its images in a `header` mapping.
    "_posts/2024-01-05-brazil.md": """
        ---
        title: Brazil DVD
        header:
          teaser: /assets/brazil-teaser.jpg
        ---
        Ducts.
        """,
    "_posts/2024-01-06-header-text.md": """
        ---
        title: Header As Text
        header: A banner line some theme prints
        ---
        No image here.
        """,
}


@pytest.fixture
def loaded(make_site: SiteMaker) -> LoadResult:
    return load_site(make_site(SITE), NOW)


def review(result: LoadResult, source: str) -> Review:
    (found,) = [item for item in result.site.reviews if item.source == source]
    return found


def test_every_file_is_read(loaded: LoadResult) -> None:
    """Every dialect above is a review, and none is a problem."""
    assert [str(problem) for problem in loaded.problems] == []
    assert len(loaded.site.reviews) == len(SITE)


def test_a_hexo_post_without_an_opening_fence_is_yaml(loaded: LoadResult) -> None:
    """Nested categories count name by name; the body starts after the '---', and a later
    '---' in it stays a rule."""
    samourai = review(loaded, "source/_posts/le-samourai.md")
    assert samourai.title == "Le Samouraï Blu-ray"
    assert samourai.published == datetime(2024, 3, 9, 20, 46, 25, tzinfo=UTC)
    assert samourai.categories == ("Blu-ray", "Criterion", "Policier")
    assert samourai.tags == ("Melville", "Delon")
    assert samourai.summary is None
    assert samourai.extra == ()


def test_a_broken_hexo_block_names_its_own_line(make_site: SiteMaker) -> None:
    """Line numbers count from the file's first line, as there is no fence above."""
    config = make_site({"bad.md": "title: A\ndate: 2024-01-01\ntags: [a, b\n---\nBody.\n"})
    (problem,) = load_site(config, NOW).problems
    assert str(problem).startswith("content/bad.md:3: front matter is not valid YAML")


def test_headers_then_a_blank_line_stay_pelican(make_site: SiteMaker) -> None:
    """A Pelican file whose body holds a '---' rule is read as headers, not as YAML."""
    text = "Title: A Rule\nDate: 2024-01-01\n\nAbove.\n\n---\n\nBelow.\n"
    (found,) = load_site(make_site({"rule.md": text}), NOW).site.reviews
    assert (found.title, found.extra) == ("A Rule", ())


def test_astro_dates_summary_and_hero_image(loaded: LoadResult) -> None:
    """Midnight in the site's zone (London, in summer time) is 23:00 the day before in UTC."""
    stalker = review(loaded, "src/content/blog/stalker.md")
    assert stalker.published == datetime(2025, 7, 7, 23, tzinfo=UTC)
    assert stalker.updated == datetime(2025, 7, 9, 23, tzinfo=UTC)
    assert stalker.summary == "The Zone, restored frame by frame."
    assert stalker.image == "/images/stalker.jpg"


def test_hugo_publish_date_stands_for_the_date_and_holds_a_review_back(
    loaded: LoadResult,
) -> None:
    """publishDate alone is the date; later than `date`, it keeps the review scheduled until
    then, as Hugo does. PaperMod's `cover: {image: ...}` is the cover."""
    ran = review(loaded, "content/posts/ran.md")
    assert ran.published == datetime(2025, 2, 1, 10, tzinfo=UTC)
    assert ran.image == "/covers/ran.jpg"
    kagemusha = review(loaded, "content/posts/kagemusha.md")
    assert kagemusha.published == datetime(2026, 12, 25, 9, tzinfo=UTC)
    assert kagemusha.status(NOW) is ReviewStatus.SCHEDULED


def test_zola_taxonomies_and_extra_are_read_as_top_level_keys(loaded: LoadResult) -> None:
    """Tags and categories from [taxonomies], the image and rating from [extra]."""
    playtime = review(loaded, "content/blog/playtime.md")
    assert playtime.categories == ("Blu-ray",)
    assert playtime.tags == ("Tati", "comedy")
    assert playtime.image == "playtime.jpg"
    assert playtime.rating == 4.5
    assert playtime.summary == "Tati's city of glass."


def test_a_top_level_key_wins_over_the_same_key_in_extra(make_site: SiteMaker) -> None:
    """What is written at the top is never replaced by a theme's value."""
    text = (
        '+++\ntitle = "A"\ndate = 2024-01-01\nimage = "top.jpg"\n[extra]\nimage = "x.jpg"\n+++\n'
    )
    (found,) = load_site(make_site({"a.md": text}), NOW).site.reviews
    assert found.image == "top.jpg"


def test_a_theme_header_mapping_gives_its_image_and_header_text_none(loaded: LoadResult) -> None:
    """`header: {teaser: ...}` is an image; `header` as plain text is not taken for one."""
    assert review(loaded, "_posts/2024-01-05-brazil.md").image == "/assets/brazil-teaser.jpg"
    assert review(loaded, "_posts/2024-01-06-header-text.md").image is None


def test_jekyll_posts_name_their_tags_between_spaces(make_site: SiteMaker) -> None:
    """In a Jekyll `_posts` folder, `tags: a b` is two tags and `categories: a b` two categories,
    as Jekyll reads them; `category:` is one name, commas still separate, and elsewhere a string
    without commas is one name."""
    front = "---\ntitle: {title}\ndate: 2024-01-0{day}\n{names}\n---\nText.\n"
    site = {
        "_posts/2024-01-01-a.md": front.format(
            title="A", day=1, names="tags: noir criterion-collection\ncategories: blu-ray 4k"
        ),
        "_posts/2024-01-02-b.md": front.format(title="B", day=2, names="category: Home Video"),
        "_posts/2024-01-03-c.md": front.format(title="C", day=3, names="tags: film noir, heist"),
        "posts/d.md": front.format(title="D", day=4, names="tags: film noir"),
    }
    reviews = {item.title: item for item in load_site(make_site(site), NOW).site.reviews}
    assert reviews["A"].tags == ("noir", "criterion-collection")
    assert reviews["A"].categories == ("blu-ray", "4k")
    assert reviews["B"].categories == ("Home Video",)
    assert reviews["C"].tags == ("film noir", "heist")
    assert reviews["D"].tags == ("film noir",)
