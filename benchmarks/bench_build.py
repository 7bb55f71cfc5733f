"""Time `feedkit build` on a generated site: a cold build, an unchanged rebuild, a one-review
rebuild.

`python benchmarks/bench_build.py [--reviews 10000] [--runs 3] [--large] [--seed 42]`

The corpus is made by benchmarks/generate.py under benchmarks/out/<N>/ and reused while its
manifest
says the same N, seed and generator version (and it is under 30 days old, so its future-dated
reviews
are still in the future). Every build runs the real CLI in a fresh process,
`python -m feedkit.cli --config out/<N>/config.toml build`; each figure is the median of --runs
runs.

Wall time is measured here, around the whole child process (interpreter start-up and imports
included).
Peak memory is the child's maximum resident set size as the kernel counts it (ru_maxrss, i.e.
VmHWM),
read by `/usr/bin/time -f "%e %M"` (Debian package `time`) when it is installed. Without it, the
same
number comes from os.wait4(), which returns the rusage of that one child. Either way it is exact
per
build, needs no polling, and cannot mix up children; "peak MB" is the highest of the runs, in MiB.

If `hugo` is on PATH, it builds the same content writing only its home RSS feed, for scale only:
its feed has summaries, no category feeds, and Hugo 0.111 reads "2024-02-28 19:30" as no date.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from generate import (
    GENERATOR_VERSION,
    MANIFEST_NAME,
)  # benchmarks/ is on sys.path when run as a script

from feedkit.config import Config, load_config

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GENERATOR = HERE / "generate.py"
MAX_CORPUS_AGE_DAYS = 30  # generate.py dates its future reviews at least 30 days ahead
GNU_TIME = Path("/usr/bin/time")
LARGE_REVIEWS = 100_000


@dataclass(frozen=True, slots=True)
class Measured:
    """One finished build: how long it took, its peak memory, and what it printed."""

    seconds: float
    peak_kib: int
    returncode: int
    stdout: str
    stderr: str


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    name: str
    target: str
    seconds: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    crashed: str | None = None
    rewritten: int | None = None  # output files rewritten over all runs, where that is checked

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def peak_mib(self) -> float:
        return max(self.peaks_kib) / 1024 if self.peaks_kib else float("nan")


# -- the corpus ---------------------------------------------------------------------------------


def ensure_corpus(count: int, seed: int) -> tuple[Path, dict[str, object]]:
    """The site folder for `count` reviews, generated unless a matching one is already there."""
    site = OUT / str(count)
    manifest = _read_manifest(site)
    if _manifest_matches(manifest, count, seed):
        print(f"Reusing the corpus in {_shown(site)} ({count} reviews, seed {seed})")
        return site, manifest
    shutil.rmtree(site, ignore_errors=True)
    started = time.perf_counter()
    command = [sys.executable, str(GENERATOR), str(count), str(site), "--seed", str(seed)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"Generated {count} reviews in {_shown(site)} in {time.perf_counter() - started:.1f} s")
    return site, _read_manifest(site)


def _read_manifest(site: Path) -> dict[str, object]:
    try:
        data = json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _manifest_matches(manifest: dict[str, object], count: int, seed: int) -> bool:
    if (manifest.get("reviews"), manifest.get("seed"), manifest.get("generator_version")) != (
        count,
        seed,
        GENERATOR_VERSION,
    ):
        return False
    made = date.fromisoformat(str(manifest.get("today")))
    return (datetime.now(UTC).date() - made).days < MAX_CORPUS_AGE_DAYS


# -- running one build --------------------------------------------------------------------------


def run_build(config: Config) -> Measured:
    """Run the real CLI once in a new process; measure its wall time and peak RSS."""
    command = [sys.executable, "-m", "feedkit.cli", "--config", str(config.path), "build"]
    if GNU_TIME.is_file():
        return _run_with_gnu_time(command)
    return _run_with_wait4(command)


def _run_with_gnu_time(command: list[str]) -> Measured:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        timed = [str(GNU_TIME), "-f", "%e %M", "-o", report.name, *command]
        started = time.perf_counter()
        done = subprocess.run(timed, check=False, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_kib = int(report.read().split()[-1])
    return Measured(seconds, peak_kib, done.returncode, done.stdout, done.stderr)


def _run_with_wait4(command: list[str]) -> Measured:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(seconds, usage.ru_maxrss, child.returncode, out.read(), err.read())


def record(row: Row, measured: Measured) -> bool:
    """Add one run to its row; a failed build marks the row as crashed and stops the scenario."""
    if measured.returncode != 0:
        row.crashed = (
            f"exit {measured.returncode}: {measured.stderr.strip() or measured.stdout.strip()}"
        )
        return False
    row.seconds.append(measured.seconds)
    row.peaks_kib.append(measured.peak_kib)
    return True


# -- the scenarios ------------------------------------------------------------------------------


def reset_state(config: Config) -> None:
    """Forget everything between builds: the state database (with its WAL files) and the output."""
    database = config.database_path
    for path in (
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    ):
        path.unlink(missing_ok=True)
    shutil.rmtree(config.output_dir, ignore_errors=True)


def output_mtimes(config: Config) -> dict[str, int]:
    root = config.output_dir
    return {
        str(path.relative_to(root)): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file()
    }


def rewritten(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Output files that are new, gone, or have a new mtime."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def bench_cold(config: Config, runs: int, name: str, target: str) -> Row:
    row = Row(name, target)
    for _ in range(runs):
        reset_state(config)
        measured = run_build(config)
        if not record(row, measured):
            break
    if row.seconds:
        row.notes.append(_last_line(measured.stdout))
        row.notes += _warning_summary(measured.stderr)
    return row


def bench_unchanged(config: Config, runs: int) -> Row:
    row = Row("rebuild, nothing changed", "≤ 0.25 s & no file rewritten")
    touched: set[str] = set()
    for _ in range(runs):
        before = output_mtimes(config)
        if not record(row, run_build(config)):
            break
        touched.update(rewritten(before, output_mtimes(config)))
    row.rewritten = len(touched)
    row.notes.append(
        f"{len(touched)} output files rewritten"
        + (f": {', '.join(sorted(touched)[:5])}" if touched else "")
    )
    return row


def bench_one_changed(config: Config, runs: int, review: Path) -> Row:
    row = Row("rebuild, one review changed", "≤ 0.3 s")
    original = review.read_bytes()
    counts: list[int] = []
    try:
        for number in range(1, runs + 1):
            text = original.decode("utf-8").rstrip("\n")
            review.write_text(
                f"{text} On a second viewing (pass {number}) the transfer still holds up.\n",
                "utf-8",
            )
            before = output_mtimes(config)
            if not record(row, run_build(config)):
                break
            counts.append(len(rewritten(before, output_mtimes(config))))
    finally:
        review.write_bytes(original)
    row.notes.append(
        f"changed {review.relative_to(config.root)}; output files rewritten per run: {counts}"
    )
    return row


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _warning_summary(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return [f"{len(lines)} lines on stderr, first: {lines[0]}"] if lines else []


# -- hugo, for comparison -----------------------------------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Bench Reviews"
contentDir = "../content"
publishDir = "../hugo-public"
disableKinds = ["section", "taxonomy", "term", "sitemap", "robotsTXT", "404"]
[outputs]
home = ["rss"]
[services.rss]
limit = 50
[[cascade]]
[cascade.build]
render = "never"
list = "always"
"""


