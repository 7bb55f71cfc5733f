"""Building MIME messages: one set of headers and bodies per message, and per recipient only
To, Message-ID and a link. Headers are folded and encoded here, so nothing can inject one.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from feedkit.errors import PermanentDeliveryError

# Swapped for each recipient's own link. Digests frozen by earlier releases hold this very string,
# so it never changes.
LINK_PLACEHOLDER = "FEEDKIT-UNSUBSCRIBE-URL-0f3c"
PREFERENCES_PLACEHOLDER = "FEEDKIT-PREFERENCES-URL-7a1d"  # the recipient's own preferences page
_PLACEHOLDERS = re.compile(f"({LINK_PLACEHOLDER}|{PREFERENCES_PLACEHOLDER})")
_CRLF = b"\r\n"


# -- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One recipient's message, ready for the wire."""

    recipient: str
    message_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Letter:
    """What every copy of one message shares; `text` and `html` may hold LINK_PLACEHOLDER where
    each recipient's own link goes."""

    sender: str  # the From address, also the envelope sender unless a bounce address is given
    sender_name: str
    reply_to: str
    subject: str
    date: datetime
    text: str
    html: str
    identity: str  # unique to this message, for the MIME boundary
    list_id: tuple[str, str] | None = None  # (name, id) of a mailing list
    one_click: bool = False  # RFC 8058: the recipient's link unsubscribes with one POST


@dataclass(frozen=True, slots=True)
class Recipient:
    """What is personal in one copy."""

    address: str
    message_id: str
    link: str  # fills LINK_PLACEHOLDER
    unsubscribe_mailto: str | None = None  # with `link`, makes the List-Unsubscribe header
    preferences_link: str = ""  # fills PREFERENCES_PLACEHOLDER


