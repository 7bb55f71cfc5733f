"""A fingerprint of feedkit's own code, so cached work is redone whenever the code changes.

It is taken over every module of the package, not a list of the ones thought to matter: a list
goes stale the day a module starts using another, or moves. An upgrade therefore re-parses and
re-renders once, which is cheap next to serving a stale feed.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from feedkit import __version__
from feedkit.config import Config

PACKAGE = Path(__file__).parent


@functools.cache
def code_fingerprint() -> bytes:
    """A digest of feedkit's version and the source of every module in the package."""
    return fingerprint_of(PACKAGE)


def fingerprint_of(package: Path) -> bytes:
    digest = hashlib.sha256(__version__.encode())
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0")
        digest.update(module.read_bytes())
    return digest.digest()


def cache_fingerprint(config: Config) -> str:
    """Everything that shapes a parsed review; when it changes, cached reviews are parsed again."""
    # The base URL makes relative author links absolute.
    shaping = (config.site.timezone, config.site.base_url, config.content)
    digest = hashlib.sha256(code_fingerprint())
    digest.update(repr(shaping).encode())
    return digest.hexdigest()
