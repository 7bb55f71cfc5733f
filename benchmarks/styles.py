"""Front matter as real sites write it: one writer per style, each a whole benchmark corpus.

Every style writes the same reviews (titles, dates, bodies come from the generator's main random
sequence); only the front matter, and for Jekyll the file name, differ. What a style adds of its
own (seconds, time zones, a second author) comes from a random generator of its own, so the main
sequence, and with it the `feedkit` style's bytes, stay as they were.
"""

from __future__ import annotations

import random
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

SITE_ZONE = ZoneInfo("Europe/London")  # the generated config.toml's [site] timezone
AUTHOR_ZONE = ZoneInfo("America/Chicago")  # where the Hugo and Jekyll sites' authors write
FRACTION_SHARE = 0.25  # dates written with fractional seconds, where the style has them
SECOND_AUTHOR_SHARE = 0.2
TITLE_FLOURISH_SHARE = 0.3  # WordPress titles with an apostrophe, quotes and a colon
VERDICT_WORDS = ("essential", "a must", "flawed", "a revelation", "worth the wait")


@dataclass(frozen=True, slots=True)
class Meta:
    """A review's front matter; `email` set means the author is written as a mapping."""

    title: str
    published: datetime  # naive wall-clock time; each style decides its zone
    draft: bool
    author: str
    email: str | None
    summary: str
    categories: list[str]
    tags: list[str]
    rating: float


@dataclass(frozen=True, slots=True)
class Context:
    """What a style writer may use besides the review: the day of the corpus, its own randomness,
    the authors to pick a second one from, and the feedkit style's TOML coin."""

    today: date
    rng: random.Random
    authors: tuple[tuple[str, str], ...]
    as_toml: bool


@dataclass(frozen=True, slots=True)
class Written:
    """A review's front matter in one style, the file it goes in, and its moment in UTC."""

    front_matter: str
    relative: str  # below content/
    published: datetime


StyleWriter = Callable[[Meta, str, Context], Written]


def is_future(meta: Meta, today: date) -> bool:
    return meta.published.date() > today


def _moment(meta: Meta, zone: tzinfo, context: Context, fractions: bool = False) -> datetime:
    """The review's time in `zone`, with seconds (and sometimes microseconds) added.

    A review meant to be out already is kept before midnight UTC of `today`: written in a zone
    west of UTC, yesterday evening would otherwise still be in the future early today.
    """
    rng = context.rng
    micro = rng.randint(1, 999_999) if fractions and rng.random() < FRACTION_SHARE else 0
    moment = meta.published.replace(second=rng.randint(0, 59), microsecond=micro, tzinfo=zone)
    midnight = datetime.combine(context.today, time(), tzinfo=UTC)
    if not is_future(meta, context.today) and moment >= midnight:
        moment -= timedelta(days=1)
    return moment


def _dated_path(moment: datetime, slug: str) -> str:
    return f"{moment.year}/{slug}.md"


def _quoted(text: str) -> str:
    """A double-quoted string valid in YAML and TOML (the generated text has no `"` or `\\`)."""
    return f'"{text}"'


def _flow_list(items: list[str]) -> str:
    return "[" + ", ".join(_quoted(item) for item in items) + "]"


def _fenced(fence: str, lines: list[str]) -> str:
    return f"{fence}\n" + "\n".join(lines) + f"\n{fence}\n\n"


# -- feedkit: the mix this project's own sites have (9 in 10 YAML, the rest TOML) ---------------


def _yaml_list(key: str, items: list[str]) -> str:
    return f"{key}:\n" + "".join(f"  - {_quoted(item)}\n" for item in items)


def yaml_front_matter(meta: Meta) -> str:
    author = f"author: {meta.author}"
    if meta.email:
        author = f"author:\n  name: {meta.author}\n  email: {meta.email}"
    lists = _yaml_list("categories", meta.categories) + _yaml_list("tags", meta.tags)
    lines = [
        f"title: {_quoted(meta.title)}",
        f"date: {meta.published:%Y-%m-%d %H:%M}",
        author,
        f"summary: {_quoted(meta.summary)}",
        lists + f"rating: {meta.rating}",
    ]
    if meta.draft:
        lines.append("draft: true")
    return "---\n" + "\n".join(lines) + "\n---\n\n"


