"""Time `feedkit bounces ingest --maildir` on many bounces of a digest to a large list.

`python benchmarks/bench_bounces.py [--subscribers 10000] [--bounces 2000]`

A digest is frozen for every subscriber; then a maildir gets that many delivery-status reports,
a half traced by the bounce token, a quarter by the original's Message-ID and a quarter by the
address alone. The real CLI reads the maildir in a new process, twice: the second time every
message was read before. Tracing works out each digest's recipients once per run, so the time
per message does not grow with the list.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedkit.config import load_config  # noqa: E402
from feedkit.newsletter.messages import DigestMessages  # noqa: E402
from tests.returned_mail import dsn  # noqa: E402
from tests.state_setup import add_readers, freeze  # noqa: E402

SECRET = "benchmark-secret-not-for-production"  # noqa: S105 - a throwaway value for a benchmark
CONFIG = """\
[site]
title = "Bench"
base_url = "https://bench.example.org/"
[digest]
from_address = "digest@bench.example.org"
bounce_address = "bounces+{token}@bench.example.org"
"""


def prepare(root: Path, subscribers: int) -> DigestMessages:
    (root / "content").mkdir()
    (root / "config.toml").write_text(CONFIG, "utf-8")
    config = load_config(root / "config.toml")
    add_readers(config, [f"reader{number:06d}@example.org" for number in range(subscribers)])
    return freeze(config, datetime.now(UTC).replace(microsecond=0), SECRET)


def fill_maildir(folder: Path, messages: DigestMessages, bounces: int, subscribers: int) -> None:
    for name in ("new", "cur", "tmp"):
        (folder / name).mkdir(parents=True)
    step = max(1, subscribers // bounces)
    for number in range(bounces):
        address = f"reader{number * step % subscribers:06d}@example.org"
        if number % 2 == 0:
            data = dsn(to=messages.envelope_sender(address), recipient=address)
        elif number % 4 == 1:
            message_id = messages.build(address).message_id
            data = dsn(to="digest@bench.example.org", recipient=address, message_id=message_id)
        else:
            data = dsn(to="digest@bench.example.org", recipient=address)
        (folder / "new" / f"{number:06d}.bench").write_bytes(data)


def ingest(root: Path, maildir: Path) -> tuple[float, str]:
    command = [sys.executable, "-m", "feedkit.cli", "bounces", "ingest", "--maildir", str(maildir)]
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--bounces", type=int, default=2_000)
    arguments = parser.parse_args()
    os.environ["FEEDKIT_SECRET"] = SECRET
    with tempfile.TemporaryDirectory(prefix="feedkit-bench-bounces-") as folder:
        root = Path(folder)
        messages = prepare(root, arguments.subscribers)
        fill_maildir(root / "Maildir", messages, arguments.bounces, arguments.subscribers)
        for label in ("first read", "read again"):
            seconds, summary = ingest(root, root / "Maildir")
            rate = arguments.bounces / seconds
            print(f"{label}: {seconds:.2f} s, {rate:,.0f} messages/s — {summary}")


if __name__ == "__main__":
    main()
