"""Hooks: a command and a URL told of subscribes, confirmations and unsubscribes, with a JSON
payload; a hook that fails or hangs never stops the reader's request."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.mail.transports import FileTransport
from feedkit.newsletter import readers, subscriptions
from feedkit.tokens import Purpose, Tokens
from tests.conftest import write_site

SECRET = "hooks-test-secret-long-enough"  # noqa: S105 - a test value
HOOK_SECRET = "a-hook-signing-secret"  # noqa: S105 - a test value


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that keeps what it is sent."""

    received: list[tuple[dict[str, object], str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((json.loads(body), self.headers.get("X-Feedkit-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, object], str]]]]:
    received: list[tuple[dict[str, object], str]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def site(tmp_path: Path, hooks: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    settings = '[digest]\nfrom_address = "digest@reviews.example.org"\n[hooks]\n' + hooks
    return load_config(write_site(tmp_path, {}, settings))


def transports(config: Config) -> FileTransport:
    return FileTransport(config.outbox_dir)


def test_a_command_hears_every_event_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribe, confirm and unsubscribe each run the command once, the event on stdin."""
    script = tmp_path / "record.py"
    script.write_text(
        "import sys\nopen('events.jsonl', 'a').write(sys.stdin.read() + '\\n')\n", "utf-8"
    )
    config = site(tmp_path, f'command = "{sys.executable} record.py"\n', monkeypatch)
    form = readers.SubscribeForm("zoe@example.org")
    readers.request_subscription(config, form, lambda: transports(config))
    (mail,) = config.outbox_dir.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(mail.read_bytes())
    text = message.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    token = text.get_content().split("/confirm?t=", 1)[1].split()[0]
    _, _, subscriber = readers.confirm_subscription(config, token)
    assert subscriber is not None
    readers.welcome(config, subscriber, lambda: transports(config))
    subscriptions.remove_subscriber(config, "zoe@example.org")
    lines = (tmp_path / "events.jsonl").read_text("utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert [(event["event"], event["source"]) for event in events] == [
        ("subscribe", "web"),
        ("confirm", "web"),
        ("unsubscribe", "cli"),
    ]
    assert events[0]["address"] == "zoe@example.org"
    assert events[0]["site"] == "https://reviews.example.org/"
    assert set(events[0]) == {"event", "address", "topics", "source", "at", "site"}


def test_a_url_receives_a_signed_post_for_the_events_it_asked_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[str, list[tuple[dict[str, object], str]]],
) -> None:
    url, received = receiver
    hooks = f'url = "{url}"\nevents = ["unsubscribe"]\nsecret_env = "HOOK_SECRET"\n'
    config = site(tmp_path, hooks, monkeypatch)
    subscriptions.add_subscriber(config, "ann@example.org", confirmed=True)
    token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    assert readers.unsubscribe_with_token(config, token) == ("ann@example.org", True)
    ((event, signature),) = received
    assert (event["event"], event["source"]) == ("unsubscribe", "mail")
    body = json.dumps(event, sort_keys=True).encode()
    expected = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"


def test_a_failing_or_hanging_hook_is_logged_and_the_request_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(30)\n", "utf-8")
    hooks = f'command = "{sys.executable} slow.py"\nurl = "http://127.0.0.1:9/none"\ntimeout = 1\n'
    config = site(tmp_path, hooks, monkeypatch)
    assert subscriptions.add_subscriber(config, "ann@example.org", confirmed=True)
    messages = [record.getMessage() for record in caplog.records]
    assert any("command" in message and "timed out" in message for message in messages)
    assert any("http://127.0.0.1:9/none" in message for message in messages)
    assert subscriptions.list_subscribers(config)[0].status == "active"
