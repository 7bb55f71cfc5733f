"""What logs may say of people: e-mail addresses only as a short hash."""

from __future__ import annotations

import hashlib


def address_tag(address: str) -> str:
    """A short SHA-256 of an e-mail address, for the log: the same address, the same tag, and no
    address in clear (`printf %s ADDRESS | sha256sum | cut -c1-12` finds one's tag)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]
