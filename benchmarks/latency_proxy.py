"""A TCP proxy that delays every byte by a fixed time each way, as a distant server would.

`python benchmarks/latency_proxy.py LISTEN_PORT TARGET_HOST:PORT [--delay-ms 30]`

Each chunk read from one side is written to the other `delay` seconds after it arrived, in order;
chunks behind it are read meanwhile, so the delay adds latency without limiting throughput (a
long, fat pipe). A round trip through it therefore costs twice the delay. Loopback only: it
listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

CHUNK = 65536


async def forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Copy one direction, each chunk `delay` seconds late; EOF is passed on just as late."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while chunk := await reader.read(CHUNK):
            queue.put_nowait((time.monotonic() + delay, chunk))
        queue.put_nowait((time.monotonic() + delay, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass  # the other side went away: nothing more to deliver
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await reading


async def serve(listen_port: int, target_host: str, target_port: int, delay: float) -> None:
    async def connect(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            forward(client_reader, server_writer, delay),
            forward(server_reader, client_writer, delay),
        )
        for writer in (client_writer, server_writer):
            writer.close()

    server = await asyncio.start_server(connect, "127.0.0.1", listen_port, backlog=256)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listen_port", type=int)
    parser.add_argument("target", help="HOST:PORT to forward to")
    parser.add_argument("--delay-ms", type=float, default=30.0, help="one way (default 30)")
    options = parser.parse_args()
    host, _, port = options.target.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options.listen_port, host, int(port), options.delay_ms / 1000))


if __name__ == "__main__":
    main()
