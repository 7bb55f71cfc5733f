"""Send one digest to 10,000 readers of a relay 30 ms away: directly, and through a local Postfix.

`python benchmarks/bench_relay.py [--recipients 10000] [--delay-ms 30] [--connections 1 4 8]
    [--pipelining on off] [--postfix] [--dkim]`

The relay is an aiosmtpd sink that offers PIPELINING, as real relays do, behind
`latency_proxy.py`, which delays every byte `--delay-ms` each way (a round trip costs twice that).
Each run is the real CLI (`python -m feedkit.cli digest send --yes`) in a new process, on a
generated site whose digest is about 50 KB, from the same prepared state (subscribers imported, no
digest yet). "direct" runs send to the proxy with N connections, with and without pipelining;
"via Postfix" sends to a private Postfix instance on loopback (Debian package `postfix`, run as
root) configured from deploy/postfix/main.cf with the proxy as its relayhost, and reports both
when feedkit was done (hand-off) and when the sink held every message. `--dkim` adds a direct run
that signs every message (see [dkim]) and the in-process cost of one signature.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# A throwaway value for a benchmark on this machine.
SECRET = "benchmark-secret-not-for-production"  # noqa: S105
REVIEWS = 200
ITEMS = 25  # reviews per digest: a digest of roughly 50 KB
POSTFIX = Path("/usr/sbin/postfix")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, what: str) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start on port {port}")


class CountingSink:
    """aiosmtpd hooks: accept everything, count it, offer PIPELINING (aiosmtpd reads pipelined
    commands in order but does not advertise it)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's name for the hook
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        del server, envelope
        session.host_name = hostname
        responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        del server, session, envelope
        with self.lock:
            self.count += 1
        return "250 OK"


@contextmanager
def distant_sink(delay_ms: float) -> Iterator[tuple[int, CountingSink]]:
    """A sink on loopback and the proxy in front of it; yields the proxy's port and the sink."""
    sink = CountingSink()
    sink_port, proxy_port = free_port(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    target = f"127.0.0.1:{sink_port}"
    command = [sys.executable, str(HERE / "latency_proxy.py"), str(proxy_port), target]
    proxy = subprocess.Popen([*command, "--delay-ms", str(delay_ms)])
    try:
        wait_for_port(proxy_port, "the latency proxy")
        yield proxy_port, sink
    finally:
        proxy.terminate()
        proxy.wait()
        controller.stop()


def generate_site(root: Path, recipients: int) -> None:
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(REVIEWS), str(root)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    people = root / "people.csv"
    people.write_text(
        "".join(f"reader{number:06d}@bench.example.org\n" for number in range(recipients)), "utf-8"
    )


def configure(root: Path, port: int, connections: int, pipelining: bool, dkim: str) -> Path:
    """config.toml for one run: the generated site's, with the digest and SMTP settings added."""
    base = (root / "config.base.toml").read_text(encoding="utf-8")
    config = root / "config.toml"
    config.write_text(
        base
        + '\n[digest]\nfrom_address = "digest@bench.example.org"\nlookback_days = 4000\n'
        + f'max_items = {ITEMS}\ntransport = "smtp"\n'
        + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        + f"connections = {connections}\npipelining = {str(pipelining).lower()}\n"
        + dkim,
        encoding="utf-8",
    )
    return config


def prepare(root: Path, recipients: int) -> Path:
    """A site with `recipients` subscribers and no digest yet; returns the saved state."""
    generate_site(root, recipients)
    shutil.copy(root / "config.toml", root / "config.base.toml")
    config = configure(root, 25, 1, True, "")
    run_cli(config, "subscribers", "import", str(root / "people.csv"))
    prepared = root / "state.prepared"
    shutil.copy(root / ".feedkit" / "state.db", prepared)
    return prepared


def run_cli(config: Path, *args: str) -> float:
    env = {**os.environ, "FEEDKIT_SECRET": SECRET}
    command = [sys.executable, "-m", "feedkit.cli", "--config", str(config), *args]
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"feedkit {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")
    return seconds


def timed_send(config: Path, prepared: Path) -> float:
    """One whole digest from the prepared state; wall seconds around the CLI."""
    database = config.parent / ".feedkit" / "state.db"
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    shutil.copy(prepared, database)
    shutil.rmtree(config.parent / "public", ignore_errors=True)
    return run_cli(config, "digest", "send", "--yes")


def row(name: str, recipients: int, seconds: float, note: str = "") -> str:
    cells = [name, f"{recipients:,}", f"{seconds:.1f}", f"{recipients / seconds:,.1f}", note]
    return "| " + " | ".join(cells) + " |"


# -- a private Postfix on loopback ------------------------------------------------------------


def master_cf(port: int) -> str:
    """Debian's master.cf, smtpd on `port`, nothing chrooted (the queue is a scratch folder)."""
    lines = []
    for line in Path("/usr/share/postfix/master.cf.dist").read_text("utf-8").splitlines():
        fields = line.split()
        if line[:1].isalnum() and len(fields) >= 8:
            fields[4] = "n"
            if fields[:2] == ["smtp", "inet"]:
                fields[0] = f"127.0.0.1:{port}"
            lines.append(" ".join(fields))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


