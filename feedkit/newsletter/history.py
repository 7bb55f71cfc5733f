"""What happened to the digests: how each went, what is still to send, and what came back.

Kept apart from the send itself so that `feedkit digest status` and the pages that show it read
the state database without loading anything a send needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from feedkit.config import Config
from feedkit.newsletter.model import BounceKind, DigestStatus, KeptMessage
from feedkit.store import bounces as bounce_records
from feedkit.store import newsletter as records
from feedkit.store.db import open_store


def pending_count(config: Config) -> int:
    with open_store(config, readonly=True) as store:
        unfinished = records.unfinished_digests(store)
        return sum(len(records.pending_deliveries(store, digest)) for digest in unfinished)


def status(config: Config, limit: int = 10) -> list[DigestStatus]:
    """The recent digests: deliveries by status, and the bounces and complaints traced to each."""
    with open_store(config, readonly=True) as store:
        return bounce_records.with_bounces(store, records.digest_statuses(store, limit))


@dataclass(frozen=True, slots=True)
class Overview:
    """What returned mail adds to the status: what was traced to no digest, and what is kept."""

    untraced: dict[BounceKind, int]
    kept: int
    kept_dir: Path


def overview(config: Config) -> Overview:
    with open_store(config, readonly=True) as store:
        untraced = bounce_records.untraced_counts(store)
        kept = len(bounce_records.kept_messages(store))
    return Overview(untraced, kept, config.kept_bounces_dir)


def kept_messages(config: Config) -> Iterator[tuple[KeptMessage, Path]]:
    """Every message kept aside, oldest first, with where its file is."""
    with open_store(config, readonly=True) as store:
        kept = bounce_records.kept_messages(store)
    for message in kept:
        yield message, config.kept_bounces_dir / message.file_name
