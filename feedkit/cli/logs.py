"""The long-running commands' log on stderr: one line per event, as text for a person or as JSON
for a log collector (`--log-format json`).

A JSON line always has the same keys: `time` (UTC, ISO 8601 with milliseconds), `level` (debug,
info, warning, error, critical), `logger`, `event` (the word a feedkit line starts with:
'build', 'digest', 'alert'…; "" for lines from libraries) and `message` (the text line's words);
`exception` is added when a traceback goes with it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

import click

from feedkit.cli.main import Decorated

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_EVENT = re.compile(r"[a-z][a-z_-]*")


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, separator, _ = message.partition(": ")
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event if separator and _EVENT.fullmatch(event) else "",
            "message": message,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Every log record of the process, feedkit's and its libraries', in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def log_format_option(command: Decorated) -> Decorated:
    """`--log-format text|json` for the commands that log."""
    option = click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="text",
        show_default=True,
        help="One line per event on stderr, as text or as JSON objects.",
    )
    return option(command)
