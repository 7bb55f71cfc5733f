"""Time `feedkit build`, its rebuilds, its CLI and its service against targets set by Hugo.

`python benchmarks/bench_build.py [--reviews 10000] [--runs 3] [--styles feedkit,hugo,...]
[--large] [--json FILE] [--seed 42]`

For every front-matter style (benchmarks/styles.py) a corpus is made by benchmarks/generate.py
under benchmarks/out/<N>-<style>/, or reused while its manifest says the same N, seed, style and
generator version (and it is under 30 days old, so its future-dated reviews are still ahead). Each
corpus is built cold by feedkit and by Hugo (benchmarks/hugo_site.py). The first style is the main
one: its corpus also has the rebuilds, `feedkit digest status`, the `feedkit run` service
(benchmarks/service_latency.py) and, with --large, a cold build of 100,000 reviews.

Every build is the real CLI in a fresh process (`python -m feedkit.cli --config ... build`), so
interpreter start-up and imports count; each figure is the median of --runs runs. Time is wall
time around the process; memory is that of its whole process tree (benchmarks/measure.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import hugo_site  # benchmarks/ is on sys.path when this runs as a script
import measure
from generate import GENERATOR_VERSION, MANIFEST_NAME
from measure import Measured
from report import Row, judge, print_table, write_json
from service_latency import measure_service
from styles import STYLES

import feedkit
from feedkit.config import Config, load_config

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GENERATOR = HERE / "generate.py"
MAX_CORPUS_AGE_DAYS = 30  # generate.py dates its future reviews at least 30 days ahead
LARGE_REVIEWS = 100_000


# -- the corpus ---------------------------------------------------------------------------------


def ensure_corpus(count: int, seed: int, style: str) -> tuple[Path, dict[str, object]]:
    """The site folder for `count` reviews in `style`, generated unless a matching one is there."""
    site = OUT / f"{count}-{style}"
    manifest = _read_manifest(site)
    if _manifest_matches(manifest, count, seed, style):
        print(f"Reusing the corpus in {_shown(site)}")
        return site, manifest
    shutil.rmtree(site, ignore_errors=True)
    started = time.perf_counter()
    command = [sys.executable, str(GENERATOR), str(count), str(site), "--seed", str(seed)]
    subprocess.run([*command, "--style", style], check=True, stdout=subprocess.DEVNULL)
    print(f"Generated {count:,} {style}-style reviews in {_shown(site)} in {_since(started)}")
    return site, _read_manifest(site)


def _read_manifest(site: Path) -> dict[str, object]:
    try:
        data = json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _manifest_matches(manifest: dict[str, object], count: int, seed: int, style: str) -> bool:
    made = (
        manifest.get("reviews"),
        manifest.get("seed"),
        manifest.get("style"),
        manifest.get("generator_version"),
    )
    if made != (count, seed, style, GENERATOR_VERSION):
        return False
    age = datetime.now(UTC).date() - date.fromisoformat(str(manifest.get("today")))
    return age.days < MAX_CORPUS_AGE_DAYS


# -- feedkit builds -----------------------------------------------------------------------------


def feedkit_command(config: Config, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "feedkit.cli", "--config", str(config.path), *arguments]


def reset_state(config: Config) -> None:
    """Forget everything between builds: the state database (with its WAL files) and the output."""
    database = config.database_path
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(config.output_dir, ignore_errors=True)


def output_mtimes(config: Config) -> dict[str, int]:
    root = config.output_dir
    files = (path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): path.stat().st_mtime_ns for path in files}


def rewritten(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Output files that are new, gone, or have a new mtime."""
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def warm_page_cache(content: Path) -> None:
    """Read every review file once, untimed. A cold build starts with no state and no output, not
    with files on disk: some machines page out file cache that sits idle (Linux DAMON's `pageout`),
    and whether a corpus was read a minute ago must not decide its figures."""
    for folder, _, names in os.walk(content):
        for name in names:
            Path(folder, name).read_bytes()


def cold_run(config: Config, row: Row) -> Measured | None:
    """One cold build, added to `row`; None once the row has crashed."""
    if row.crashed:
        return None
    reset_state(config)
    warm_page_cache(config.content_dir)
    measured = measure.run_measured(feedkit_command(config, "build"))
    return measured if row.record(measured) else None


def finish_cold(row: Row, last: Measured | None) -> Row:
    if last is not None:
        row.notes.append(_last_line(last.stdout))
        row.notes.append(f"{row.processes} processes in the build's tree")
        row.notes += _stderr_summary(last.stderr)
    return row


def bench_cold(config: Config, runs: int, row: Row) -> Row:
    last = None
    for _ in range(runs):
        last = cold_run(config, row) or last
    return finish_cold(row, last)


