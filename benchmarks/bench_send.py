"""Time `feedkit digest send` to many recipients: SMTP to a local sink, and the file transport.

`python benchmarks/bench_send.py [--recipients 10000] [--runs 3] [--connections 1 4]`

The sink is Postfix's `smtp-sink` (Debian package `postfix`) when installed, else aiosmtpd's Sink
handler in a subprocess (slower: then the sink, not feedkit, may set the pace). Each run starts
from the same prepared state database (subscribers imported, no digest yet), so every run freezes
and sends one whole digest. The real CLI runs in a new process; wall time and peak memory
(ru_maxrss,
via `/usr/bin/time -f "%e %M"`) are taken around it. Memory is also measured at a fifth of the
recipients, to show it does not grow with them beyond the subscriber rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A throwaway value for a benchmark on this machine.
SECRET = "benchmark-secret-not-for-production"  # noqa: S105
GNU_TIME = Path("/usr/bin/time")
REVIEWS = 200
ITEMS = 25  # reviews per digest: makes a digest of roughly 50 KB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink(port: int) -> tuple[subprocess.Popen[bytes], str]:
    sink = shutil.which("smtp-sink") or (
        "/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None
    )
    if sink:
        command = [sink, "-u", "nobody", f"127.0.0.1:{port}", "1024"]
        name = "Postfix smtp-sink"
    else:
        command = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
        name = "aiosmtpd Sink (Postfix's smtp-sink is not installed)"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, name
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"the SMTP sink did not start on port {port}")


def prepare_site(root: Path, recipients: int, port: int, connections: int, transport: str) -> Path:
    """A generated site with a ≈50 KB digest and `recipients` subscribers; returns its config
    path."""
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(REVIEWS), str(root)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    config = root / "config.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[digest]\nfrom_address = "digest@bench.example.org"\nlookback_days = 4000\n'
        + f"max_items = {ITEMS}\n"
        + f'transport = "{transport}"\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        + 'security = "none"\n'
        + f"connections = {connections}\n",
        encoding="utf-8",
    )
    people = root / "people.csv"
    people.write_text(
        "".join(f"reader{number:06d}@bench.example.org\n" for number in range(recipients)), "utf-8"
    )
    run_cli(config, "subscribers", "import", str(people))
    return config


def run_cli(config: Path, *args: str) -> tuple[float, int]:
    """Run feedkit; return (wall seconds, peak KiB)."""
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    command = [sys.executable, "-m", "feedkit.cli", "--config", str(config), *args]
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-f", "%e %M", *command]
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(
            f"feedkit {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    peak = int(completed.stderr.strip().splitlines()[-1].split()[1]) if GNU_TIME.exists() else 0
    return seconds, peak


def measure(config: Path, runs: int) -> tuple[float, int, int]:
    """Median seconds, peak KiB over the runs, digest size in bytes; each run from the prepared
    state."""
    database = config.parent / ".feedkit" / "state.db"
    prepared = database.with_suffix(".prepared")
    shutil.copy(database, prepared)
    times, peaks = [], []
    for _ in range(runs):
        for suffix in ("-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
        shutil.copy(prepared, database)
        shutil.rmtree(config.parent / "outbox", ignore_errors=True)
        shutil.rmtree(config.parent / "public", ignore_errors=True)
        seconds, peak = run_cli(config, "digest", "send", "--yes")
        times.append(seconds)
        peaks.append(peak)
    archive = next((config.parent / "public" / "digests").glob("*.html"))
    return statistics.median(times), max(peaks), archive.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4])
    options = parser.parse_args()
    port = free_port()
    sink, sink_name = start_sink(port)
    rows: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for connections in options.connections:
                rows += smtp_rows(Path(scratch) / f"smtp{connections}", options, port, connections)
            rows += file_rows(Path(scratch) / "file", options)
    finally:
        sink.terminate()
        sink.wait()
    print(f"Sink: {sink_name}; {options.runs} runs each, median time, highest peak memory.\n")
    print("| run | recipients | median s | messages/s | peak MB | digest KB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))


def smtp_rows(root: Path, options: argparse.Namespace, port: int, connections: int) -> list[str]:
    rows = []
    for recipients in (options.recipients // 5, options.recipients):
        config = prepare_site(root / str(recipients), recipients, port, connections, "smtp")
        seconds, peak, size = measure(config, options.runs)
        rows.append(_row(f"SMTP, {connections} connection(s)", recipients, seconds, peak, size))
    return rows


def file_rows(root: Path, options: argparse.Namespace) -> list[str]:
    config = prepare_site(root, options.recipients, 0, 1, "file")
    seconds, peak, size = measure(config, options.runs)
    return [_row("file transport", options.recipients, seconds, peak, size)]


def _row(name: str, recipients: int, seconds: float, peak_kib: int, size: int) -> str:
    rate = recipients / seconds if seconds else float("nan")
    cells = [name, f"{recipients:,}", f"{seconds:.2f}", f"{rate:,.0f}"]
    cells += [f"{peak_kib / 1024:.0f}", f"{size / 1024:.0f}"]
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
