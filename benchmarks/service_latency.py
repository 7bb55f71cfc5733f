"""How long `feedkit run` takes to put a saved review into its feeds.

The service runs on the corpus with a config of its own (output in public-service/, state in
.feedkit/service.db, builds on a ten-minute cron, no digest). Once its first build is done, each
pass appends a sentence with a new marker to the newest published review and waits until both
the site's feed.xml and that review's category feed have a new mtime and hold the marker. A pass
that takes longer than the bound is counted as over it; once more than half are, the median is
known to be over the bound and the rest are not waited for.
"""

from __future__ import annotations

import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from generate import slugify

SERVICE_CONFIG = "service.toml"
SERVICE_OUTPUT = "public-service"
SERVICE_DATABASE = ".feedkit/service.db"
SERVICE_SETTINGS = f"""
[schedule]
build = "*/10 * * * *"
digest = ""

[state]
database = "{SERVICE_DATABASE}"
"""
FIRST_BUILD_BOUND = 300.0  # seconds: the service's first build of the whole corpus
QUIET_SECONDS = 2.0  # an output folder unchanged this long holds a finished build
POLL_SECONDS = 0.005
PAUSE_SECONDS = 1.0  # between passes, so a debouncing watcher starts each pass idle
_BUILD_LOGGED = re.compile(r" build: .* written")


@dataclass(slots=True)
class Latency:
    """The passes that finished within the bound, and how many did not."""

    bound: float
    seconds: list[float] = field(default_factory=list)
    over_bound: int = 0
    notes: list[str] = field(default_factory=list)
    crashed: str | None = None

    @property
    def median(self) -> float:
        """The median pass; infinite when it is over the bound."""
        passes = self.seconds + [float("inf")] * self.over_bound
        return statistics.median(passes) if passes else float("nan")


def write_service_config(corpus: Path) -> Path:
    """The corpus's config with the service's own output, state and schedule."""
    text = (corpus / "config.toml").read_text(encoding="utf-8")
    text = text.replace("[feeds]\n", f'[feeds]\noutput_dir = "{SERVICE_OUTPUT}"\n', 1)
    path = corpus / SERVICE_CONFIG
    path.write_text(text + SERVICE_SETTINGS, encoding="utf-8")
    return path


def reset_service(corpus: Path) -> None:
    """A cold start: no output and no state."""
    for suffix in ("", "-wal", "-shm"):
        (corpus / (SERVICE_DATABASE + suffix)).unlink(missing_ok=True)
    shutil.rmtree(corpus / SERVICE_OUTPUT, ignore_errors=True)


def watched_feeds(corpus: Path, categories: list[str]) -> list[Path]:
    """The site's RSS feed and the review's first category's: both must show the change."""
    output = corpus / SERVICE_OUTPUT
    return [output / "feed.xml", output / "categories" / slugify(categories[0]) / "feed.xml"]


def measure_service(
    corpus: Path,
    review: Path,
    categories: list[str],
    runs: int,
    bound: float,
) -> Latency:
    """Start the service, wait for its first build, then time `runs` saves of `review`."""
    result = Latency(bound)
    config = write_service_config(corpus)
    reset_service(corpus)
    log_path = corpus / ".feedkit" / "service-bench.log"
    log_path.parent.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "feedkit.cli", "--config", str(config), "run"]
    original = review.read_bytes()
    with log_path.open("w") as log:
        service = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            started = time.perf_counter()
            result.crashed = wait_for_first_build(service, corpus, log_path)
            if result.crashed is None:
                first = time.perf_counter() - started
                result.notes.append(f"the service's first build was done after {first:.1f} s")
                time_passes(review, watched_feeds(corpus, categories), runs, result)
        finally:
            review.write_bytes(original)
            stop(service)
    watched = _shown(corpus, categories)
    result.notes.append(f"saved {review.relative_to(corpus)}; watched {watched}")
    return result


def _shown(corpus: Path, categories: list[str]) -> str:
    return ", ".join(str(path.relative_to(corpus)) for path in watched_feeds(corpus, categories))


def wait_for_first_build(
    service: subprocess.Popen[bytes],
    corpus: Path,
    log_path: Path,
) -> str | None:
    """None once the first build is done (logged, or the output quiet); else why not."""
    feed = corpus / SERVICE_OUTPUT / "feed.xml"
    started = time.perf_counter()
    last_change, last_state = started, None
    while time.perf_counter() - started < FIRST_BUILD_BOUND:
        if service.poll() is not None:
            return f"the service stopped (exit {service.returncode}): {_log_tail(log_path)}"
        if _BUILD_LOGGED.search(log_path.read_text(encoding="utf-8", errors="replace")):
            return None
        state = _output_state(corpus / SERVICE_OUTPUT)
        now = time.perf_counter()
        if state != last_state:
            last_change, last_state = now, state
        elif feed.exists() and now - last_change >= QUIET_SECONDS:
            return None
        time.sleep(0.1)
    return f"no first build within {FIRST_BUILD_BOUND:.0f} s: {_log_tail(log_path)}"


def _output_state(output: Path) -> frozenset[tuple[str, int | None]]:
    if not output.exists():
        return frozenset()
    files = (path for path in output.rglob("*") if path.is_file())
    return frozenset((str(path), _mtime(path)) for path in files)


def _log_tail(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(lines[-3:]) or "(nothing logged)"


def time_passes(review: Path, feeds: list[Path], runs: int, result: Latency) -> None:
    """Save the review `runs` times; time each save until every feed carries it."""
    for number in range(1, runs + 1):
        marker = f"Saved again for the service benchmark, pass {number} at {time.time():.0f}."
        before = {feed: _mtime(feed) for feed in feeds}
        text = review.read_text(encoding="utf-8").rstrip("\n")
        started = time.perf_counter()
        review.write_text(f"{text} {marker}\n", encoding="utf-8")
        seconds = _wait_for(marker, before, result.bound, started)
        if seconds is None:
            result.over_bound += 1
            if result.over_bound > runs // 2:
                passes = "pass" if number == 1 else "passes"
                result.notes.append(
                    f"stopped after {number} {passes}: the median is over the bound"
                )
                return
        else:
            result.seconds.append(seconds)
        time.sleep(PAUSE_SECONDS)


def _wait_for(
    marker: str,
    before: dict[Path, int | None],
    bound: float,
    started: float,
) -> float | None:
    """Seconds from the save until every feed is rewritten with the marker; None past the bound."""
    pending = set(before)
    while pending:
        if time.perf_counter() - started > bound:
            return None
        pending = {feed for feed in pending if not _rewritten_with(feed, marker, before[feed])}
        if pending:
            time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def _rewritten_with(feed: Path, marker: str, mtime_before: int | None) -> bool:
    if _mtime(feed) == mtime_before:
        return False
    try:
        return marker in feed.read_text(encoding="utf-8")
    except OSError:  # replaced or removed between the two looks
        return False


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def stop(service: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the service finishes what it is doing), then SIGKILL if it does not end."""
    if service.poll() is not None:
        return
    service.send_signal(signal.SIGTERM)
    try:
        service.wait(timeout=60)
    except subprocess.TimeoutExpired:
        service.kill()
        service.wait()