def toml_front_matter(meta: Meta) -> str:
    name = _quoted(meta.author)
    author = f"{{ name = {name}, email = {_quoted(meta.email)} }}" if meta.email else name
    lines = [
        f"title = {_quoted(meta.title)}",
        f"date = {meta.published:%Y-%m-%dT%H:%M:00}",
        f"author = {author}",
        f"summary = {_quoted(meta.summary)}",
        f"categories = {_flow_list(meta.categories)}",
        f"tags = {_flow_list(meta.tags)}",
        f"rating = {meta.rating}",
    ]
    if meta.draft:
        lines.append("draft = true")
    return "+++\n" + "\n".join(lines) + "\n+++\n\n"


def feedkit_style(meta: Meta, slug: str, context: Context) -> Written:
    render = toml_front_matter if context.as_toml else yaml_front_matter
    published = meta.published.replace(tzinfo=SITE_ZONE).astimezone(UTC)
    return Written(render(meta), _dated_path(meta.published, slug), published)


# -- hugo: what `hugo new` writes from an archetype, plus the lists themes ask for --------------


def hugo_style(meta: Meta, slug: str, context: Context) -> Written:
    moment = _moment(meta, AUTHOR_ZONE, context, fractions=True)
    lines = [
        f"title: {_quoted(meta.title)}",
        f"date: {moment.isoformat()}",  # 2020-07-08T13:18:29-05:00, sometimes with .277525
        f"draft: {'true' if meta.draft else 'false'}",
        f"author: {_quoted(meta.author)}",
        f"description: {_quoted(meta.summary)}",
        f"tags: {_flow_list(meta.tags)}",
        f"categories: {_flow_list(meta.categories)}",
        f"rating: {meta.rating}",
    ]
    return Written(_fenced("---", lines), _dated_path(moment, slug), moment.astimezone(UTC))


# -- jekyll: dated file names in _posts/, tags as one space-separated string ------------------


