"""Signed tokens for links in mail and for forms: each carries its purpose, and its age.

A token made for one purpose never passes for another (an unsubscribe link cannot confirm a
subscription, nor log anyone in), and where it matters it expires. They are checked without a
lookup table, with the secret in FEEDKIT_SECRET. Unsubscribe links in mail sent by feedkit 0.1
(an address and a truncated HMAC) keep working. Bounce tokens ride in an address's local part, so
they are short and read the same in any letter case.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from feedkit.errors import MailConfigError

SECRET_ENV = "FEEDKIT_SECRET"  # noqa: S105 - the name of a variable, not a secret
MIN_SECRET_LENGTH = 16


class Purpose(enum.StrEnum):
    """What a token may be used for."""

    UNSUBSCRIBE = "unsubscribe"  # in every digest: never expires, mail is read years later
    CONFIRM = "confirm"  # confirmed opt-in
    PREFERENCES = "preferences"  # "manage your subscription": never expires
    SESSION = "session"  # an editor's session id, also checked against the state database
    LOGIN_FORM = "login-form"  # the login form's CSRF token, before there is a session
    NOTICE = "notice"  # a one-line notice carried to the editors' page in its address
    SUBSCRIBE_FORM = "subscribe-form"  # when the subscribe form was shown: robots are too quick
    BOUNCE = "bounce"  # in the envelope sender (VERP): never expires, the same on every resend


# Tokens for these carry their age and are refused once too old; the others never expire, and are
# the same string whenever they are made for the same subject (a resent message is the same).
EXPIRING = frozenset(
    {
        Purpose.CONFIRM,
        Purpose.SESSION,
        Purpose.LOGIN_FORM,
        Purpose.NOTICE,
        Purpose.SUBSCRIBE_FORM,
    }
)
BOUNCE_SIGNATURE_BYTES = 10  # 80 bits, 16 characters of base32: forging one is out of reach
_BOUNCE_SUBJECT = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Checked:
    """What a token says: its subject if it is genuine and fresh, and whether it merely expired.

    An expired token still names its subject, so a page can offer to send a fresh link.
    """

    subject: str | None
    expired_subject: str | None = None

    @property
    def expired(self) -> bool:
        return self.expired_subject is not None


class Tokens:
    """Makes and checks tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def make(self, purpose: Purpose, subject: str) -> str:
        if purpose is Purpose.BOUNCE:
            return self._make_bounce(subject)
        return self._serializer(purpose).dumps(subject)

    def read(self, purpose: Purpose, token: str, max_age: timedelta | None = None) -> str | None:
        """The subject of a genuine, unexpired token for this purpose; None for anything else."""
        return self.check(purpose, token, max_age).subject

    def check(self, purpose: Purpose, token: str, max_age: timedelta | None = None) -> Checked:
        if purpose is Purpose.BOUNCE:
            return Checked(self._read_bounce(token))
        if not well_formed(token):
            return Checked(None)
        serializer = self._serializer(purpose)
        try:
            if isinstance(serializer, URLSafeTimedSerializer):
                seconds = int(max_age.total_seconds()) if max_age is not None else None
                return Checked(_text(serializer.loads(token, max_age=seconds)))
            return Checked(_text(serializer.loads(token)))
        except SignatureExpired as expired:
            return Checked(None, _text(serializer.load_payload(expired.payload or b"")))
        except (BadData, UnicodeError, ValueError):
            return Checked(self._legacy(purpose, token))

    def age(self, purpose: Purpose, token: str) -> timedelta | None:
        """How long ago a genuine expiring token was made; None for any other token."""
        serializer = self._serializer(purpose)
        if not isinstance(serializer, URLSafeTimedSerializer) or not well_formed(token):
            return None
        try:
            _, made = serializer.loads(token, return_timestamp=True)
        except (BadData, UnicodeError, ValueError):
            return None
        return datetime.now(UTC) - made if isinstance(made, datetime) else None

    def _legacy(self, purpose: Purpose, token: str) -> str | None:
        if purpose is not Purpose.UNSUBSCRIBE:
            return None
        return read_legacy_unsubscribe(token, self.secret)

    # A local part may hold 64 characters (RFC 5321) and mail systems may change its letter case
    # on the way back, so a bounce token is its subject and a truncated HMAC, in lower case only.
    def _make_bounce(self, subject: str) -> str:
        if not _BOUNCE_SUBJECT.fullmatch(subject):
            raise ValueError(f"a bounce token's subject is [a-z0-9] words and dots: {subject!r}")
        return f"{subject}.{self._bounce_signature(subject)}"

    def _read_bounce(self, token: str) -> str | None:
        subject, _, signature = token.lower().rpartition(".")
        if not _BOUNCE_SUBJECT.fullmatch(subject):
            return None
        expected = self._bounce_signature(subject).encode("ascii")
        genuine = hmac.compare_digest(signature.encode("utf-8"), expected)
        return subject if genuine else None

    def _bounce_signature(self, subject: str) -> str:
        key = hmac.new(self.secret, f"feedkit.{Purpose.BOUNCE}".encode(), hashlib.sha256).digest()
        mac = hmac.new(key, subject.encode(), hashlib.sha256).digest()[:BOUNCE_SIGNATURE_BYTES]
        return base64.b32encode(mac).decode("ascii").lower()

    def _serializer(self, purpose: Purpose) -> URLSafeSerializer | URLSafeTimedSerializer:
        kind = URLSafeTimedSerializer if purpose in EXPIRING else URLSafeSerializer
        signing = {"digest_method": hashlib.sha256}
        return kind(self.secret, salt=f"feedkit.{purpose}", signer_kwargs=signing)


# Every token feedkit makes is URL-safe base64 pieces joined by dots (0.1's had padding), well
# under this length. The decoder would skip other characters, so one token could be written many
# ways: anything else is refused before it is decoded.
_TOKEN = re.compile(r"[A-Za-z0-9_\-.=]{1,2000}")


def well_formed(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_legacy_unsubscribe(token: str, secret: bytes) -> str | None:
    """The address in an unsubscribe token of feedkit 0.1's form: base64(address).base64(hmac)."""
    encoded_address, _, encoded_signature = token.partition(".")
    try:
        key = _unb64(encoded_address)
        signature = _unb64(encoded_signature)
        address = key.decode()
    except (binascii.Error, ValueError):
        return None
    expected = hmac.new(secret, b"unsubscribe\0" + key, hashlib.sha256).digest()[:16]
    return address if hmac.compare_digest(signature, expected) else None


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_from_environment() -> bytes:
    """The secret that signs every token; the error says whether it is unset or too short."""
    secret = os.environ.get(SECRET_ENV, "")
    if len(secret) >= MIN_SECRET_LENGTH:
        return secret.encode()
    problem = "is not set"
    if secret:
        problem = f"is shorter than {MIN_SECRET_LENGTH} characters (it has {len(secret)})"
    make_one = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    raise MailConfigError(
        f"{SECRET_ENV} {problem}; unsubscribe links are signed with it",
        f'export {SECRET_ENV}="$({make_one})"',
    )
