"""Review bodies rendered for feeds and the digest: only for reviews that reach one, reusing what
earlier builds rendered, on every core for a large batch."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from feedkit.config import Config
from feedkit.content.files import read_body
from feedkit.content.markup import RenderedBody, render_body
from feedkit.fingerprint import code_fingerprint
from feedkit.model import Review
from feedkit.urls import page_url
from feedkit.workers import map_chunks

RENDER_SHARE = 60  # bodies per core below which rendering in one process is quicker
BodyRow = tuple[str, str, str, str]  # source, key, html, summary


class BodyCache(Protocol):
    """Bodies rendered earlier, keyed by source and by everything that shapes the result."""

    def rendered(self, source: str, key: str) -> RenderedBody | None: ...

    def save(self, rows: list[BodyRow]) -> None: ...


@dataclass(slots=True)
class BodyRenderer:
    """Renders a batch of bodies once, and hands each out on request."""

    config: Config
    cache: BodyCache
    rendered: dict[str, RenderedBody] = field(default_factory=dict)
    new_rows: list[BodyRow] = field(default_factory=list)

    def prepare(self, reviews: Iterable[Review]) -> None:
        """Render (or fetch) every body these reviews need, in one batch."""
        missing: dict[str, tuple[Review, str, str]] = {}
        for review in reviews:
            if review.source in self.rendered or review.source in missing:
                continue
            url = page_url(self.config, review)
            key = self._key(review, url)
            stored = self.cache.rendered(review.source, key)
            if stored is None:
                missing[review.source] = (review, url, key)
            else:
                self.rendered[review.source] = stored
        jobs = [(review, url) for review, url, _ in missing.values()]
        bodies = map_chunks(functools.partial(_render_bodies, self.config), jobs, RENDER_SHARE)
        for (review, _, key), body in zip(missing.values(), bodies, strict=True):
            self.rendered[review.source] = body
            self.new_rows.append((review.source, key, body.html, body.summary))

    def __call__(self, review: Review) -> RenderedBody:
        if review.source not in self.rendered:
            self.prepare([review])
        return self.rendered[review.source]

    def _key(self, review: Review, url: str) -> str:
        words = self.config.content.summary_words
        shaping = repr((code_fingerprint(), review.content_hash, url, words))
        return hashlib.sha256(shaping.encode()).hexdigest()

    def save(self) -> None:
        """Hand the newly rendered bodies to the cache (nothing to do if none were)."""
        if self.new_rows:
            self.cache.save(self.new_rows)


def _render_bodies(config: Config, jobs: list[tuple[Review, str]]) -> list[RenderedBody]:
    words = config.content.summary_words
    return [
        render_body(read_body(config, review), url, review.summary, words) for review, url in jobs
    ]
