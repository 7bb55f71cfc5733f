"""Generate a whole feedkit site of N synthetic film reviews, for benchmarks.

`python benchmarks/generate.py N DIR [--seed 42] [--today YYYY-MM-DD] [--style feedkit]` writes
DIR/config.toml and DIR/content/<year>/<slug>.md (Jekyll: DIR/content/_posts/<date>-<slug>.md).
The same N, seed, day and style give byte-identical files. Bodies are built from a pool of
pre-made paragraphs, so 10,000 reviews take a second or two and 100,000 are practical. The styles
of front matter are in benchmarks/styles.py; every style writes the same reviews.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from styles import STYLES, Context, Meta, is_future  # benchmarks/ is on sys.path as a script

GENERATOR_VERSION = 2  # 2: front-matter styles; the `feedkit` style writes the same bytes as 1
DEFAULT_STYLE = "feedkit"
MANIFEST_NAME = ".bench-manifest.json"
TARGET_WORDS = 1000
PARAGRAPH_POOL = 2048
TOML_SHARE, DRAFT_SHARE, FUTURE_SHARE = 0.10, 0.02, 0.01
YEARS_BACK = 8

CATEGORIES = (
    "Cinema",
    "Blu-ray",
    "DVD",
    "4K UHD",
    "Unboxing",
    "Reissue",
    "Documentary",
    "Boxed set",
)
TAGS = (
    "Alfred Hitchcock",
    "Yasujirō Ozu",
    "Agnès Varda",
    "Akira Kurosawa",
    "Buster Keaton",
    "Powell and Pressburger",
    "Billy Wilder",
    "Ingmar Bergman",
    "Chantal Akerman",
    "Satyajit Ray",
    "film noir",
    "neorealism",
    "silent cinema",
    "western",
    "musical",
    "horror",
    "science fiction",
    "screwball comedy",
    "melodrama",
    "documentary",
    "animation",
    "Technicolor",
    "black and white",
    "restoration",
    "70mm",
    "VistaVision",
    "Dolby Vision",
    "HDR10",
    "mono audio",
    "commentary track",
    "booklet",
    "limited edition",
    "region B",
    "region free",
    "British cinema",
    "French cinema",
    "Japanese cinema",
    "Italian cinema",
    "New Hollywood",
    "cult classic",
)
AUTHORS = (
    ("Priya Raman", "priya@bench.example.org"),
    ("Tomasz Wren", "tomasz@bench.example.org"),
    ("Clara Featherstone", "clara@bench.example.org"),
    ("Ines Achterberg", "ines@bench.example.org"),
    ("Femi Adeyemi", "femi@bench.example.org"),
    ("Marguerite Dubois", "marguerite@bench.example.org"),
)
TITLE_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Last",
    "Hidden",
    "Long",
    "Burning",
    "Quiet",
    "Broken",
    "Golden",
    "Midnight",
    "Lost",
    "Wild",
    "Distant",
    "Bitter",
    "Forgotten",
    "Restless",
    "Frozen",
    "Painted",
    "Electric",
    "Hollow",
    "Velvet",
    "Savage",
    "Gentle",
    "Northern",
    "Empty",
    "Secret",
    "Shining",
    "Drowned",
    "Sleeping",
    "Scarlet",
)
TITLE_NOUNS = (
    "River",
    "Station",
    "Summer",
    "Harbour",
    "Mirror",
    "Garden",
    "Road",
    "Window",
    "Season",
    "Stranger",
    "Voyage",
    "Circus",
    "Letter",
    "Orchard",
    "Lighthouse",
    "Tenant",
    "Frontier",
    "Carnival",
    "Witness",
    "Bridge",
    "Island",
    "Parade",
    "Ballroom",
    "Signal",
    "Harvest",
    "Archive",
    "Tide",
    "Compass",
    "Furnace",
    "Verdict",
)
TITLE_FORMS = (
    "review",
    "on Blu-ray",
    "in cinemas",
    "4K UHD review",
    "DVD review",
    "reissue",
    "box set unboxed",
)
HEADINGS = (
    "The transfer",
    "Picture",
    "Sound",
    "Extras",
    "The restoration",
    "Performances",
    "Verdict",
    "The screening",
    "Packaging",
    "Context",
    "Why it lasts",
    "Caveats",
    "The score",
    "Direction",
    "Should you buy it?",
)
SUBJECTS = (
    "the director",
    "the cinematographer",
    "the lead actress",
    "the supporting cast",
    "the screenplay",
    "the score",
    "the new transfer",
    "the restoration",
    "the grain structure",
    "the colour grade",
    "the mono mix",
    "the editing",
    "the final reel",
    "the opening sequence",
    "the commentary track",
    "the booklet",
    "the print",
    "the camera",
)
VERBS = (
    "captures",
    "frames",
    "undercuts",
    "elevates",
    "reveals",
    "softens",
    "sharpens",
    "balances",
    "restores",
    "rewards",
    "complicates",
    "lingers on",
    "honours",
    "betrays",
    "illuminates",
    "echoes",
    "sustains",
    "flattens",
)
OBJECTS = (
    "the city at night",
    "every close-up",
    "the long tracking shot",
    "the film's quiet menace",
    "the shadows",
    "the melodrama",
    "the final confrontation",
    "the landscape",
    "the dialogue",
    "the tension",
    "the black levels",
    "the skin tones",
    "the original aspect ratio",
    "the crowded market scene",
    "the silences",
    "the comedy",
)
ADVERBS = (
    "beautifully",
    "patiently",
    "with real restraint",
    "almost too neatly",
    "without fuss",
    "with startling clarity",
    "more than once",
    "in a single take",
    "against expectation",
    "with great care",
    "at a deliberate pace",
)
CLAUSES = (
    "and the effect is hard to shake",
    "which older discs never managed",
    "though not everyone will agree",
    "and it has rarely looked better",
    "even if the middle act sags",
    "which is the whole point",
    "and the audience noticed",
    "as the best films of the period do",
    "without ever winking at us",
)
FILMS = (
    "The Third Man",
    "Vertigo",
    "Tokyo Story",
    "Brief Encounter",
    "The General",
    "Late Spring",
    "Le Samouraï",
)


@dataclass(frozen=True, slots=True)
class Review:
    """One generated review: where it goes, what it says, and what a benchmark needs of it."""

    relative: str  # below content/, e.g. "2024/crimson-river-review.md"
    published: datetime  # in UTC
    status: str  # "published", "draft" or "scheduled", as feedkit counts them
    categories: list[str]
    text: str


def build_paragraph_pool(rng: random.Random, size: int = PARAGRAPH_POOL) -> list[str]:
    """Paragraphs of four to eight film-review-ish sentences; a few sentences carry emphasis or a
    link."""
    sentences = [_sentence(rng) for _ in range(size * 2)]
    return [" ".join(rng.choices(sentences, k=rng.randint(4, 8))) for _ in range(size)]


def _sentence(rng: random.Random) -> str:
    words = (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(ADVERBS)}"
    )
    if rng.random() < 0.5:
        words += f", {rng.choice(CLAUSES)}"
    roll = rng.random()
    if roll < 0.06:
        words += f", as in *{rng.choice(FILMS)}*"
    elif roll < 0.08:
        target = rng.choice(FILMS).lower().replace(" ", "-")
        words += f" (see [the distributor's page](https://example.org/releases/{target}))"
    return words[0].upper() + words[1:] + "."


def make_body(rng: random.Random, pool: list[str], average_words: float) -> str:
    """About TARGET_WORDS words: pooled paragraphs, with two to four `##` headings between them."""
    paragraphs = rng.choices(pool, k=round(TARGET_WORDS / average_words))
    for heading in rng.sample(HEADINGS, rng.randint(2, 4)):
        paragraphs.insert(rng.randint(1, len(paragraphs) - 1), f"## {heading}")
    return "\n\n".join(paragraphs) + "\n"


def pick_date(rng: random.Random, today: date) -> datetime:
    """A moment in the last YEARS_BACK years or, for 1 % of reviews, 30 to 365 days in the
    future."""
    future = rng.random() < FUTURE_SHARE
    days = rng.randint(30, 365) if future else -rng.randint(1, 365 * YEARS_BACK)
    # Written without a zone, as editors write dates: the site's time zone applies.
    moment = datetime(today.year, today.month, today.day) + timedelta(days=days)  # noqa: DTZ001
    return moment.replace(hour=rng.randint(6, 23), minute=rng.choice((0, 15, 30, 45)))


def make_title(rng: random.Random) -> tuple[str, str]:
    """A film title plus its review form, and the film's name for the summary."""
    film = f"The {rng.choice(TITLE_ADJECTIVES)} {rng.choice(TITLE_NOUNS)}"
    return f"{film} {rng.choice(TITLE_FORMS)}", film


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def unique_slug(title: str, seen: dict[str, int]) -> str:
    base = slugify(title)
    count = seen.get(base, 0) + 1
    seen[base] = count
    return base if count == 1 else f"{base}-{count}"


