"""Logging in to the editors' page: password hashes, and how many checks a client or all get.

New hashes are Argon2id (argon2-cffi); PBKDF2 hashes printed by earlier versions still verify.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from feedkit.words import plural

LOGIN_ATTEMPTS, LOGIN_WINDOW = 5, 900  # unsuccessful logins per client and window (seconds)
MIN_PASSWORD_LENGTH = 12
MAX_TRACKED_CLIENTS = 10_000
PASSWORD_CHECKS = 2  # at once, over all clients: each takes tens of milliseconds and 64 MiB
CHECK_WAIT_SECONDS = 5.0  # how long a login waits for a free check before it is turned away
LEGACY_SCHEME = "pbkdf2_sha256"
_HASHER = PasswordHasher()  # argon2-cffi's defaults: RFC 9106's low-memory profile


def hash_password(password: str) -> str:
    """An Argon2id hash for FEEDKIT_ADMIN_PASSWORD_HASH (`feedkit serve --hash-password`)."""
    return _HASHER.hash(password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None: short ones fall to guessing despite the limit."""
    if len(password) >= MIN_PASSWORD_LENGTH:
        return None
    has = plural(len(password), "character")
    return f"the password has {has}; use at least {MIN_PASSWORD_LENGTH}"


def check_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash; a hash that cannot be read matches nothing."""
    if stored.startswith(LEGACY_SCHEME + "$"):
        return _check_pbkdf2(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def is_readable_hash(stored: str) -> bool:
    """Whether check_password can use this hash at all: with one it cannot, every login fails."""
    if stored.startswith(LEGACY_SCHEME + "$"):
        return _pbkdf2_parts(stored) is not None
    try:
        _HASHER.verify(stored, "")  # the one way to know libargon2 can decode it
    except VerifyMismatchError:
        return True
    except (VerificationError, InvalidHashError):
        return False
    return True


def _check_pbkdf2(password: str, stored: str) -> bool:
    parts = _pbkdf2_parts(stored)
    if parts is None:
        return False
    iterations, salt, expected = parts
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return hmac.compare_digest(digest, expected)


def _pbkdf2_parts(stored: str) -> tuple[int, bytes, bytes] | None:
    """pbkdf2_sha256$iterations$salt$hash, salt and hash in unpadded URL-safe base64."""
    try:
        _, iterations, salt, expected = stored.split("$")
        parts = int(iterations), _unb64(salt), _unb64(expected)
    except (ValueError, TypeError):
        return None
    return parts if parts[0] > 0 and parts[1] and parts[2] else None


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LoginLimiter:
    """At most LOGIN_ATTEMPTS unsuccessful logins per client in LOGIN_WINDOW seconds.

    An attempt is reserved, under the lock, before its password is checked: guesses sent in
    parallel cannot all pass the count before the first of them has failed.
    """

    def __init__(self) -> None:
        self.attempts: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def reserve(self, client: str) -> float | None:
        """Count one attempt now and return its mark; None when the client has used them all."""
        with self.lock:
            now = time.monotonic()
            self._forget_idle_clients(now)
            recent = self.attempts.setdefault(client, deque())
            while recent and recent[0] <= now - LOGIN_WINDOW:
                recent.popleft()
            if len(recent) >= LOGIN_ATTEMPTS:
                return None
            recent.append(now)
            return now

    def release(self, client: str, mark: float) -> None:
        """Uncount an attempt whose password was never checked."""
        with self.lock:
            recent = self.attempts.get(client)
            if recent and mark in recent:
                recent.remove(mark)

    def succeeded(self, client: str) -> None:
        """The right password: the client's earlier failures no longer count."""
        with self.lock:
            self.attempts.pop(client, None)

    def _forget_idle_clients(self, now: float) -> None:
        if len(self.attempts) <= MAX_TRACKED_CLIENTS:
            return
        cutoff = now - LOGIN_WINDOW
        idle = [key for key, marks in self.attempts.items() if not marks or marks[-1] <= cutoff]
        for key in idle:
            del self.attempts[key]


class PasswordChecks:
    """Password checks on threads of their own, at most PASSWORD_CHECKS at a time.

    Hashing is slow on purpose; on the thread pool that serves requests, a burst of logins would
    stall every page of the site. A login waits its turn in order of arrival for a while: guesses
    from many addresses keep every slot busy, and an editor must still get in.
    """

    def __init__(self, workers: int = PASSWORD_CHECKS, wait: float = CHECK_WAIT_SECONDS) -> None:
        self.slots = asyncio.Semaphore(workers)  # first come, first served
        self.wait = wait
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feedkit-password")

    async def check(self, password: str, stored: str) -> bool | None:
        """Whether the password is right; None, unchecked, when no slot came free in time."""
        try:
            await asyncio.wait_for(self.slots.acquire(), self.wait)
        except TimeoutError:
            return None
        loop = asyncio.get_running_loop()
        future = self.pool.submit(check_password, password, stored)
        # Released when the hashing ends, even if the client has gone: the cap counts threads.
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self.slots.release))
        return await asyncio.wrap_future(future)