def bench_hugo(site: Path, runs: int) -> Row | str:
    """`hugo` writing only the home RSS feed of the same content; a reason string when skipped."""
    hugo = shutil.which("hugo")
    if hugo is None:
        return "hugo: not on PATH (Debian package `hugo`), comparison skipped"
    source = site / "hugo"
    source.mkdir(exist_ok=True)
    (source / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    row = Row("hugo, home RSS only (for scale)", "none")
    for _ in range(runs):
        shutil.rmtree(site / "hugo-public", ignore_errors=True)
        command = [hugo, "--source", str(source), "--quiet"]
        measured = _run_with_gnu_time(command) if GNU_TIME.is_file() else _run_with_wait4(command)
        if not record(row, measured):
            return f"hugo: failed, comparison skipped ({row.crashed})"
    if not (site / "hugo-public" / "index.xml").is_file():
        return "hugo: built no index.xml with the minimal config, comparison skipped"
    return row


# -- the report ---------------------------------------------------------------------------------


def verdicts(rows: dict[str, Row], cold_10k: Row | None) -> dict[str, str]:
    checks: dict[str, Callable[[Row], bool]] = {
        "cold": lambda row: row.median <= 1.8 and row.peak_mib <= 180,
        "unchanged": lambda row: row.median <= 0.25 and row.rewritten == 0,
        "one": lambda row: row.median <= 0.3,
        "large": lambda row: (
            cold_10k is not None and row.median <= 11 * cold_10k.median and row.peak_mib <= 400
        ),
    }
    result = {}
    for key, row in rows.items():
        if row.crashed:
            result[key] = "CRASH"
        elif key in checks:
            result[key] = "pass" if checks[key](row) else "FAIL"
        else:
            result[key] = "-"
    return result


def print_table(rows: dict[str, Row], cold_10k: Row | None) -> None:
    judged = verdicts(rows, cold_10k)
    print("\n| run | median wall s | peak MB | target | verdict |")
    print("| --- | ---: | ---: | --- | --- |")
    for key, row in rows.items():
        print(
            f"| {row.name} | {row.median:.2f} | {row.peak_mib:.0f} | {row.target} | {judged[key]} "
            "|"
        )
    print()
    for row in rows.values():
        for note in ([f"CRASH: {row.crashed}"] if row.crashed else []) + row.notes:
            print(f"- {row.name}: {note}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- main ---------------------------------------------------------------------------------------


def run_all(args: argparse.Namespace) -> tuple[dict[str, Row], Row | None, list[str]]:
    site, manifest = ensure_corpus(args.reviews, args.seed)
    config = load_config(site / "config.toml")
    runs = args.runs
    cold = bench_cold(config, runs, f"cold full build ({args.reviews:,})", "≤ 1.8 s & ≤ 180 MB")
    rows = {"cold": cold}
    if not cold.crashed:
        rows["unchanged"] = bench_unchanged(config, runs)
        rows["one"] = bench_one_changed(config, runs, site / str(manifest["newest_published"]))
    messages: list[str] = []
    hugo = bench_hugo(site, runs)
    if isinstance(hugo, Row):
        rows["hugo"] = hugo
    else:
        messages.append(hugo)
    if args.large:
        rows["large"] = bench_large(args, cold)
    return rows, cold, messages


def bench_large(args: argparse.Namespace, cold: Row) -> Row:
    site, _ = ensure_corpus(LARGE_REVIEWS, args.seed)
    config = load_config(site / "config.toml")
    target = f"≤ 11× the {args.reviews:,} cold ({11 * cold.median:.1f} s) & ≤ 400 MB"
    return bench_cold(config, args.runs, f"cold full build ({LARGE_REVIEWS:,})", target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reviews", type=int, default=10_000, help="reviews in the corpus (default 10000)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per measurement; the median is reported"
    )
    parser.add_argument(
        "--large", action="store_true", help=f"also a cold build of {LARGE_REVIEWS:,} reviews"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="the generator's random seed (default 42)"
    )
    args = parser.parse_args()
    how = (
        "/usr/bin/time %M"
        if GNU_TIME.is_file()
        else "os.wait4 ru_maxrss (/usr/bin/time is not installed)"
    )
    print(f"Peak memory from {how}; {args.runs} runs each.")
    rows, cold, messages = run_all(args)
    print_table(rows, cold)
    for message in messages:
        print(f"- {message}")


if __name__ == "__main__":
    main()
