"""Counts in words: '1 review', '2 reviews', as every message feedkit prints says them."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 review', '3 reviews'; `many` for a noun whose plural is not noun + 's'."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