def make_meta(rng: random.Random, title: str, film: str, published: datetime) -> Meta:
    name, email = rng.choice(AUTHORS)
    return Meta(
        title=title,
        published=published,
        draft=rng.random() < DRAFT_SHARE,
        author=name,
        email=email if rng.random() < 0.3 else None,
        summary=(
            f"{film}, {rng.choice(CLAUSES)}; "
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
        ),
        categories=rng.sample(CATEGORIES, rng.choice((1, 1, 2))),
        tags=rng.sample(TAGS, rng.randint(2, 4)),
        rating=rng.randint(0, 10) / 2,
    )


@dataclass(frozen=True, slots=True)
class Corpus:
    """What every review of one corpus is made from."""

    rng: random.Random  # the main sequence: the same reviews in every style
    style_rng: random.Random  # what a style adds of its own
    style: str
    seed: int
    today: date
    pool: list[str]
    average_words: float


def make_review(corpus: Corpus, seen: dict[str, int]) -> Review:
    rng = corpus.rng
    title, film = make_title(rng)
    slug = unique_slug(title, seen)
    meta = make_meta(rng, title, film, pick_date(rng, corpus.today))
    as_toml = rng.random() < TOML_SHARE  # drawn in every style, to keep one main sequence
    context = Context(corpus.today, corpus.style_rng, AUTHORS, as_toml)
    written = STYLES[corpus.style](meta, slug, context)
    text = written.front_matter + make_body(rng, corpus.pool, corpus.average_words)
    status = review_status(meta, corpus.today)
    return Review(written.relative, written.published, status, meta.categories, text)


