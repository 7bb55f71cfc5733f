"""A real DNS server for tests: Debian's dnsmasq on a free loopback port, answering only from the
TXT records it is given (SPF, DKIM keys, DMARC), and a resolver that asks it and nothing else."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dns.exception
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DNSMASQ = shutil.which("dnsmasq", path="/usr/sbin:/usr/bin:/sbin")
NOT_INSTALLED = "dnsmasq is not installed (Debian package dnsmasq-base; make system)"


def dkim_record(key: rsa.RSAPrivateKey) -> list[str]:
    """The public key's TXT record as DNS carries it: strings of at most 255 characters."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    return [text[start : start + 250] for start in range(0, len(text), 250)]


def txt(name: str, *strings: str) -> str:
    """One TXT record; on the command line dnsmasq takes each comma-separated string as is."""
    return f"--txt-record={name}," + ",".join(strings)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def resolver_at(nameserver: str) -> dns.resolver.Resolver:
    """A resolver that asks only `nameserver` ("127.0.0.1:PORT")."""
    host, port = nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [host], int(port), 2.0
    return resolver


@contextmanager
def dnsmasq(records: Sequence[str], *, probe: str, zones: Sequence[str]) -> Iterator[str]:
    """Serve `records` (made with `txt`) and answer nothing else under `zones`; yields the
    server as "127.0.0.1:PORT" once it answers for `probe`. Skips where dnsmasq cannot run."""
    if DNSMASQ is None:
        pytest.skip(NOT_INSTALLED)
    port = free_udp_port()
    command = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv"]
    command += ["--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1"]
    command += [f"--port={port}", "--pid-file="]
    command += [f"--local=/{zone}/" for zone in zones]
    process = subprocess.Popen([*command, *records], stderr=subprocess.PIPE)
    try:
        _wait_for_answers(f"127.0.0.1:{port}", process, probe)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _wait_for_answers(nameserver: str, process: subprocess.Popen[bytes], probe: str) -> None:
    resolver = resolver_at(nameserver)
    resolver.lifetime = 0.5
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.skip(f"dnsmasq could not start here: {stderr.strip()}")
        try:
            resolver.resolve(probe, "TXT")
            return
        except dns.exception.DNSException:
            time.sleep(0.1)
    pytest.fail("dnsmasq did not answer within 10 s")
