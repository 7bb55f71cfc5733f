"""The site's absolute URLs and the stable tag URIs its entries are known by.

Built with string operations, not urllib, on the hot path: they run once per review per build.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from feedkit.config import Config
from feedkit.model import Review


@dataclass(frozen=True, slots=True)
class SiteUrls:
    """Absolute URLs below the site's base URL."""

    origin: str  # "https://example.org"
    base_path: str  # "/blog" or "" (no trailing slash)
    host: str

    @classmethod
    def of(cls, config: Config) -> SiteUrls:
        return _site_urls(config.base_url)

    def url(self, path: str) -> str:
        """The absolute URL of a site path such as '/reviews/2025/x/' or 'feed.xml'."""
        return self.origin + self.base_path + "/" + quote(path.lstrip("/"), safe="/%")

    def tag_uri(self, review: Review, config: Config) -> str:
        """An RFC 4151 tag URI: the host, the first publication date (site zone), the permalink."""
        day = review.published.astimezone(config.zone).date().isoformat()
        return f"tag:{self.host},{day}:{self.base_path}{quote(review.path, safe='/%')}"


@functools.cache
def _site_urls(base_url: str) -> SiteUrls:
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return SiteUrls(origin, parts.path.rstrip("/"), parts.hostname or "localhost")


def page_url(config: Config, review: Review) -> str:
    return SiteUrls.of(config).url(review.path)
