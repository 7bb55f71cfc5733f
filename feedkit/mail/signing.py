"""DKIM signatures (RFC 6376) with dkimpy, for sites whose relay does not sign.

Each recipient's copy is signed on its own: its To, Message-ID and List-Unsubscribe headers and the
unsubscribe link in both bodies are that recipient's, and RFC 8058 asks that List-Unsubscribe and
List-Unsubscribe-Post be covered by the signature, so no one signature could serve two copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from feedkit.config import Config
from feedkit.errors import MailConfigError
from feedkit.mail.message import OutgoingMessage

# What a copy's meaning rests on, and (RFC 8058) the one-click unsubscribe headers.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)
# Relaxed for both: relays may refold headers or change trailing spaces without breaking it.
CANONICALIZATION = (b"relaxed", b"relaxed")
KEY_HINT = "point key_file at the PEM private key whose public half is published in DNS"


@dataclass(frozen=True, slots=True)
class DkimSigner:
    """Signs messages as `domain` with the key published at `selector`._domainkey.`domain`."""

    selector: str
    domain: str
    key: bytes  # PEM
    key_path: Path

    def sign(self, message: OutgoingMessage) -> OutgoingMessage:
        header = dkim.sign(
            message.data,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.key,
            canonicalize=CANONICALIZATION,
            include_headers=list(SIGNED_HEADERS),
        )
        return OutgoingMessage(message.recipient, message.message_id, header + message.data)

    def public_numbers(self) -> tuple[int, int]:
        """(modulus, public exponent) of the key, to compare with a published record."""
        parsed = parse_pem_private_key(self.key)
        return int(parsed["modulus"]), int(parsed["publicExponent"])


def load_signer(config: Config) -> DkimSigner | None:
    """The signer [dkim] asks for, its key read and checked now; None when [dkim] is not set."""
    settings = config.dkim
    if not settings.enabled:
        return None
    path = config.root / settings.key_file
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise MailConfigError(
            f"[dkim] key_file: {path} cannot be read ({exc.strerror})", KEY_HINT
        ) from exc
    try:
        parse_pem_private_key(key)
    except UnparsableKeyError as exc:
        raise MailConfigError(
            f"[dkim] key_file: {path} is not a PEM RSA private key", KEY_HINT
        ) from exc
    return DkimSigner(settings.selector, settings.domain, key, path)