def memory_row(cold: Row) -> Row:
    """The cold build's peak memory as a row of its own, judged against Hugo's peak."""
    row = Row(f"memory/{cold.style}", f"peak memory, cold build, {cold.style}", cold.style)
    row.peaks_kib, row.concurrent_kib = cold.peaks_kib, cold.concurrent_kib
    row.processes, row.crashed, row.show_time = cold.processes, cold.crashed, False
    if cold.concurrent_kib:
        row.notes.append(f"lower bound (Σ RSS at one moment): {cold.concurrent_mib:.0f} MB")
    return row


def bench_unchanged(config: Config, runs: int) -> Row:
    row = Row("unchanged", "rebuild, nothing changed")
    touched: set[str] = set()
    for _ in range(runs):
        before = output_mtimes(config)
        if not row.record(measure.run_measured(feedkit_command(config, "build"))):
            break
        touched.update(rewritten(before, output_mtimes(config)))
    row.rewritten = len(touched)
    shown = f": {', '.join(sorted(touched)[:5])}" if touched else ""
    row.notes.append(f"{len(touched)} output files rewritten{shown}")
    return row


def bench_one_changed(config: Config, runs: int, review: Path) -> Row:
    row = Row("one", "rebuild, one review changed")
    original = review.read_bytes()
    counts: list[int] = []
    try:
        for number in range(1, runs + 1):
            text = original.decode("utf-8").rstrip("\n")
            sentence = f"On a second viewing (pass {number}) the transfer still holds up."
            review.write_text(f"{text} {sentence}\n", encoding="utf-8")
            before = output_mtimes(config)
            if not row.record(measure.run_measured(feedkit_command(config, "build"))):
                break
            counts.append(len(rewritten(before, output_mtimes(config))))
    finally:
        review.write_bytes(original)
    changed = review.relative_to(config.root)
    row.notes.append(f"changed {changed}; output files rewritten per run: {counts}")
    return row


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _stderr_summary(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return [f"{len(lines)} lines on stderr, first: {lines[0]}"] if lines else []


# -- Hugo ---------------------------------------------------------------------------------------


def hugo_run(hugo: hugo_site.HugoSite, row: Row) -> Measured | None:
    """One cold Hugo build, added to `row`; None once the row has crashed."""
    if row.crashed:
        return None
    hugo.reset()
    warm_page_cache(hugo.content)
    measured = measure.run_measured(hugo.command())
    return measured if row.record(measured) else None


def finish_hugo(row: Row, hugo: hugo_site.HugoSite, last: Measured | None, published: int) -> Row:
    """Hugo's feed items counted against feedkit's published reviews; its warnings noted."""
    if last is None:
        return row
    row.items = hugo_site.feed_items(hugo)
    if row.items is None:
        row.crashed = f"Hugo wrote no readable {hugo.feed.name}"
        return row
    difference = f" ({row.items - published:+,})" if row.items != published else ""
    counts = f"feed holds {row.items:,} items; feedkit publishes {published:,}"
    row.notes.append(counts + difference)
    warnings = hugo_site.warnings_in(last.stdout + last.stderr)
    if warnings:
        row.notes.append(f"{len(warnings)} warnings, first: {warnings[0]}")
    return row


# -- the CLI and the service --------------------------------------------------------------------


def cli_command() -> list[str]:
    """The `feedkit` script installed beside this Python, as users run it; else the module."""
    script = Path(sys.executable).with_name("feedkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "feedkit.cli"]


def bench_cli(key: str, name: str, arguments: list[str], runs: int) -> Row:
    row = Row(f"cli/{key}", name)
    for _ in range(runs):
        if not row.record(measure.run_measured([*cli_command(), *arguments])):
            break
    return row


def bench_service(site: Path, manifest: dict[str, object], runs: int, bound: float) -> Row:
    review = site / str(manifest["newest_published"])
    listed = manifest["newest_categories"]
    categories = [str(name) for name in listed] if isinstance(listed, list) else []
    latency = measure_service(site, review, categories, runs, bound)
    row = Row("service", "`feedkit run`: a saved review in its feeds")
    row.seconds, row.crashed, row.notes = latency.seconds, latency.crashed, latency.notes
    if latency.over_bound:
        passes = "pass" if latency.over_bound == 1 else "passes"
        row.notes.insert(0, f"{latency.over_bound} {passes} not done within {bound:g} s")
    if not latency.crashed and latency.median > bound:
        row.over_bound = bound
    return row


# -- the whole run ------------------------------------------------------------------------------


def bench_style(args: argparse.Namespace, style: str, binary: str | None) -> dict[str, Row]:
    """feedkit's and Hugo's cold builds of one corpus, taking turns: on a busy machine both
    builds of a pair see much the same load, which steadies the ratio."""
    site, manifest = ensure_corpus(args.reviews, args.seed, style)
    config = load_config(site / "config.toml")
    cold = Row(f"cold/{style}", f"cold build, {args.reviews:,}, {style}", style)
    yardstick = Row(f"hugo/{style}", f"Hugo home RSS, {style} (yardstick)", style)
    hugo = hugo_site.prepare(binary, site) if binary else None
    last_cold = last_hugo = None
    for _ in range(args.runs):
        last_cold = cold_run(config, cold) or last_cold
        if hugo is not None:
            last_hugo = hugo_run(hugo, yardstick) or last_hugo
    rows = {cold.key: _progress(finish_cold(cold, last_cold))}
    rows[f"memory/{style}"] = memory_row(cold)
    if hugo is not None:
        published = int(str(manifest["published"]))
        rows[yardstick.key] = _progress(finish_hugo(yardstick, hugo, last_hugo, published))
    return rows


def bench_main_style(args: argparse.Namespace, style: str) -> dict[str, Row]:
    """The runs made on the main style's corpus only (its cold build is already done)."""
    site, manifest = ensure_corpus(args.reviews, args.seed, style)
    config = load_config(site / "config.toml")
    newest = site / str(manifest["newest_published"])
    rows = [bench_unchanged(config, args.runs), bench_one_changed(config, args.runs, newest)]
    rows.append(bench_cli("help", "`feedkit --help`", ["--help"], args.cli_runs))
    status = ["--config", str(config.path), "digest", "status"]
    rows.append(bench_cli("digest-status", "`feedkit digest status`", status, args.cli_runs))
    if args.service_runs > 0:
        rows.append(bench_service(site, manifest, args.service_runs, args.service_bound))
    for row in rows:
        _progress(row)
    return {row.key: row for row in rows}


def bench_large(args: argparse.Namespace, style: str) -> Row:
    site, _ = ensure_corpus(LARGE_REVIEWS, args.seed, style)
    config = load_config(site / "config.toml")
    name = f"cold build, {LARGE_REVIEWS:,}, {style}"
    return _progress(bench_cold(config, args.runs, Row("large", name, style)))


def _progress(row: Row) -> Row:
    if row.crashed:
        figures = "crashed"
    elif row.over_bound is not None:
        figures = f"over {row.over_bound:g} s"
    else:
        figures = f"{row.median:.2f} s, {row.peak_mib:.0f} MB"
    print(f"  {row.name}: {figures}", flush=True)
    return row


def run_all(args: argparse.Namespace, hugo: str | None) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for style in args.styles:
        rows.update(bench_style(args, style, hugo))
    main_style = args.styles[0]
    if rows[f"cold/{main_style}"].crashed:
        print(f"  the cold build of the {main_style} style failed: its other runs are left out")
    else:
        rows.update(bench_main_style(args, main_style))
    if args.large:
        rows["large"] = bench_large(args, main_style)
    judge(rows, main_style)
    return rows


def about_run(args: argparse.Namespace, hugo: str | None) -> dict[str, object]:
    """What the figures were measured on, saved beside them in the JSON."""
    commit = subprocess.run(
        ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "feedkit": feedkit.__version__,
        "commit": commit or None,
        "hugo": hugo_site.hugo_version(hugo) if hugo else None,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "reviews": args.reviews,
        "runs": args.runs,
        "seed": args.seed,
        "generator_version": GENERATOR_VERSION,
        "styles": args.styles,
        "memory": measure.METHOD,
        "load_average_at_end": _load_average(),
    }


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--reviews", type=int, default=10_000, help="reviews per corpus (default 10000)")
    add("--runs", type=_positive, default=3, help="runs per build measurement; the median counts")
    add("--styles", type=_styles, default=list(STYLES), help="comma-separated; the first is main")
    add("--large", action="store_true", help=f"also a cold build of {LARGE_REVIEWS:,} reviews")
    add("--seed", type=int, default=42, help="the generator's random seed (default 42)")
    add("--cli-runs", type=_positive, default=10, help="runs of each CLI command (default 10)")
    add("--service-runs", type=int, default=5, help="saves timed in the service (0: skip it)")
    add("--service-bound", type=float, default=10.0, help="seconds a save may take (default 10)")
    add("--json", type=Path, metavar="FILE", help="also write the results to FILE as JSON")
    return parser.parse_args()


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number of runs; give 1 or more")
    return number


def _styles(text: str) -> list[str]:
    styles = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in styles if name not in STYLES]
    if unknown or not styles:
        raise argparse.ArgumentTypeError(f"styles are {', '.join(STYLES)}; not {unknown}")
    return styles


def main() -> None:
    args = parse_arguments()
    hugo = hugo_site.find_hugo()
    print(f"{os.cpu_count()} cores; {args.runs} runs each; memory: {measure.METHOD}.")
    if not measure.can_sample():
        print("This kernel does not list child processes in /proc: memory is the first process's")
    if hugo is None:
        print("hugo is not on PATH (Debian package `hugo`): no yardstick, ratios left out")
    else:
        print(f"Hugo {hugo_site.hugo_version(hugo)} builds every corpus too.")
    rows = run_all(args, hugo)
    print_table(rows)
    if args.json:
        write_json(args.json, about_run(args, hugo), rows)
        print(f"\nWrote {args.json}")


def _load_average() -> list[float] | None:
    try:
        return [float(value) for value in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
