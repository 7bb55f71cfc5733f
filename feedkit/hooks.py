"""Telling the site's own systems when a reader subscribes, confirms or unsubscribes.

`[hooks] command` is run without a shell, the event as JSON on its standard input; `[hooks] url`
receives it as a POST, signed with HMAC-SHA256 when `secret_env` names a variable that holds a
secret. A hook that fails or hangs is logged and given up on after `timeout` seconds: the
reader's request never waits on it, nor fails because of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shlex
import subprocess
from dataclasses import dataclass
from datetime import datetime

from feedkit import httpclient
from feedkit.config import Config
from feedkit.privacy import address_tag

logger = logging.getLogger("feedkit.hooks")
SIGNATURE_HEADER = "X-Feedkit-Signature"


@dataclass(frozen=True, slots=True)
class Event:
    """Something a reader did, as hooks receive it."""

    name: str  # "subscribe", "confirm" or "unsubscribe"
    address: str
    at: datetime
    topics: tuple[str, ...] = ()
    source: str = ""  # "web", "mail" (a one-click unsubscribe), "cli", "import"

    def payload(self, config: Config) -> bytes:
        """The JSON every hook receives: stable keys, documented in the README."""
        document = {
            "event": self.name,
            "address": self.address,
            "topics": list(self.topics),
            "source": self.source,
            "at": self.at.isoformat(timespec="seconds"),
            "site": config.base_url,
        }
        return json.dumps(document, sort_keys=True).encode()


def call_hooks(config: Config, event: Event) -> None:
    """Run the command and POST to the URL the config names, if it asks for this event."""
    hooks = config.hooks
    if event.name not in hooks.events:
        return
    payload = event.payload(config)
    if hooks.command:
        _run_command(config, event, payload)
    if hooks.url:
        _post(config, event, payload)


def _run_command(config: Config, event: Event, payload: bytes) -> None:
    command = shlex.split(config.hooks.command)
    try:
        finished = subprocess.run(  # noqa: S603 - the site's own command, never a shell
            command,
            input=payload,
            capture_output=True,
            timeout=config.hooks.timeout,
            check=False,
            cwd=config.root,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning(
            "hook: %s for %s: command %s: %s",
            event.name,
            address_tag(event.address),
            command[0],
            error,
        )
        return
    if finished.returncode != 0:
        reason = finished.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        logger.warning(
            "hook: %s for %s: command %s exited with %d %s",
            event.name,
            address_tag(event.address),
            command[0],
            finished.returncode,
            reason[0],
        )


def _post(config: Config, event: Event, payload: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    secret = os.environ.get(config.hooks.secret_env, "") if config.hooks.secret_env else ""
    if secret:
        digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    try:
        httpclient.send(config.hooks.url, payload, headers, timeout=config.hooks.timeout)
    except httpclient.HttpFailure as failure:
        tag = address_tag(event.address)
        logger.warning("hook: %s for %s: %s: %s", event.name, tag, config.hooks.url, failure)