class MessageBuilder:
    """Builds every recipient's copy of one letter, encoding nothing twice.

    The headers and both bodies are prepared once; per recipient only To, Message-ID and the link
    change, so a 10,000-recipient send spends its time on the wire, not here.
    """

    def __init__(self, letter: Letter) -> None:
        self.letter = letter
        boundary_seed = f"boundary{letter.identity}".encode()
        self.boundary = "=_feedkit_" + hashlib.sha256(boundary_seed).hexdigest()[:24]
        self.common = self._common_headers()
        self.text = _EncodedBody(letter.text)
        self.html = _EncodedBody(letter.html)

    def build(self, recipient: Recipient) -> OutgoingMessage:
        link = ascii_url(recipient.link)
        links = {
            LINK_PLACEHOLDER: link,
            PREFERENCES_PLACEHOLDER: ascii_url(recipient.preferences_link),
        }
        html_links = {key: _html_attribute(value) for key, value in links.items()}
        boundary = b"--" + self.boundary.encode()
        body = b"".join(
            [
                boundary,
                b"\r\nContent-Type: text/plain; charset=utf-8\r\n",
                _QP_HEADER,
                self.text.fill(links),
                b"\r\n",
                boundary,
                b"\r\nContent-Type: text/html; charset=utf-8\r\n",
                _QP_HEADER,
                self.html.fill(html_links),
                b"\r\n",
                boundary,
                b"--\r\n",
            ]
        )
        head = self.common + self._recipient_headers(recipient, link)
        data = head + _CRLF + body
        return OutgoingMessage(recipient.address, recipient.message_id, data)

    def _recipient_headers(self, recipient: Recipient, link: str) -> bytes:
        address = recipient.address
        if not address.isascii() or "\r" in address or "\n" in address:
            raise PermanentDeliveryError(f"{address!r}: not an address an SMTP server can take")
        lines = f"To: {address}\r\nMessage-ID: {recipient.message_id}\r\n"
        if recipient.unsubscribe_mailto is not None:
            mailto = ascii_url(recipient.unsubscribe_mailto)
            # Folded after the comma: each line stays short whatever the link's length.
            lines += f"List-Unsubscribe: <{link}>,\r\n <mailto:{mailto}>\r\n"
        return lines.encode("ascii")

    def _common_headers(self) -> bytes:
        """Headers shared by every recipient, each folded and encoded once."""
        letter = self.letter
        content_type = f'multipart/alternative; boundary="{self.boundary}"'
        headers = [
            named_header("From", letter.sender_name, letter.sender),
            folded_header("Reply-To", letter.reply_to),
            folded_header("Subject", letter.subject),
            folded_header("Date", format_datetime(letter.date)),
        ]
        if letter.list_id is not None:
            headers.append(named_header("List-Id", *letter.list_id))
        if letter.one_click:
            headers.append(folded_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        headers.append(folded_header("MIME-Version", "1.0"))
        headers.append(folded_header("Content-Type", content_type))
        return b"".join(headers)


# RFC 5322 asks for lines of at most 78 characters (998 at the very most); RFC 2047 encoded words
# may be at most 75. The stdlib's legacy Header class splits encoded words correctly at 76.
LINE_LIMIT = 76


def folded_header(name: str, value: str) -> bytes:
    """One unstructured header: plain ASCII folded at spaces where it can be, else encoded
    words."""
    text = one_line(value)
    room = LINE_LIMIT - len(name) - 2
    if text.isascii() and all(len(word) <= room for word in text.split(" ")):
        return _fold_at_spaces(name, text)
    return f"{name}: {_encoded_words(name, text)}\r\n".encode("ascii")


def named_header(name: str, phrase: str, address: str) -> bytes:
    """A header of a display name and an address (From, List-Id), with the name cleaned first."""
    text = one_line(phrase)
    room = LINE_LIMIT - len(name) - 2
    if text.isascii() and all(len(word) <= room for word in text.split(" ")):
        return _fold_at_spaces(name, formataddr((text, address)))
    return f"{name}: {_encoded_words(name, text)}\r\n <{address}>\r\n".encode("ascii")


def _fold_at_spaces(name: str, text: str) -> bytes:
    lines = [f"{name}:"]
    for word in text.split(" "):
        if len(lines[-1]) + 1 + len(word) > LINE_LIMIT and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _encoded_words(name: str, text: str) -> str:
    header = Header(text, "utf-8", maxlinelen=LINE_LIMIT, header_name=name)
    return header.encode(linesep="\r\n")


def ascii_host(host: str) -> str:
    """A host name in ASCII (an international domain in its IDNA form)."""
    return host.encode("idna").decode("ascii") if not host.isascii() else host


def one_line(value: str) -> str:
    """No CR or LF can reach a header: a title with a newline cannot add one."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def ascii_url(url: str) -> str:
    """A URL with any non-ASCII character percent-encoded, fit for a header."""
    return url if url.isascii() else quote(url, safe=_URL_SAFE)


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def _html_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


_QP_HEADER = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
_SOFT_BREAK = b"=\r\n"


class _EncodedBody:
    """A body quoted-printable-encoded once, with a gap for each of a recipient's links.

    The text around each placeholder is encoded on its own and joined to the encoded link with
    soft line breaks ('=' CRLF), which decode to nothing: the result is valid quoted-printable for
    the whole body, at the cost of encoding only the links per recipient.
    """

    def __init__(self, text: str) -> None:
        parts = _PLACEHOLDERS.split(text)  # text, placeholder, text, placeholder, ..., text
        self.pieces = [_quoted_printable(piece) for piece in parts[::2]]
        self.gaps = parts[1::2]

    def fill(self, links: dict[str, str]) -> bytes:
        encoded = {
            key: _SOFT_BREAK + _quoted_printable(link) + _SOFT_BREAK for key, link in links.items()
        }
        filled = [self.pieces[0]]
        for gap, piece in zip(self.gaps, self.pieces[1:], strict=True):
            filled += [encoded[gap], piece]
        return b"".join(filled)


def _quoted_printable(text: str) -> bytes:
    """Quoted-printable with CRLF everywhere: b2a_qp writes its soft line breaks with a bare LF."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


# -- transports -------------------------------------------------------------------------------