def review_status(meta: Meta, today: date) -> str:
    """As `feedkit check` counts: a draft is a draft whatever its date."""
    if meta.draft:
        return "draft"
    return "scheduled" if is_future(meta, today) else "published"


def config_text(count: int, style: str) -> str:
    made = f"{count} reviews in the {style} style"
    return f"""# A generated benchmark site of {made} (benchmarks/generate.py).
[site]
title = "Bench Reviews"
base_url = "https://bench.example.org/"
description = "Synthetic film reviews for feedkit benchmarks."
timezone = "Europe/London"
author = "Bench Editors"

[feeds]
limit = 50
formats = ["rss", "atom", "json"]
category_feeds = true
"""


def generate(
    count: int,
    directory: Path,
    seed: int = 42,
    today: date | None = None,
    style: str = DEFAULT_STYLE,
) -> dict[str, object]:
    """Write the site; return its manifest (also saved as DIR/.bench-manifest.json)."""
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    pool = build_paragraph_pool(rng)
    average_words = sum(len(paragraph.split()) for paragraph in pool) / len(pool)
    style_rng = random.Random(f"{seed}:{style}")
    corpus = Corpus(rng, style_rng, style, seed, today, pool, average_words)
    seen: dict[str, int] = {}
    newest: Review | None = None
    counts = {"published": 0, "draft": 0, "scheduled": 0}
    content = directory / "content"
    made_folders: set[Path] = set()
    for _ in range(count):
        review = make_review(corpus, seen)
        _write(content / review.relative, review.text, made_folders)
        counts[review.status] += 1
        if _is_newer_published(review, newest):
            newest = review
    return _save_manifest(directory, corpus, counts, newest)


def _is_newer_published(review: Review, newest: Review | None) -> bool:
    if review.status != "published":
        return False
    if newest is None:
        return True
    return (review.published, review.relative) > (newest.published, newest.relative)


def _write(path: Path, text: str, made_folders: set[Path]) -> None:
    if path.parent not in made_folders:
        path.parent.mkdir(parents=True, exist_ok=True)
        made_folders.add(path.parent)
    path.write_text(text, encoding="utf-8")


def _save_manifest(
    directory: Path,
    corpus: Corpus,
    counts: dict[str, int],
    newest: Review | None,
) -> dict[str, object]:
    count = sum(counts.values())
    config = config_text(count, corpus.style)
    (directory / "config.toml").write_text(config, encoding="utf-8")
    manifest: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "style": corpus.style,
        "reviews": count,
        "seed": corpus.seed,
        "today": corpus.today.isoformat(),
        "published": counts["published"],
        "drafts": counts["draft"],
        "scheduled": counts["scheduled"],
        "newest_published": f"content/{newest.relative}" if newest else None,
        "newest_categories": newest.categories if newest else [],
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (directory / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", metavar="N", type=int, help="how many reviews to write")
    parser.add_argument(
        "directory", metavar="DIR", type=Path, help="the site folder to create or fill"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--today", type=date.fromisoformat, help="the day dates are relative to (default: today)"
    )
    parser.add_argument(
        "--style",
        choices=tuple(STYLES),
        default=DEFAULT_STYLE,
        help=f"how the front matter is written (default {DEFAULT_STYLE})",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate(args.count, args.directory, args.seed, args.today, args.style)
    seconds = time.perf_counter() - started
    made = f"{args.count} {args.style}-style reviews in {args.directory}"
    print(f"Generated {made} in {seconds:.2f} s")


if __name__ == "__main__":
    main()
