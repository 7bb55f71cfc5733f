"""What feedgen cannot write itself, as a feedgen extension: feed-level links of any relation
(WebSub `hub`, RFC 5005 `prev-archive`, `next-archive`, `current`) and the `fh:archive` mark.

feedgen's RSS writer keeps only the `self` link among atom:link elements, and it knows nothing of
RFC 5005; an extension adds elements to the tree it builds, in both formats.
"""

from __future__ import annotations

from typing import Any

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
NAME = "feedkit_links"


class FeedLinks:
    """Extra links and the archive mark of one feed; feedgen makes one, we fill it in."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []  # (rel, href), in order
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        # Declared only where used: feeds without archives stay as they were, byte for byte.
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_rss(self, rss: Any) -> Any:
        self._add(rss.find("channel"), f"{{{ATOM_NS}}}link")
        return rss

    def extend_atom(self, feed: Any) -> Any:
        # feedgen writes the Atom namespace as a plain xmlns attribute, unknown to lxml: an
        # element named in it would get a prefix of its own (ns0:link), which the validator flags.
        self._add(feed, "link")
        return feed

    def _add(self, parent: Any, link: str) -> None:
        from lxml import etree  # noqa: PLC0415 - feedgen has loaded it already

        for rel, href in self.links:
            etree.SubElement(parent, link, href=href, rel=rel)
        if self.archive:
            etree.SubElement(parent, f"{{{HISTORY_NS}}}archive")
