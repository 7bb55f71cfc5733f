"""Creating things for editors: a new site (`feedkit init`) and a new review (`feedkit new`).

Never overwrites a file that exists.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from feedkit.config import Config
from feedkit.content.metadata import slugify
from feedkit.errors import FeedkitError
from feedkit.output import write_atomic

SCAFFOLD = "scaffold"


def init_site(directory: Path) -> list[Path]:
    """Copy the starter site into `directory`; refuse if it already holds a config.toml."""
    if (directory / "config.toml").exists():
        raise FeedkitError(
            f"{directory / 'config.toml'}: already exists",
            "choose an empty folder, or edit that site instead",
        )
    created: list[Path] = []
    for relative, data in _scaffold_files(resources.files("feedkit").joinpath(SCAFFOLD), Path()):
        target = directory / relative
        if not target.exists():
            write_atomic(target, _dated_now(data) if relative.parts[0] == "content" else data)
            created.append(target)
    return created


_DATE_LINE = re.compile(rb"^date: .*$", re.MULTILINE)


def _dated_now(review: bytes) -> bytes:
    """The sample review dated when the site is made, so the first digest has something new."""
    now = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
    return _DATE_LINE.sub(f"date: {now}".encode(), review, count=1)


def _scaffold_files(folder: Traversable, prefix: Path) -> list[tuple[Path, bytes]]:
    files: list[tuple[Path, bytes]] = []
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name.startswith(("__", ".")):
            continue
        if item.is_dir():
            files += _scaffold_files(item, prefix / item.name)
        else:
            files.append((prefix / item.name, item.read_bytes()))
    return files


def new_review(config: Config, title: str, *, slug: str | None = None, draft: bool = True) -> Path:
    """Write content/<slug>.md with front matter filled in; refuse to overwrite."""
    clean_title = " ".join(title.split())
    review_slug = slugify(slug or clean_title)
    if not review_slug:
        raise FeedkitError(
            f"cannot make a file name from the title {title!r}", "pass --slug my-review"
        )
    path = config.content_dir / f"{review_slug}.md"
    if path.exists():
        raise FeedkitError(f"{path}: already exists", "choose another title or pass --slug")
    write_atomic(path, review_template(config, clean_title, draft).encode("utf-8"))
    return path


def review_template(config: Config, title: str, draft: bool) -> str:
    now = datetime.now(config.zone).replace(microsecond=0)
    front_matter: dict[str, object] = {
        "title": title,
        "date": now.isoformat(),
        "author": config.site.author or "Your Name",
        "summary": "One sentence that makes a reader want to read on.",
        "categories": [],
        "tags": [],
        "rating": None,
        "image": None,
    }
    if draft:
        front_matter["draft"] = True
    import yaml  # noqa: PLC0415 - only `feedkit new` needs it; keep other commands quick to start

    text = yaml.safe_dump(front_matter, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{text}---\n\nWrite the review here.\n\n<!--more-->\n\nThe rest of the review.\n"
