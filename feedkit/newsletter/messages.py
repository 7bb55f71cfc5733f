"""A frozen digest as mail: the letter every subscriber shares, and each one's copy with its own
unsubscribe link, a Message-ID and a bounce address that are the same whenever that digest goes
to that address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from feedkit.config import Config
from feedkit.config_checks import VERP_FIELD
from feedkit.mail.message import Letter, MessageBuilder, OutgoingMessage, Recipient, ascii_host
from feedkit.mail.signing import load_signer
from feedkit.newsletter.model import FrozenDigest
from feedkit.tokens import Purpose, Tokens


def mail_host(config: Config) -> str:
    """The site's host name in ASCII, for Message-IDs and the List-Id."""
    return ascii_host(urlsplit(config.base_url).hostname or "localhost")


def sender_address(config: Config) -> str:
    return config.digest.from_address or f"digest@{mail_host(config)}"


def unsubscribe_link(config: Config, tokens: Tokens, address: str) -> str:
    """The one-click link that unsubscribes `address`, signed for that purpose only."""
    return f"{config.unsubscribe_url}?t={tokens.make(Purpose.UNSUBSCRIBE, address.lower())}"


def preferences_link(config: Config, tokens: Tokens, address: str) -> str:
    """The reader's own "manage your subscription" page: topics, a pause, their data, leaving."""
    return f"{config.web_url}preferences?t={tokens.make(Purpose.PREFERENCES, address.lower())}"


def recipient_reference(address: str) -> str:
    """A short, fixed name for an address inside a bounce token (the token's room is small)."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


def bounce_token(tokens: Tokens, digest_id: int, address: str) -> str:
    """The signed token naming one digest and one recipient, for the envelope sender (VERP)."""
    return tokens.make(Purpose.BOUNCE, f"{digest_id}.{recipient_reference(address)}")


def message_id_signature(secret: bytes, digest_id: int, nonce: str, address: str) -> str:
    """The part of a digest's Message-ID that only this site can make for this recipient."""
    seed = f"digest\0{digest_id}\0{nonce}\0{address.lower()}".encode()
    return hmac.new(secret, seed, "sha256").hexdigest()[:20]


class DigestMessages:
    """Every recipient's message of one digest."""

    def __init__(self, config: Config, digest: FrozenDigest, tokens: Tokens) -> None:
        self.config = config
        self.digest = digest
        self.tokens = tokens
        self.host = mail_host(config)
        self.sender = sender_address(config)
        self.builder = MessageBuilder(self._letter())
        self.signer = load_signer(config)

    def build(self, address: str, *, test: bool = False) -> OutgoingMessage:
        message_id = self.test_message_id() if test else self.message_id(address)
        mailto = f"{self.config.digest.unsubscribe_mailto or self.sender}?subject=unsubscribe"
        link = unsubscribe_link(self.config, self.tokens, address)
        preferences = preferences_link(self.config, self.tokens, address)
        message = self.builder.build(Recipient(address, message_id, link, mailto, preferences))
        return self.signer.sign(message) if self.signer else message

    def message_id(self, address: str) -> str:
        """The same for every resend of this digest to this address.

        The digest's random nonce keeps ids unique even if the state database is lost and digest
        numbers start again; digests frozen before nonces existed keep their earlier form.
        """
        nonce = self.digest.nonce
        signature = message_id_signature(self.tokens.secret, self.digest.id, nonce, address)
        middle = f"{nonce}.{signature}" if nonce else signature
        return f"<digest-{self.digest.id}.{middle}@{self.host}>"

    def envelope_sender(self, address: str) -> str:
        """Where a bounce of this recipient's copy goes: the bounce address with this digest's and
        recipient's token in it (VERP) when one is set, else the From address."""
        bounce_address = self.config.digest.bounce_address
        if not bounce_address:
            return self.sender
        return bounce_address.replace(
            VERP_FIELD, bounce_token(self.tokens, self.digest.id, address)
        )

    def test_message_id(self) -> str:
        """Every test send is a message of its own."""
        return f"<test-{secrets.token_hex(10)}@{self.host}>"

    def _letter(self) -> Letter:
        digest = self.config.digest
        title = self.config.site.title
        return Letter(
            sender=self.sender,
            sender_name=digest.from_name or title,
            reply_to=digest.reply_to or self.sender,
            subject=self.digest.content.subject,
            date=self.digest.created_at,
            text=self.digest.content.text,
            html=self.digest.content.html,
            identity=f"{self.digest.id}{self.digest.nonce}",
            list_id=(title, f"digest.{self.host}"),
            one_click=True,
        )