@contextmanager
def local_postfix(relay_port: int) -> Iterator[int]:
    """deploy/postfix/main.cf with the proxy as relayhost, no login or TLS (the sink has
    neither), its queue in a scratch folder; yields the port it listens on."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="feedkit-postfix-") as scratch:
        folder = Path(scratch)
        folder.chmod(0o755)  # Postfix's own user must reach its queue and data folders
        config_dir, queue, data = folder / "etc", folder / "queue", folder / "data"
        for path in (config_dir, queue, data):
            path.mkdir()
        shutil.chown(data, "postfix")
        shutil.copy(ROOT / "deploy" / "postfix" / "main.cf", config_dir / "main.cf")
        (config_dir / "master.cf").write_text(master_cf(port), encoding="utf-8")
        overrides = {
            "myhostname": "bench.localdomain",
            "relayhost": f"[127.0.0.1]:{relay_port}",
            "smtp_sasl_auth_enable": "no",
            "smtp_tls_security_level": "none",
            "queue_directory": str(queue),
            "data_directory": str(data),
            "inet_protocols": "ipv4",
        }
        settings = [f"{key}={value}" for key, value in overrides.items()]
        subprocess.run(["postconf", "-c", str(config_dir), "-e", *settings], check=True)
        subprocess.run([str(POSTFIX), "-c", str(config_dir), "start"], check=True)
        try:
            wait_for_port(port, "Postfix")
            yield port
        finally:
            subprocess.run([str(POSTFIX), "-c", str(config_dir), "abort"], check=False)


def via_postfix(root: Path, prepared: Path, relay_port: int, sink: CountingSink) -> str:
    recipients = int((root / "recipients").read_text())
    with local_postfix(relay_port) as port:
        config = configure(root, port, 4, True, "")
        before = sink.count
        started = time.perf_counter()
        handoff = timed_send(config, prepared)
        while sink.count - before < recipients:
            if time.perf_counter() - started > 3600:
                raise SystemExit(f"Postfix relayed {sink.count - before} of {recipients} in 1 h")
            time.sleep(0.2)
        total = time.perf_counter() - started
    note = f"feedkit handed off in {handoff:.1f} s ({recipients / handoff:,.0f}/s)"
    return row("via local Postfix (feedkit: 4 connections)", recipients, total, note)


# -- the runs -----------------------------------------------------------------------------------


def direct(config: Path, prepared: Path, sink: CountingSink, name: str, recipients: int) -> str:
    before = sink.count
    seconds = timed_send(config, prepared)
    arrived = sink.count - before
    note = "" if arrived == recipients else f"only {arrived:,} arrived"
    return row(name, recipients, seconds, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--delay-ms", type=float, default=30.0, help="one way (default 30)")
    parser.add_argument("--connections", type=int, nargs="*", default=[1, 4, 8])
    parser.add_argument("--pipelining", nargs="*", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--postfix", action="store_true", help="also send via a local Postfix")
    parser.add_argument("--dkim", action="store_true", help="also a signed run, and its cost")
    options = parser.parse_args()
    if options.postfix and not (POSTFIX.exists() and os.geteuid() == 0):
        raise SystemExit("--postfix needs Debian's postfix installed and root")
    print(f"Relay {options.delay_ms:g} ms away each way; {options.recipients:,} recipients.\n")
    print("| run | recipients | seconds | messages/s | note |")
    print("| --- | ---: | ---: | ---: | --- |", flush=True)
    with tempfile.TemporaryDirectory() as scratch, distant_sink(options.delay_ms) as far:
        relay_port, sink = far
        root = Path(scratch) / "site"
        prepared = prepare(root, options.recipients)
        (root / "recipients").write_text(str(options.recipients))
        for pipelining in options.pipelining:
            for connections in options.connections:
                config = configure(root, relay_port, connections, pipelining == "on", "")
                name = f"direct, {connections} connection(s), pipelining {pipelining}"
                print(direct(config, prepared, sink, name, options.recipients), flush=True)
        if options.dkim:
            for line in dkim_rows(root, prepared, relay_port, sink, options.recipients):
                print(line, flush=True)
        if options.postfix:
            print(via_postfix(root, prepared, relay_port, sink), flush=True)


DKIM_SECTION = '[dkim]\nselector = "bench"\ndomain = "bench.example.org"\nkey_file = "dkim.pem"\n'
SIGNING_SAMPLE = 500  # messages built in-process, with and without a signature


def dkim_rows(
    root: Path, prepared: Path, relay_port: int, sink: CountingSink, recipients: int
) -> list[str]:
    """A signed send over 8 pipelined connections, and what one signature costs in-process."""
    write_dkim_key(root / "dkim.pem")
    config = configure(root, relay_port, 8, True, DKIM_SECTION)
    name = "direct, 8 connection(s), pipelining on, DKIM-signed"
    sent = direct(config, prepared, sink, name, recipients)
    unsigned, signed = signing_cost(config)
    note = f"signing: {signed - unsigned:.1f} ms a message ({unsigned:.2f} ms to build one)"
    return [sent, f"| DKIM in-process, {SIGNING_SAMPLE} messages | | | | {note} |"]


def write_dkim_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - only --dkim
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


def signing_cost(config_path: Path) -> tuple[float, float]:
    """Milliseconds to build one copy of the digest just sent, without and with signing."""
    from feedkit.config import load_config  # noqa: PLC0415 - the package, only for --dkim
    from feedkit.newsletter.messages import DigestMessages  # noqa: PLC0415
    from feedkit.store import newsletter as records  # noqa: PLC0415
    from feedkit.store.db import open_store  # noqa: PLC0415
    from feedkit.tokens import Tokens  # noqa: PLC0415

    config = load_config(config_path)
    with open_store(config, readonly=True) as store:
        digest = records.load_digest(store, 1)
    messages = DigestMessages(config, digest, Tokens(SECRET.encode()))
    signer, messages.signer = messages.signer, None
    addresses = [f"reader{number:06d}@bench.example.org" for number in range(SIGNING_SAMPLE)]
    timings = []
    for use in (None, signer):
        messages.signer = use
        started = time.perf_counter()
        for address in addresses:
            messages.build(address)
        timings.append((time.perf_counter() - started) * 1000 / SIGNING_SAMPLE)
    return timings[0], timings[1]


if __name__ == "__main__":
    main()
