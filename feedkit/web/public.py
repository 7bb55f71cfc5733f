"""What anyone may read: the home page listing the feeds the last build wrote (the content itself
is never read here) and the files in public/, with conditional GET and nothing outside it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from feedkit import pipeline
from feedkit.config import Config
from feedkit.errors import StateError
from feedkit.feeds.formats import CONTENT_TYPES, FEED_FILES
from feedkit.web.pages import SECURITY_HEADERS, Pages

logger = logging.getLogger("feedkit.web")
# Every text file feedkit writes is UTF-8; with nosniff a browser must be told, not left to guess.
UTF8 = "; charset=utf-8"
FILE_TYPES = {
    "feed.xml": CONTENT_TYPES["rss"] + UTF8,
    "atom.xml": CONTENT_TYPES["atom"] + UTF8,
    "feed.json": CONTENT_TYPES["json"] + UTF8,
    ".xsl": "application/xslt+xml" + UTF8,
    ".html": "text/html" + UTF8,
    ".xml": "application/xml" + UTF8,
    ".json": "application/json" + UTF8,
}
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
FEED_GROUPS = (("categories", "By category"), ("tags", "By tag"))  # folders in public/, in order


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One format of a feed, as the home page offers it."""

    label: str  # "RSS", "Atom", "JSON Feed"
    path: str  # under public/
    base_url: str
    content_type: str

    @property
    def url(self) -> str:
        """The full address, to paste into a feed reader."""
        return self.base_url + self.path


Links = tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class ListedFeed:
    """A feed on the home page: the site's own (group ""), or a category's or a tag's."""

    group: str
    name: str
    title: str
    links: Links

    @classmethod
    def of(cls, folder: str, title: str, site_title: str, links: Links) -> ListedFeed:
        """Grouped by its folder in public/, named without the site's title in front."""
        group = folder.split("/", 1)[0] if folder else ""
        name = title.removeprefix(f"{site_title}: ") if group else title
        return cls(group, name, title, links)


class PublicSide:
    """The home page and the published files."""

    def __init__(self, config: Config, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def home(self, _request: Request) -> Response:
        """The feeds the last build wrote, the site's own first."""
        feeds = await run_in_threadpool(self._listed_feeds)
        main = next((feed for feed in feeds if feed.group == ""), None)
        others = [feed for feed in feeds if feed.group != ""]
        headings = dict(FEED_GROUPS)
        groups = [(heading, [f for f in others if f.group == key]) for key, heading in FEED_GROUPS]
        groups.append(("More feeds", [feed for feed in others if feed.group not in headings]))
        groups = [(heading, listed) for heading, listed in groups if listed]
        listing: dict[str, Any] = {"main": main, "others": others, "groups": groups}
        return self.pages.render("home.html.j2", site_url=self.config.base_url, **listing)

    async def file(self, request: Request) -> Response:
        path = safe_path(self.config.output_dir, request.path_params["path"])
        if path is None:
            return self.pages.message(404, "Not found", "There is no such page here.")
        return file_response(path, request)

    def _listed_feeds(self) -> list[ListedFeed]:
        """Each feed with the formats the build wrote for it, with their full addresses."""
        feeds = []
        for folder, title in self._feed_index():
            paths = [(fmt, folder + FEED_FILES[fmt]) for fmt in self.config.feeds.formats]
            links = tuple(
                FeedLink(FORMAT_LABELS[fmt], path, self.config.base_url, CONTENT_TYPES[fmt])
                for fmt, path in paths
                if (self.config.output_dir / path).is_file()
            )
            if links:
                feeds.append(ListedFeed.of(folder, title, self.config.site.title, links))
        return feeds

    def _feed_index(self) -> list[tuple[str, str]]:
        """(folder, title) per feed, as the last build recorded them, else as found in public/."""
        try:
            recorded = pipeline.feed_index(self.config)
        except StateError as error:
            logger.warning("home page: listing the feed files in public/ instead (%s)", error)
            recorded = []
        return recorded or feeds_on_disk(self.config)


def feeds_on_disk(config: Config) -> list[tuple[str, str]]:
    """The site's feed and each category or tag folder in public/, titled by the folder's name."""
    feeds = [("", config.site.title)]
    for group in ("categories", "tags"):
        folder = config.output_dir / group
        if not folder.is_dir():
            continue
        names = sorted(path.name for path in folder.iterdir() if path.is_dir())
        feeds += [(f"{group}/{name}/", f"{config.site.title}: {name}") for name in names]
    return feeds


def safe_path(root: Path, requested: str) -> Path | None:
    """A file under `root`, or None: no '..', no absolute paths, no links out, no hidden files."""
    parts = [part for part in requested.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    base = root.resolve()
    candidate = (base.joinpath(*parts) if parts else base).resolve()
    if candidate.is_dir():
        candidate = candidate / "index.html"
    if base not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def content_type(path: Path) -> str:
    return FILE_TYPES.get(path.name) or FILE_TYPES.get(path.suffix, "application/octet-stream")


def file_response(path: Path, request: Request) -> Response:
    """The file with ETag and Last-Modified, or 304 when the client's copy is current."""
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    modified = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    headers = {
        **SECURITY_HEADERS,
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "public, max-age=300",
    }
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=content_type(path), headers=headers)


def not_modified(request: Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return etag in tags or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
