"""What the digest archive is made from: every digest that has a public copy, with its reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedkit.store.db import Store


@dataclass(frozen=True, slots=True)
class ArchivedDigest:
    """One digest as its public copy lists it."""

    id: int
    created_at: datetime
    subject: str
    archive_url: str
    sources: tuple[str, ...]  # its reviews, in the digest's order


def archived_digests(store: Store) -> list[ArchivedDigest]:
    """Every digest with a public copy, oldest first: one per run, the one holding all its
    reviews (a run's digests for readers' topics share that copy)."""
    rows = store.query_all(
        "SELECT id, created_at, subject, archive_url FROM digests WHERE archive_url != '' "
        "AND id = run_id ORDER BY id"
    )
    items: dict[int, list[str]] = {}
    for digest_id, source in store.query_all(
        "SELECT digest_id, source FROM digest_items ORDER BY digest_id, position"
    ):
        items.setdefault(int(digest_id), []).append(str(source))
    return [
        ArchivedDigest(
            int(digest_id),
            datetime.fromisoformat(created_at),
            str(subject),
            str(url),
            tuple(items.get(int(digest_id), ())),
        )
        for digest_id, created_at, subject, url in rows
    ]
