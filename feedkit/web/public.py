"""What anyone may read: the home page listing the feeds the last build wrote (the content itself
is never read here) and the files in public/, with conditional GET and nothing outside it.

A feed is served as itself to a feed reader, and as a page to a browser (one whose Accept header
puts HTML first), under the same URL: `Vary: Accept` keeps caches from mixing the two up.
"""

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
from feedkit.feeds.plans import ARCHIVE_FOLDER
from feedkit.feeds.reading import FORMAT_OF_FILE, FeedView, read_feed
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
# Folders in public/, in order; digests/ holds the feed of past digests, written at each digest.
FEED_GROUPS = (("categories", "By category"), ("tags", "By tag"), ("digests", "The newsletter"))
DIGESTS_FOLDER = "digests/"


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
        digests = (self.config.output_dir / DIGESTS_FOLDER / "index.html").is_file()
        listing: dict[str, Any] = {
            "main": main,
            "others": others,
            "groups": groups,
            "digests": digests,
        }
        return self.pages.render("home.html.j2", site_url=self.config.base_url, **listing)

    async def file(self, request: Request) -> Response:
        path = safe_path(self.config.output_dir, request.path_params["path"])
        if path is None:
            return self.pages.message(404, "Not found", "There is no such page here.")
        if path.name not in FORMAT_OF_FILE:
            return file_response(path, request)
        headers = {"Vary": "Accept", "Link": self._feed_links(path)}
        if prefers_html(request.headers.get("accept", "")):
            return await run_in_threadpool(self._feed_page, path, request, headers)
        return file_response(path, request, headers)

    def _feed_links(self, path: Path) -> str:
        """WebSub discovery in HTTP: the hubs (archives have none: they never change) and the
        feed's own URL, as the feed itself names them."""
        relative = path.relative_to(self.config.output_dir.resolve()).as_posix()
        hubs = () if relative.startswith(ARCHIVE_FOLDER + "/") else self.config.feeds.websub_hubs
        links = [f'<{hub}>; rel="hub"' for hub in hubs]
        return ", ".join([*links, f'<{self.config.base_url}{relative}>; rel="self"'])

    def _feed_page(self, path: Path, request: Request, headers: dict[str, str]) -> Response:
        """The feed as a readable page: what a feed is, its address to copy, its entries."""
        relative = path.relative_to(self.config.output_dir.resolve()).as_posix()
        view = read_feed(path.name, path.read_bytes())
        page = self.pages.templates.get_template("feed.html.j2").render(
            site_title=self.config.site.title,
            site_url=self.config.base_url,
            view=view,
            feed_url=self.config.base_url + relative,
            format_label=FORMAT_LABELS[FORMAT_OF_FILE[path.name]],
            dates=[self._date(entry.published) for entry in view.entries],
            **self._archive_paths(view),
        )
        return conditional_response(
            page.encode("utf-8"), "text/html" + UTF8, path.stat().st_mtime, request, headers
        )

    def _archive_paths(self, view: FeedView) -> dict[str, str | None]:
        """The archive neighbours as paths on this server, which may not be the site's host."""
        base = self.config.base_url

        def local(url: str | None) -> str | None:
            return "/" + url.removeprefix(base) if url and url.startswith(base) else url

        return {
            "older_path": local(view.older_url),
            "newer_path": local(view.newer_url),
            "current_path": local(view.current_url),
        }

    def _date(self, moment: datetime | None) -> str:
        return f"{moment.astimezone(self.config.zone):%-d %B %Y}" if moment else ""

    def _listed_feeds(self) -> list[ListedFeed]:
        """Each feed with the formats the build wrote for it, with their full addresses."""
        feeds = []
        digests = (DIGESTS_FOLDER, f"{self.config.site.title}: past digests")
        for folder, title in [*self._feed_index(), digests]:
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
    try:
        candidate = (base.joinpath(*parts) if parts else base).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if base not in candidate.parents or not candidate.is_file():
            return None
    except OSError:  # a name too long for the file system, say: no such file either
        return None
    return candidate


def content_type(path: Path) -> str:
    return FILE_TYPES.get(path.name) or FILE_TYPES.get(path.suffix, "application/octet-stream")


def file_response(
    path: Path, request: Request, extra_headers: dict[str, str] | None = None
) -> Response:
    """The file with ETag and Last-Modified, or 304 when the client's copy is current."""
    data = path.read_bytes()
    return conditional_response(
        data, content_type(path), path.stat().st_mtime, request, extra_headers or {}
    )


def conditional_response(
    data: bytes, media_type: str, mtime: float, request: Request, extra_headers: dict[str, str]
) -> Response:
    """`data` with an ETag of its own bytes (so a feed and its page never share one)."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    modified = datetime.fromtimestamp(int(mtime), UTC)
    headers = {
        **SECURITY_HEADERS,
        **extra_headers,
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "public, max-age=300",
    }
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


HTML_TYPES = ("text/html", "application/xhtml+xml")


def prefers_html(accept: str) -> bool:
    """Whether the Accept header's first choice (highest q, then first written) is a web page:
    true for browsers, false for feed readers, curl and a missing header."""
    choices = []
    for position, part in enumerate(accept.split(",")):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type and quality > 0:  # q=0: "not this one"
            choices.append((-quality, position, media_type.lower()))
    return bool(choices) and min(choices)[2] in HTML_TYPES


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