def jekyll_tag(name: str) -> str:
    """A tag as one word, the way Jekyll sites write them: Jekyll splits `tags:` on spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "-".join(plain.lower().split())


def jekyll_style(meta: Meta, slug: str, context: Context) -> Written:
    moment = _moment(meta, AUTHOR_ZONE, context)
    lines = [
        "layout: post",
        f"title: {meta.title}",
        f"date: {moment:%Y-%m-%d %H:%M:%S %z}",  # 2015-05-16 06:46:03 -0500
        f"author: {meta.author}",
        f"categories: [{', '.join(meta.categories)}]",
        f"tags: {' '.join(jekyll_tag(tag) for tag in meta.tags)}",
        f"rating: {meta.rating}",
    ]
    if meta.draft:
        lines.append("published: false")  # Jekyll's drafts live in _drafts/, unread by both
    relative = f"_posts/{moment:%Y-%m-%d}-{slug}.md"
    return Written(_fenced("---", lines), relative, moment.astimezone(UTC))


# -- blocklists: every list as a block, authors as mappings, a folded summary -----------------


def _authors_block(meta: Meta, context: Context) -> list[str]:
    people = [(meta.author, meta.email or _email_of(meta.author, context))]
    if context.rng.random() < SECOND_AUTHOR_SHARE:
        others = [person for person in context.authors if person[0] != meta.author]
        people.append(context.rng.choice(others))
    return ["authors:", *(f"  - name: {name}\n    email: {email}" for name, email in people)]


def _email_of(name: str, context: Context) -> str:
    return dict(context.authors)[name]


def blocklist_style(meta: Meta, slug: str, context: Context) -> Written:
    moment = _moment(meta, SITE_ZONE, context)
    folded = textwrap.wrap(meta.summary, width=48)
    lines = [
        f"title: {meta.title}",
        f"date: {moment:%Y-%m-%d %H:%M:%S}",
        *_authors_block(meta, context),
        "summary: >-",
        *(f"  {line}" for line in folded),
        "categories:",
        *(f"  - {name}" for name in meta.categories),
        "tags:",
        *(f"  - {name}" for name in meta.tags),
        f"rating: {meta.rating}",
    ]
    if meta.draft:
        lines.append("draft: true")
    return Written(_fenced("---", lines), _dated_path(moment, slug), moment.astimezone(UTC))


# -- toml: every file in TOML, dates as TOML's own datetimes ----------------------------------


def _toml_datetime(moment: datetime, rng: random.Random) -> str:
    """An offset date-time mostly; sometimes in UTC with `Z`, sometimes a local date-time."""
    roll = rng.random()
    if roll < 0.2:
        return moment.replace(tzinfo=None).isoformat()  # read in the site's zone
    if roll < 0.4:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def toml_style(meta: Meta, slug: str, context: Context) -> Written:
    moment = _moment(meta, SITE_ZONE, context, fractions=True)
    lines = [
        f"title = {_quoted(meta.title)}",
        f"date = {_toml_datetime(moment, context.rng)}",
        f"summary = {_quoted(meta.summary)}",
        f"categories = {_flow_list(meta.categories)}",
        f"tags = {_flow_list(meta.tags)}",
        f"rating = {meta.rating}",
    ]
    if meta.draft:
        lines.append("draft = true")
    if meta.email:  # tables come last in TOML: after them every key would belong to the table
        author = [f"name = {_quoted(meta.author)}", f"email = {_quoted(meta.email)}"]
        lines += ["", "[[authors]]", *author]
    else:
        lines.insert(2, f"author = {_quoted(meta.author)}")
    return Written(_fenced("+++", lines), _dated_path(moment, slug), moment.astimezone(UTC))


# -- wordpress: what WordPress exporters write: quoted strings, a status, an HTML excerpt ------


def _single_quoted(text: str) -> str:
    """YAML's single-quoted style, in which a quote is written twice."""
    return "'" + text.replace("'", "''") + "'"


def _wordpress_title(title: str, rng: random.Random) -> str:
    if rng.random() < TITLE_FLOURISH_SHARE:
        return f'{title}: it\'s "{rng.choice(VERDICT_WORDS)}"'
    return title


def _html_excerpt(summary: str) -> str:
    """The summary as WordPress stores an excerpt: typography as numeric entities, `&` escaped."""
    film, _, rest = summary.partition(", ")
    return f"{film} &#8211; {rest.removesuffix('.')} &amp; more&#8230;"


def _wordpress_status(meta: Meta, today: date) -> str:
    if meta.draft:
        return "draft"
    return "future" if is_future(meta, today) else "publish"


def wordpress_style(meta: Meta, slug: str, context: Context) -> Written:
    moment = _moment(meta, SITE_ZONE, context)
    lines = [
        f"title: {_single_quoted(_wordpress_title(meta.title, context.rng))}",
        f"date: '{moment:%Y-%m-%d %H:%M:%S}'",
        f"author: {meta.author}",
        f"status: {_wordpress_status(meta, context.today)}",
        f"excerpt: {_quoted(_html_excerpt(meta.summary))}",
        "categories:",
        *(f"- {name}" for name in meta.categories),
        "tags:",
        *(f"- {name}" for name in meta.tags),
        f"rating: '{meta.rating}'",
    ]
    return Written(_fenced("---", lines), _dated_path(moment, slug), moment.astimezone(UTC))


STYLES: dict[str, StyleWriter] = {
    "feedkit": feedkit_style,
    "hugo": hugo_style,
    "jekyll": jekyll_style,
    "blocklists": blocklist_style,
    "toml": toml_style,
    "wordpress": wordpress_style,
}
