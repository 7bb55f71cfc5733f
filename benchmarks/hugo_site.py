"""The same corpus built by Hugo, for a yardstick: its home RSS feed with every published page.

Hugo reads the corpus's own content/ folder through a site written into <corpus>/hugo/ and writes
to <corpus>/hugo-public/. Pages stay enabled (disabling the `page` kind leaves them out of the feed
altogether) but render through an empty template, so Hugo writes no page files and warns of no
missing layout; sections, taxonomies, the sitemap and robots.txt are off. Its RSS feed has no
item limit, so it lists every page it publishes: not drafts, not pages dated in the future.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

HUGO_CONFIG = """\
# Written by benchmarks/hugo_site.py: Hugo builds this corpus's home RSS feed, nothing more.
baseURL = "https://bench.example.org/"
title = "Bench Reviews"
languageCode = "en"
# feedkit's [site] timezone: a date written without a zone means the same moment to both.
timeZone = "Europe/London"
contentDir = "../content"
publishDir = "../hugo-public"
disableKinds = ["section", "taxonomy", "term", "sitemap", "robotsTXT", "404"]

[outputs]
home = ["rss"]

[services.rss]
limit = -1  # every published page, not the latest few
"""
EMPTY_PAGE_TEMPLATE = ""  # pages render to nothing: Hugo skips writing empty files
FEED = "index.xml"


@dataclass(frozen=True, slots=True)
class HugoSite:
    """Where Hugo reads its site from and writes its feed to, for one corpus."""

    binary: str
    source: Path
    public: Path

    @property
    def feed(self) -> Path:
        return self.public / FEED

    @property
    def content(self) -> Path:
        return self.source.parent / "content"

    def command(self) -> list[str]:
        return [self.binary, "--source", str(self.source)]

    def reset(self) -> None:
        """Forget the last build: Hugo's output and its resource cache in the site folder."""
        shutil.rmtree(self.public, ignore_errors=True)
        shutil.rmtree(self.source / "resources", ignore_errors=True)


def find_hugo() -> str | None:
    return shutil.which("hugo")


def hugo_version(binary: str) -> str:
    done = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    match = re.search(r"v\d+\.\d+\.\d+\S*", done.stdout)
    return match.group(0) if match else done.stdout.strip() or "unknown"


def prepare(binary: str, corpus: Path) -> HugoSite:
    """Write the Hugo site for `corpus` (again each time: the corpus may be reused)."""
    source = corpus / "hugo"
    layouts = source / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    (source / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (layouts / "single.html").write_text(EMPTY_PAGE_TEMPLATE, encoding="utf-8")
    return HugoSite(binary, source, corpus / "hugo-public")


def feed_items(site: HugoSite) -> int | None:
    """How many items Hugo's home feed holds; None if it wrote no readable feed."""
    try:
        root = ElementTree.parse(site.feed).getroot()  # noqa: S314 - Hugo's output, not input
    except (OSError, ElementTree.ParseError):
        return None
    channel = root.find("channel")
    return None if channel is None else len(channel.findall("item"))


def warnings_in(output: str) -> list[str]:
    """Hugo's WARN and ERROR lines, which a clean yardstick build has none of."""
    return [line for line in output.splitlines() if line.startswith(("WARN", "ERROR"))]
