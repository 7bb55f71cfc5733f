"""What one returned e-mail message is: a bounce, a delay notice, a complaint or an auto-reply.

`classify(data)` reads the message's bytes and never raises. Structured reports win: RFC 3464
delivery-status and RFC 5965 feedback reports. Plain-text bounces are read only when the mail
system itself sent them, in the wording known MTAs use; auto-replies are known by their markers
(RFC 3834 and the common non-standard ones). Anything else is UNKNOWN, with the reason: a guessed
bounce would drop a subscriber who can still read the digest.
"""

from __future__ import annotations

import base64
import binascii
import enum
import itertools
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, Parser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser


class Kind(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto_reply"
    DELAY = "delay"  # a "delayed" notice: the mail system is still trying, nothing has failed
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What a report says about one recipient."""

    address: str
    kind: Kind
    status: str | None
    diagnostic: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """What a message is, and what it names; `recipients` are those of the report's `kind`."""

    kind: Kind
    recipients: tuple[str, ...]  # lower-cased
    status: str | None  # enhanced status code, "5.1.1"
    diagnostic: str | None  # the remote server's words, one line
    original_message_id: str | None  # "<id@host>" of the message that bounced or was reported
    envelope_to: tuple[str, ...]  # where the report itself went, case kept for VERP tokens
    reason: str  # one line: why this kind
    per_recipient: tuple[RecipientResult, ...] = ()  # each recipient a bounce or delay names
    # The original's envelope sender, case kept, where a complaint's copy or Original-Mail-From
    # names it: a complaint goes to the feedback address, so its VERP token is found here.
    original_senders: tuple[str, ...] = ()
    date: datetime | None = None  # when the report says it was written, if it says so readably


def classify(data: bytes) -> Report:
    """What the message in `data` is; anything not understood, even garbage, is UNKNOWN."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except _PARSER_ERRORS as exc:
        return _unreadable(f"not parseable as an e-mail message ({type(exc).__name__})")
    if not message.keys():
        return _unreadable("no header fields: not an e-mail message")
    try:
        return _classify(_Mail.read(message))
    except Exception as exc:  # noqa: BLE001 - a net, see below
        # Mail comes from anyone: one message this module fails to read must never stop the
        # caller working through a mailbox. The corpus and property tests keep this net unused.
        return _unreadable(f"could not be read as an e-mail message ({type(exc).__name__})")


# The stdlib's header parser fails on some malformed values with these (seen by the property
# tests); the parser then stops, and a header read goes back to the value as written.
_PARSER_ERRORS = (AttributeError, IndexError, LookupError, ValueError)


def _unreadable(reason: str) -> Report:
    return Report(Kind.UNKNOWN, (), None, None, None, (), reason)


# -- the message, read once ----------------------------------------------------------------------

_ATTACHED_MESSAGES = frozenset({"message/rfc822", "message/global"})
_ATTACHED_HEADERS = frozenset({"text/rfc822-headers", "message/global-headers"})
_MAX_DEPTH = 16  # MIME nesting read; real reports nest three or four deep
_ENVELOPE_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "To", "Return-Path")
_MESSAGE_ID = re.compile(r"<[^<>\s@]{1,500}@[^<>\s@]{1,500}>")
_MAIL_FROM = "original-mail-from"


Parts = tuple[EmailMessage, ...]


@dataclass(frozen=True, slots=True)
class _Mail:
    message: EmailMessage
    parts: Parts  # every part outside the attached copies of other messages
    originals: tuple[Message, ...]  # attached copies of the original message or of its headers
    report_text: str  # the readable text, up to where a copy of the original begins
    copy_text: str  # from there on
    envelope_to: tuple[str, ...]

    @classmethod
    def read(cls, message: EmailMessage) -> _Mail:
        parts, originals = _parts_and_originals(message)
        report_text, copy_text = _split_at_copy(_readable_text(parts))
        return cls(message, parts, originals, report_text, copy_text, _envelope_to(message))

    def original_message_id(self) -> str | None:
        """From an attached original, an inline copy of its headers, or what the report answers."""
        places = [_header(original, "Message-ID") for original in self.originals]
        places.append(_inline_message_id(self.copy_text))
        places.append(_header(self.message, "In-Reply-To"))
        for place in places:
            found = _MESSAGE_ID.search(place)
            if found:
                return found.group()
        # Exim's bounces and warnings name the original in References alone: its last entry.
        referenced = _MESSAGE_ID.findall(_header(self.message, "References"))
        return referenced[-1] if referenced else None

    def original_senders(self) -> tuple[str, ...]:
        """The Return-Path of an attached original, and a feedback report's Original-Mail-From."""
        values = [_header(original, "Return-Path") for original in self.originals]
        for part in self.parts:
            if part.get_content_type() == "message/feedback-report":
                blocks = _field_blocks(part)
                values += [value for block in blocks for key, value in block if key == _MAIL_FROM]
        found = [address for _, address in getaddresses(values) if "@" in address]
        return tuple(dict.fromkeys(found))

    def date(self) -> datetime | None:
        try:
            written = parsedate_to_datetime(_header(self.message, "Date"))
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        return written if written.tzinfo else written.replace(tzinfo=UTC)


def _parts_and_originals(message: EmailMessage) -> tuple[Parts, tuple[Message, ...]]:
    """The parts outside attached messages, in order, and the attached originals themselves."""
    parts: list[EmailMessage] = []
    originals: list[Message] = []
    stack: list[tuple[EmailMessage, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        parts.append(part)
        content_type = part.get_content_type()
        if content_type in _ATTACHED_MESSAGES or content_type in _ATTACHED_HEADERS:
            originals.append(_attached_headers(part))
        elif part.get_content_maintype() == "multipart" and depth < _MAX_DEPTH:
            subparts = [sub for sub in _subparts(part) if isinstance(sub, EmailMessage)]
            stack.extend((sub, depth + 1) for sub in reversed(subparts))
    return tuple(parts), tuple(originals)


def _subparts(part: Message) -> list[Message]:
    """The parts the parser made of `part`, read without get_payload() decoding any text."""
    payload = part.get_payload() if part.is_multipart() else []
    return [sub for sub in payload if isinstance(sub, Message)]


def _attached_headers(part: EmailMessage) -> Message:
    """The attached message (or headers) in `part`, its transfer encoding undone."""
    subparts = _subparts(part)
    if subparts and _transfer_encoding(part) not in _ENCODED:
        return subparts[0]
    try:
        return Parser(policy=policy.default).parsestr(_decoded_body(part), headersonly=True)
    except _PARSER_ERRORS:
        return Message()


_ENCODED = frozenset({"base64", "quoted-printable"})


def _transfer_encoding(part: Message) -> str:
    return _header(part, "Content-Transfer-Encoding").strip().lower()


def _decoded_body(part: Message) -> str:
    """The body of `part` as text; the parser leaves message/* parts transfer-encoded."""
    if not part.is_multipart():
        return _payload_bytes(part).decode("utf-8", "replace")
    written = [_as_written(sub) for sub in _subparts(part)]
    raw = "\n".join(written).encode("utf-8", "replace")
    encoding = _transfer_encoding(part)
    try:
        if encoding == "base64":
            raw = base64.b64decode(raw)
        elif encoding == "quoted-printable":
            raw = quopri.decodestring(raw)
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("utf-8", "replace")


_AS_WRITTEN = policy.default.clone(max_line_length=None, utf8=True)


def _as_written(message: Message) -> str:
    try:
        return message.as_string(policy=_AS_WRITTEN)
    except _PARSER_ERRORS:
        return ""


def _payload_bytes(part: Message) -> bytes:
    """The body, transfer encoding undone (undecoded, get_payload() trips on odd charset names)."""
    try:
        data = part.get_payload(decode=True)
    except _PARSER_ERRORS:
        return b""
    return data if isinstance(data, bytes) else b""


def _header(message: Message, name: str) -> str:
    values = _header_values(message, name)
    return values[0] if values else ""


def _header_values(message: Message, name: str) -> list[str]:
    """Every value of a header, decoded; as written where the stdlib cannot parse it."""
    try:
        return [str(value) for value in message.get_all(name, [])]
    except _PARSER_ERRORS:
        raw = [value for key, value in message.raw_items() if key.lower() == name.lower()]
        return [_as_text(value) for value in raw]


def _as_text(raw: str) -> str:
    """A raw header value or body kept by the parser as escaped bytes, read as UTF-8."""
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _envelope_to(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for name in _ENVELOPE_HEADERS:
        values = _header_values(message, name)
        found.extend(address for _, address in getaddresses(values) if "@" in address)
    return tuple(dict.fromkeys(found))


def _addresses(values: Iterable[str]) -> tuple[str, ...]:
    """The addresses in header-style values ("rfc822; a@b", "<a@b>", "A <a@b>"), lower-cased."""
    found = []
    for value in values:
        for _, parsed in getaddresses([_without_type(value)]):
            local, _, domain = parsed.rpartition("@")
            # "@mx.example.org", a source route's leftover, names a host and no one at it.
            if local and domain and not any(char.isspace() for char in parsed):
                found.append(parsed.lower())
    return tuple(dict.fromkeys(found))


# -- readable text -------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    """The text of an HTML body, a line per block, for bounces sent only as HTML."""

    _BLOCKS = frozenset({"br", "p", "div", "tr", "td", "th", "li", "table", "h1", "h2", "pre"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(
        self,
        tag: str,
        attrs: list[tuple[str, str | None]],  # noqa: ARG002
    ) -> None:
        self.hidden += tag in self._HIDDEN
        if tag in self._BLOCKS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self._BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)


def _readable_text(parts: Sequence[EmailMessage]) -> str:
    """The text of the inline plain-text parts; of the HTML ones only where there is no plain."""
    inline = [part for part in parts if not _is_attachment(part)]
    plain = [_text_of(part) for part in inline if part.get_content_type() == "text/plain"]
    if plain:
        return "\n".join(plain)
    converted = []
    for part in inline:
        if part.get_content_type() == "text/html":
            reader = _HtmlText()
            reader.feed(_text_of(part))
            converted.append("".join(reader.pieces))
    return "\n".join(converted)


def _is_attachment(part: EmailMessage) -> bool:
    return _header(part, "Content-Disposition").strip().lower().startswith("attachment")


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except _PARSER_ERRORS:  # a charset name Python cannot look up, say: read it as UTF-8
        return _decoded_body(part)
    return content if isinstance(content, str) else ""


def _split_at_copy(text: str) -> tuple[str, str]:
    """The report's own words, and the copy of the original message it quotes after them."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if _starts_copy(line.strip().lower()):
            return "\n".join(lines[:number]), "\n".join(lines[number + 1 :])
    return text, ""


_COPY_MARKS = (
    "copy of",
    "original message",
    "unsent message",
    "message follows",
    "headers follow",
)


def _starts_copy(line: str) -> bool:
    """qmail, Exim, Sendmail, Exchange and mail clients mark where the quoted original starts."""
    if line == "message headers follow.":  # DragonFly's, undecorated
        return True
    # IMail's and OpenSMTPD's marks, undecorated too.
    marks = ("original message headers", "original message details", "original message follows")
    if line.startswith((*marks, "below is a copy of the original message")):
        return True
    return line.startswith("--") and any(mark in line for mark in _COPY_MARKS)


def _inline_message_id(copy_text: str) -> str:
    """The Message-ID line of a quoted original's headers, with a folded value joined on."""
    lines = copy_text.splitlines()[:400]  # headers come first; the body may quote anything
    for number, line in enumerate(lines):
        if line.lower().startswith("message-id:"):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            folded = following if following[:1] in (" ", "\t") else ""
            return line[len("message-id:") :] + folded
    return ""


def _flat(text: str) -> str:
    """Lower case, one space between words, typographic apostrophes plain: for phrase tests."""
    return " ".join(text.lower().replace("\u2019", "'").split())


def _one_line(text: str, limit: int = 300) -> str | None:
    line = " ".join(text.split()).strip("'\" ")
    if not line:
        return None
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- status codes --------------------------------------------------------------------------------

_CODE = r"[245]\.\d{1,3}\.\d{1,3}"
# An enhanced status code standing alone, as in a Status field: not part of an address or version.
_ENHANCED_CODE = re.compile(rf"(?<![\d.])({_CODE})(?!\d)")
# In free text only a code that an SMTP reply ("550 5.1.1", "550-5.1.1"), qmail ("(#5.1.1)") or a
# Status line carries counts: a bare "4.2.1" in prose may be a version or part of an address.
_TEXT_CODE = re.compile(
    rf"(?:(?<![\w.])[245]\d\d(?:[ -]|: )[#']?|\(#|status: ?)({_CODE})(?!\d)",
    re.IGNORECASE,
)
# A basic reply code where servers' replies are quoted: "said: 550", "returned '550", a line start.
_BASIC_CODE = re.compile(
    r"(?:^|said:|returned '|error:|>:)[ \t]{0,3}([45])\d\d(?![\w.])",
    re.MULTILINE | re.IGNORECASE,
)

# Soft whatever the class: a full mailbox (X.2.2) may empty, and an expired delivery time (X.4.7)
# says the remote end was unreachable for days, not that the address is wrong.
_SOFT_DETAILS = frozenset({"2.2", "4.7"})
# The permanent codes that speak of the address itself: no such mailbox (X.1.1), no such domain
# (X.1.2), a malformed address (X.1.3), moved away (X.1.6), no mail accepted (X.1.10), disabled
# (X.2.1). Every other permanent code (a spam or policy block, the sender's own address, a server
# fault, an unspecified "X.0.0") says nothing against the reader unless the server's words do.
_ADDRESS_DETAILS = frozenset({"1.1", "1.2", "1.3", "1.6", "1.10", "2.1"})
# The sender's own address refused (X.1.7, X.1.8): its words ("domain of sender address does not
# exist") would read as the reader's, so they are not asked.
_SENDER_DETAILS = frozenset({"1.7", "1.8"})
_OVER_QUOTA = (
    "mailbox is full",
    "mailbox full",
    "over quota",
    "quota exceeded",
    "exceeded storage",
)


def _failure_kind(code: str | None, words: str) -> Kind:
    """Hard only where the code, or failing a code that says so the words, condemn the address."""
    detail = (code or "").partition(".")[2]
    if (code or "").startswith("4") or detail in _SOFT_DETAILS | _SENDER_DETAILS:
        return Kind.SOFT_BOUNCE
    flat = _flat(words)
    # Servers send "5.1.1" with "mailbox is over quota" too: a full mailbox is never hard.
    if any(phrase in flat for phrase in _OVER_QUOTA):
        return Kind.SOFT_BOUNCE
    condemned = detail in _ADDRESS_DETAILS or _hard_words(flat)
    return Kind.HARD_BOUNCE if condemned else Kind.SOFT_BOUNCE


def read_refusal(reply: str) -> tuple[Kind, str | None]:
    """What a 5xx reply to RCPT during the SMTP conversation says of the address, by the same
    rules as a bounce that comes back as mail: hard or soft, and its enhanced code if it has one.
    """
    found = _TEXT_CODE.search(reply)
    code = found.group(1) if found else _code_in(reply)
    return _failure_kind(code, reply), code


def _hard_words(words: str) -> str | None:
    """The phrase saying the address is unknown or gone, if the words have one."""
    return next((phrase for phrase in _HARD_WORDING if phrase in words), None)


# -- RFC 3464 delivery-status reports -----------------------------------------------------------

_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_SEVERITY = (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE, Kind.DELAY)
Fields = list[tuple[str, str]]


def _field_blocks(part: EmailMessage) -> list[Fields]:
    """The blocks of "Name: value" fields in a report part, names lower-cased."""
    if not part.is_multipart() or _transfer_encoding(part) in _ENCODED:
        return _parse_blocks(_decoded_body(part))
    blocks: list[Fields] = []
    for sub in _subparts(part):
        # Fields as written: these are no RFC 5322 headers for the stdlib to parse.
        blocks.append([(key.lower(), _unfolded(value)) for key, value in sub.raw_items()])
        # message/global-delivery-status is parsed as one message: its later blocks are the body.
        blocks.extend(_parse_blocks(_payload_bytes(sub).decode("utf-8", "replace")))
    return blocks


def _unfolded(raw: str) -> str:
    return " ".join(_as_text(raw).split())


def _parse_blocks(text: str) -> list[Fields]:
    blocks: list[Fields] = [[]]
    for line in text.splitlines():
        if not line.strip():
            blocks.append([])
        elif line[:1] in (" ", "\t") and blocks[-1]:
            name, value = blocks[-1][-1]
            blocks[-1][-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            blocks[-1].append((name.strip().lower(), value.strip()))
    return [block for block in blocks if block]


def _first(fields: Fields, name: str) -> str:
    return next((value for key, value in fields if key == name), "")


def _read_delivery_status(mail: _Mail) -> Report | None:
    parts = [part for part in mail.parts if part.get_content_type() in _DSN_TYPES]
    results: list[RecipientResult] = []
    others = 0
    for block in (block for part in parts for block in _field_blocks(part)):
        # Original-Recipient is the address we gave; Final-Recipient may be where it forwarded to.
        named = [_first(block, "original-recipient"), _first(block, "final-recipient")]
        recipients = _addresses(named)
        result = _recipient_result(recipients[0], block) if recipients else None
        if result:
            results.append(result)
        elif recipients:
            others += 1
    if not results:
        reason = f"delivery-status report names {others} recipient(s), none failed or delayed"
        return _report(mail, Kind.UNKNOWN, reason) if others else None
    return _report(mail, _most_severe(results), _dsn_reason(results, others), results=results)


def _recipient_result(address: str, block: Fields) -> RecipientResult | None:
    diagnostic = _one_line(_without_type(_first(block, "diagnostic-code")))
    code = _best_code(_first(block, "status"), diagnostic or "")
    action = _first(block, "action").lower()
    if not action:  # a block without Action: what its Status class alone says
        action = {"5": "failed", "4": "delayed"}.get(code[:1] if code else "", "")
    if action.startswith("delay"):
        return RecipientResult(address, Kind.DELAY, code, diagnostic)
    if not action.startswith("fail") or (code or "5").startswith("2"):
        return None  # delivered, relayed, expanded, or nothing said
    # "failed" without a code is still final (RFC 3464), but only the words can say it is the
    # address that failed rather than, say, the sending server's reputation.
    kind = _failure_kind(code, diagnostic or "")
    return RecipientResult(address, kind, code, diagnostic)


def _without_type(value: str) -> str:
    """A field without its "rfc822;" or "smtp;" type; any other semicolons stay."""
    name, semicolon, rest = value.partition(";")
    name = name.strip()
    is_type = semicolon and name.replace("-", "").isalnum() and not name[:1].isdigit()
    return rest if is_type else value


def _best_code(status: str, diagnostic: str) -> str | None:
    """The Status code, or the server's own where Status is missing, generic or permanent.

    A relay writes Status from its own reading of the reply ("5.1.1" for a "550 5.7.1 blocked"),
    so for a refusal the code the remote server itself sent is the better witness. A delay's
    Status stays: "4.4.7" after days of retries says more than the last attempt's reply.
    """
    stated = _code_in(status)
    replied = _TEXT_CODE.search(diagnostic)
    given = replied.group(1) if replied else _code_in(diagnostic)
    if stated is None or not given or given[0] != stated[0]:
        return stated or given
    return given if stated.endswith(".0.0") or stated[0] == "5" else stated


def _code_in(text: str) -> str | None:
    found = _ENHANCED_CODE.search(text)
    return found.group(1) if found else None


def _most_severe(results: Sequence[RecipientResult]) -> Kind:
    return next(kind for kind in _SEVERITY if any(result.kind == kind for result in results))


def _dsn_reason(results: Sequence[RecipientResult], others: int) -> str:
    counts = []
    for kind in _SEVERITY:
        found = [result for result in results if result.kind == kind]
        if found:
            code = found[0].status or "no status code"
            counts.append(f"{len(found)} {kind.replace('_', ' ')} ({code})")
    if others:
        counts.append(f"{others} delivered or relayed")
    return "delivery-status report: " + ", ".join(counts)


def _report(
    mail: _Mail,
    kind: Kind,
    reason: str,
    *,
    results: Sequence[RecipientResult] = (),
    recipients: Sequence[str] = (),
    detail: tuple[str | None, str | None] = (None, None),
) -> Report:
    """The report; status and diagnostic are the first chosen recipient's, else `detail`."""
    chosen = [result for result in results if result.kind == kind]
    status, diagnostic = (chosen[0].status, chosen[0].diagnostic) if chosen else detail
    return Report(
        kind=kind,
        recipients=tuple(result.address for result in chosen) or tuple(recipients),
        status=status,
        diagnostic=diagnostic,
        original_message_id=mail.original_message_id(),
        envelope_to=mail.envelope_to,
        reason=reason,
        per_recipient=tuple(results),
        original_senders=mail.original_senders(),
        date=mail.date(),
    )


# -- RFC 5965 feedback reports and feedback-loop copies -----------------------------------------

_COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus"})


def _read_feedback_report(mail: _Mail) -> Report | None:
    parts = [part for part in mail.parts if part.get_content_type() == "message/feedback-report"]
    if not parts:
        return None
    fields = [field for part in parts for block in _field_blocks(part) for field in block]
    feedback_type = _first(fields, "feedback-type").lower().split(";")[0].strip()
    if feedback_type not in _COMPLAINT_TYPES:
        reason = f"feedback report of type '{feedback_type or 'none given'}': not a complaint"
        return _report(mail, Kind.UNKNOWN, reason)
    reason = f"feedback report (RFC 5965), Feedback-Type: {feedback_type}"
    named = [value for key, value in fields if key in ("original-rcpt-to", "removal-recipient")]
    recipients = _addresses(named)
    if not recipients:
        recipients = _sole_recipient_of_original(mail)
        found = "from the reported message's To" if recipients else "not named"
        reason += f"; recipient {found}"
    return _report(mail, Kind.COMPLAINT, reason, recipients=recipients)


def _sole_recipient_of_original(mail: _Mail) -> tuple[str, ...]:
    """The one To address of the reported message; a digest goes to one subscriber at a time."""
    for original in mail.originals:
        addresses = _addresses([_header(original, "To")])
        if len(addresses) == 1:
            return addresses
    return ()


def _read_hotmail_copy(mail: _Mail) -> Report | None:
    """Microsoft's older feedback loop: the complained-of message attached, nothing else said.

    Hotmail stamps X-HmXmrOriginalRecipient on every message it delivers, so a copy forwarded by
    the subscriber carries it too; a report that adds words of its own, or comes from that very
    recipient, is a person writing, not the feedback loop.
    """
    for original in mail.originals:
        recipients = _addresses([_header(original, "X-HmXmrOriginalRecipient")])
        if recipients:
            break
    else:
        return None
    senders = _addresses([_header(mail.message, "From")])
    if mail.report_text.strip() or set(recipients) & set(senders):
        return None
    reason = "feedback-loop copy with X-HmXmrOriginalRecipient (Microsoft JMRP)"
    return _report(mail, Kind.COMPLAINT, reason, recipients=recipients)


# -- plain-text bounces from the mail system ----------------------------------------------------

_DAEMON_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "maildaemon"},
)
_DAEMON_NAMES = frozenset({"mail delivery system", "mail delivery subsystem"})
_BOUNCE_SUBJECTS = (
    "undelivered mail",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "undeliverable",
    "delivery status notification",
    "delivery failure",
    "mail system error",
)
# The fixed sentences of each MTA's bounce, and whose they are.
_BOUNCE_WORDING = {
    "this message was created automatically by mail delivery software": "Exim",
    "could not be delivered to one or more of its recipients": "Exim",
    "hi. this is the qmail-send program": "qmail",
    "i'm afraid i wasn't able to deliver your message": "qmail",
    "i'm sorry to have to inform you that your message could not be delivered": "Postfix",
    "the following addresses had permanent fatal errors": "Sendmail",
    "delivery has failed to these recipients or groups": "Exchange",
    "delivery to the following recipients failed": "Exchange",
    "couldn't be delivered": "Exchange Online",
    "your message wasn't delivered to": "Gmail",
    "address not found": "Gmail",
    "sorry, we were unable to deliver your message to the following address": "Yahoo",
    "there was an error delivering your mail to": "DragonFly",
}
_DELAY_WORDING = {
    "this is a warning only": "Postfix",
    "delayed mail (still being retried)": "Postfix",
    "has not yet been delivered to one or more of its recipients": "Exim",
    "this is a warning message only": "Sendmail",
    "transient non-fatal errors": "Sendmail",
    "delivery status notification (delay)": "Gmail",
    "there was a temporary problem delivering your message": "Gmail",
    "delivery is delayed to these recipients or groups": "Exchange",
    "this is only a temporary failure report": "OpenSMTPD",
}
_WORDING = _BOUNCE_WORDING | _DELAY_WORDING
_HARD_WORDING = (
    "user unknown",
    "unknown user",
    "no such user",
    "no mailbox here by that name",
    "does not exist",
    "address couldn't be found",
    "recipient not found",
    "recipientnotfound",
    "recipnotfound",
    "mailbox not found",
    "invalid recipient",
    "unknown recipient",
    "this user doesn't have a",
    "account has been disabled",
    "unrouteable address",
    "couldn't find any host by that name",
    "couldn't find a mail exchanger",
    "host or domain name not found",
    "host unknown",
    "no such domain",
    "user not found",
)
_SOFT_WORDING = (
    *_OVER_QUOTA,
    "retry timeout exceeded",
    "in the queue too long",
    "could not deliver for the last",
    "try again later",
    "greylist",
    "connection timed out",
    "connection refused",
    "temporar",
)
_PERMANENT_WORDING = ("this is a permanent error", "permanent fatal errors", "permanent failure")


def _from_mail_system(message: EmailMessage) -> bool:
    """Sent by an MTA rather than a person: only such a message's bounce wording is believed."""
    if "X-Failed-Recipients" in message:
        return True
    for name, address in getaddresses([_header(message, "From")]):
        # Some write a bare "mailer-daemon", no domain.
        local = (address.rpartition("@")[0] if "@" in address else address).lower()
        if local in _DAEMON_LOCAL_PARTS or local.startswith("microsoftexchange"):
            return True
        # DragonFly writes "MAILER-DAEMON <>": the name alone says who.
        if name.strip().lower() in _DAEMON_NAMES | _DAEMON_LOCAL_PARTS:
            return True
    null_sender = _header(message, "Return-Path").strip() == "<>"
    return null_sender and _flat(_header(message, "Subject")).startswith(_BOUNCE_SUBJECTS)


def _as_bounce(mail: _Mail, bounce: Report | None) -> Report | None:
    """The bounce read, or kept aside unread where the message is built as a bounce.

    Postfix, Gmail and Exim mark their bounces "Auto-Submitted: auto-replied" too: one sent as a
    bounce, with a delivery-status part or by the mail system from the null sender in bounce
    wording, is kept aside when it cannot be read, never dropped as someone's vacation reply.
    """
    if bounce and bounce.kind is not Kind.UNKNOWN:
        return bounce
    if _has_delivery_status(mail):
        return bounce or _report(mail, Kind.UNKNOWN, "delivery report naming no recipient")
    return bounce if bounce and _null_or_daemon_sender(mail.message) else None


def _has_delivery_status(mail: _Mail) -> bool:
    return any(part.get_content_type() in _DSN_TYPES for part in mail.parts)


def _null_or_daemon_sender(message: EmailMessage) -> bool:
    """Sent with the null envelope sender, or the mail system's own: as bounces are."""
    path = _header(message, "Return-Path").strip()
    if path in ("", "<>"):
        return path == "<>"
    return any(_is_daemon(address.lower()) for _, address in getaddresses([path]))


def _read_text_bounce(mail: _Mail) -> Report | None:
    subject = _flat(_header(mail.message, "Subject"))
    words = subject + " " + _flat(mail.report_text)
    codes = [found.group(1) for found in _TEXT_CODE.finditer(mail.report_text)]
    label = next((who for phrase, who in _WORDING.items() if phrase in words), "")
    if not (label or codes or subject.startswith(_BOUNCE_SUBJECTS)):
        return None
    kind, code, why = _judge_text(mail, words, codes)
    source = "bounce text from the mail system" + (f" ({label} wording)" if label else "")
    if kind is None:
        return _report(mail, Kind.UNKNOWN, f"{source}, but {why}")
    diagnostic = _diagnostic_line(mail.report_text, code)
    recipients = _text_recipients(mail)
    results = [RecipientResult(address, kind, code, diagnostic) for address in recipients]
    reason = f"{source}: {why}" + ("" if results else "; recipient not named")
    return _report(mail, kind, reason, results=results, detail=(code, diagnostic))


# Google Groups' refusal of a post, in the sender's language, always links this help page. The
# group may be gone or closed to the sender; either way no one's mailbox failed, so never hard.
_GROUP_REFUSAL = "groups.google.com/support"


def _judge_text(mail: _Mail, words: str, codes: list[str]) -> tuple[Kind | None, str | None, str]:
    """The kind a bounce text says, the code it rests on, and why; None when it does not say."""
    if _GROUP_REFUSAL in words:
        return Kind.SOFT_BOUNCE, None, "a Google group refused the post (gone, or closed to it)"
    failed_for_sure = "X-Failed-Recipients" in mail.message or "permanent fatal errors" in words
    if not failed_for_sure and any(phrase in words for phrase in _DELAY_WORDING):
        delay_code = next((code for code in codes if code.startswith("4")), None)
        return Kind.DELAY, delay_code, "a warning that delivery is still being tried"
    code = next((code for code in codes if not code.startswith("2")), None)
    if code:
        return _failure_kind(code, words), code, f"status {code} in the server's reply"
    return _judge_words(mail, words)


def _judge_words(mail: _Mail, words: str) -> tuple[Kind | None, str | None, str]:
    if any(phrase in words for phrase in _OVER_QUOTA):
        return Kind.SOFT_BOUNCE, None, "the mailbox is full"
    hard = _hard_words(words)
    soft = next((phrase for phrase in _SOFT_WORDING if phrase in words), None)
    if hard and soft:
        return None, None, f"its words disagree ('{hard}', '{soft}') and no status code settles it"
    if hard or soft:
        return (Kind.HARD_BOUNCE if hard else Kind.SOFT_BOUNCE), None, f"it says '{hard or soft}'"
    # A bare 5xx reply or "permanent error" is final, but without words naming the address it may
    # as well be a block of the sender: soft, so only repeated failures suppress the reader.
    basic = _BASIC_CODE.search(mail.report_text)
    if basic:
        return Kind.SOFT_BOUNCE, None, f"reply code {basic.group(1)}xx in the server's reply"
    permanent = next((phrase for phrase in _PERMANENT_WORDING if phrase in words), None)
    if permanent:
        return Kind.SOFT_BOUNCE, None, f"it says '{permanent}' but not what failed"
    return None, None, "it says neither what failed nor whether for good"


# Where each MTA names the failed address: a list after a heading, or the address in a sentence.
_LIST_HEADINGS = (
    "delivery has failed to these recipients or groups",
    "the following address(es) failed",
    "the following address failed",  # 1&1 and GMX
    "not yet been delivered",
    "had permanent fatal errors",
    "had transient non-fatal errors",
    "to the following recipients failed",
    "could not be reached",
    "did not reach the following recipient(s)",  # Exchange 2003
    "the following list of recipients",  # OpenSMTPD
    "the following recipients were affected",  # MailMarshal
    "以下のメールアドレスへの送信に失敗しました",  # m-FILTER: "sending to these addresses failed"
)
_ADDRESS_CHARS = r"[^\s<>()\[\]'\",;:]"
_ADDRESS = re.compile(rf"{_ADDRESS_CHARS}{{1,64}}@{_ADDRESS_CHARS}{{1,255}}")
# A list entry that starts with its address: "<a@b>", "\"a@b\":", "a@b: reason", "a@b on <date>".
_LEADING_ADDRESS = re.compile(rf"[<\"]?({_ADDRESS_CHARS}{{1,64}}@{_ADDRESS_CHARS}{{1,255}})")
_ANGLE_RECIPIENT = re.compile(r"^[ \t]{0,8}<([^<>\s]{1,320})> ?:", re.MULTILINE)
_NAMED_RECIPIENT = re.compile(
    rf"(?:wasn't delivered to|your message to|error delivering your mail to|rcpt to:"
    rf"|recipient: ?rfc822;|unknown user:|undeliverable to|deliver message to:"
    rf"|rejected recipient) ?<?"
    rf"({_ADDRESS_CHARS}{{1,64}}@{_ADDRESS_CHARS}{{1,255}})"
)
# Sendmail's transcript line for a recipient it gave up on: "554 <a@b>... Host unknown".
_TRANSCRIPT_RECIPIENT = re.compile(r"^[45]\d\d <([^<>\s]{1,320})>\.\.\. ", re.MULTILINE)
# Zoho's: "a@b Invalid Address, ERROR_CODE :550, ...".
_ERROR_CODE_RECIPIENT = re.compile(
    rf"^({_ADDRESS_CHARS}{{1,64}}@{_ADDRESS_CHARS}{{1,255}}) [\w ]{{1,40}}, error_code :",
    re.MULTILINE | re.IGNORECASE,
)


def _text_recipients(mail: _Mail) -> tuple[str, ...]:
    text = mail.report_text
    found = [_header(mail.message, "X-Failed-Recipients")]
    for pattern in (_ANGLE_RECIPIENT, _TRANSCRIPT_RECIPIENT, _ERROR_CODE_RECIPIENT):
        found += [match.group(1) for match in pattern.finditer(text)]
    found += [match.group(1) for match in _NAMED_RECIPIENT.finditer(_flat(text))]
    found += _listed_recipients(text.splitlines())
    addresses = _addresses(address.rstrip(".") for value in found for address in value.split(","))
    # The report's own sender and addressees are never the recipient that failed. X-Original-To
    # is left out: it repeats To on delivery to us, but DragonFly's bounce sets it to the failed
    # recipient.
    names = [name for name in _ENVELOPE_HEADERS if name != "X-Original-To"] + ["From"]
    ours = set(_addresses(value for name in names for value in _header_values(mail.message, name)))
    return tuple(address for address in addresses if not (address in ours or _is_daemon(address)))


def _listed_recipients(lines: list[str]) -> list[str]:
    """The addresses listed under each heading that lists failures (wrapped over two lines)."""
    found = []
    for number in range(len(lines)):
        start = _list_start(lines, number)
        if start is not None:
            found += _list_entries(lines[start:])
    return found


def _list_start(lines: list[str], number: int) -> int | None:
    """Where the list begins if a heading ends on line `number`, or on the line after it."""
    if any(heading in _flat(lines[number]) for heading in _LIST_HEADINGS):
        return number + 1
    wrapped = _flat(" ".join(lines[number : number + 2]))
    if number + 1 < len(lines) and any(heading in wrapped for heading in _LIST_HEADINGS):
        return number + 2
    return None


def _list_entries(lines: list[str]) -> list[str]:
    """The first address of the list's first line, and of each later entry on the same level.

    Entries run to the first blank line; a line indented deeper than the first is a detail of an
    entry (the server's reply, which may quote other addresses), and a line that does not start
    with an address is no entry.
    """
    block = list(itertools.takewhile(str.strip, itertools.dropwhile(_is_blank, lines)))
    if not block:
        return []
    first = _ADDRESS.search(block[0])
    found = [first.group()] if first else []
    depth = _indent(block[0])
    for line in block[1:]:
        entry = _LEADING_ADDRESS.match(line.strip()) if _indent(line) <= depth else None
        found += [entry.group(1)] if entry else []
    return found


def _is_blank(line: str) -> bool:
    return not line.strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_daemon(address: str) -> bool:
    return address.partition("@")[0] in _DAEMON_LOCAL_PARTS


def _diagnostic_line(text: str, code: str | None) -> str | None:
    """The server's reply: from its code to the end of its indented continuation lines."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        found = _TEXT_CODE.search(line) if code else _BASIC_CODE.search(line.strip())
        if found is None or (code and found.group(1) != code):
            continue
        reply = line[found.start() :] if found.group()[:1].isdigit() else line.strip()
        for following in lines[number + 1 : number + 6]:
            if not following[:1].isspace() or not following.strip():
                break
            reply += " " + following.strip()
        if reply.count(")") > reply.count("("):  # Sendmail wraps the reply: "(reason: 550 ...)"
            reply = reply.rstrip().removesuffix(")")
        return _one_line(reply)
    return None


# -- auto-replies -------------------------------------------------------------------------------

_AUTO_REPLY_SUBJECTS = (
    "automatic reply",
    "autoreply",
    "auto-reply",
    "auto reply",
    "out of office",
    "out of the office",
    "automatische antwort",
    "abwesenheitsnotiz",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
)
_PRECEDENCE = ("Precedence", "X-Precedence")
_MICROSOFT_HINTS = ("X-MS-Exchange-Inbox-Rules-Loop", "X-Auto-Response-Suppress")


def _auto_reply_marker(message: EmailMessage) -> str | None:
    """The header or subject that marks an automatic reply, or None."""
    submitted = _header(message, "Auto-Submitted").lower().split(";")[0].split("(")[0].strip()
    if submitted == "auto-replied":
        return "Auto-Submitted: auto-replied (RFC 3834)"
    for name in ("X-Autoreply", "X-Autorespond"):
        if name in message:
            return f"{name} header"
    precedence = [_header(message, name).strip().lower() for name in _PRECEDENCE]
    if "auto_reply" in precedence:
        return "Precedence: auto_reply"
    subject = _flat(_header(message, "Subject"))
    if subject.startswith(_AUTO_REPLY_SUBJECTS):
        return f"subject '{_one_line(_header(message, 'Subject'), 60)}'"
    # Microsoft's loop headers alone ride on ordinary mail too; with Auto-Submitted, an OOF.
    hint = next((name for name in _MICROSOFT_HINTS if name in message), None)
    if hint and submitted and submitted != "no":
        return f"Auto-Submitted: {submitted} with {hint}"
    return None


# -- in order -----------------------------------------------------------------------------------


def _classify(mail: _Mail) -> Report:
    # Structured reports first; then the mail system's own words, before auto-reply markers,
    # since Exim and Gmail mark their bounces "Auto-Submitted: auto-replied" too.
    for read in (_read_delivery_status, _read_feedback_report, _read_hotmail_copy):
        report = read(mail)
        if report:
            return report
    from_mail_system = _from_mail_system(mail.message)
    bounce = _read_text_bounce(mail) if from_mail_system else None
    settled = _as_bounce(mail, bounce)
    if settled:
        return settled
    marker = _auto_reply_marker(mail.message)
    if marker:
        return _report(mail, Kind.AUTO_REPLY, f"auto-reply: {marker}")
    if bounce:
        return bounce
    if from_mail_system:
        return _report(mail, Kind.UNKNOWN, "from the mail system, but in no bounce wording known")
    return _report(mail, Kind.UNKNOWN, "no delivery report, feedback report, bounce or auto-reply")
