"""`--log-format json` as real processes: every line `feedkit run` and `feedkit serve` log is one
JSON object with the same keys, and the event names the part of feedkit that spoke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx

from feedkit.web.login import ADMIN_HASH_ENV
from tests.conftest import write_site
from tests.e2e.test_serve_log import PASSWORD, editor_session
from tests.e2e.test_service import ENV, review
from tests.processes import serving
from tests.smtp_server import free_port
from tests.test_web import quick_hash

KEYS = ["event", "level", "logger", "message", "time"]


def entries(text: str) -> list[dict[str, str]]:
    """Each stderr line parsed as JSON (a line that is not JSON fails the test)."""
    parsed = [json.loads(line) for line in text.splitlines()]
    assert all(sorted(entry) == KEYS for entry in parsed), text
    return parsed


def test_run_once_logs_one_json_object_per_event(tmp_path: Path) -> None:
    """`run --once --log-format json`: the build's line is an info event named 'build'."""
    write_site(tmp_path, {"a.md": review("Alphaville")}, '[schedule]\ndigest = ""\n')
    command = [sys.executable, "-m", "feedkit.cli", "run", "--once", "--log-format", "json"]
    result = subprocess.run(
        command, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    logged = entries(result.stderr)
    assert [(entry["event"], entry["level"], entry["logger"]) for entry in logged] == [
        ("build", "info", "feedkit")
    ]
    assert logged[0]["message"].startswith("build: 1 review published, ")


def test_serve_logs_one_json_object_per_event(tmp_path: Path) -> None:
    """`serve --log-format json`: a failed and a good login are two 'admin' events."""
    write_site(tmp_path, {}, "")
    env = {**ENV, ADMIN_HASH_ENV: quick_hash(PASSWORD)}
    json_logs = ["--log-format", "json"]
    log_path = tmp_path / "serve.log"
    with (
        log_path.open("w") as log,
        serving(tmp_path, free_port(), env, options=json_logs, stdout=None, stderr=log) as url,
        httpx.Client(base_url=url) as client,
    ):
        editor_session(client)
    logged = entries(log_path.read_text(encoding="utf-8"))
    assert [(entry["event"], entry["level"], entry["message"]) for entry in logged] == [
        ("admin", "warning", "admin: login failed from 127.0.0.1 (wrong password)"),
        ("admin", "info", "admin: login from 127.0.0.1"),
    ]
