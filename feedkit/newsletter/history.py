"""What happened to the digests: how each went and what is still to send.

Kept apart from the send itself so that `feedkit digest status` and the pages that show it read
the state database without loading anything a send needs.
"""

from __future__ import annotations

from feedkit.config import Config
from feedkit.newsletter.model import DigestStatus
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
