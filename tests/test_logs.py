"""The log's JSON lines: the same keys on every line, whatever the message or the logger."""

from __future__ import annotations

import json
import logging

from feedkit.cli.logs import JsonLines


def test_json_log_lines_have_the_same_keys_whatever_the_message() -> None:
    """Every record is one line of JSON with the stable keys; the event is the line's first
    word, and a multi-line message stays on one line."""
    formatter = JsonLines()
    lines = [
        formatter.format(logging.makeLogRecord(fields))
        for fields in (
            {"name": "feedkit", "levelname": "INFO", "msg": "build: %d written", "args": (3,)},
            {"name": "uvicorn.error", "levelname": "WARNING", "msg": "two\nlines"},
        )
    ]
    assert all("\n" not in line for line in lines)
    entries = [json.loads(line) for line in lines]
    assert [sorted(entry) for entry in entries] == [
        ["event", "level", "logger", "message", "time"]
    ] * 2
    assert [(entry["event"], entry["level"], entry["message"]) for entry in entries] == [
        ("build", "info", "build: 3 written"),
        ("", "warning", "two\nlines"),
    ]
