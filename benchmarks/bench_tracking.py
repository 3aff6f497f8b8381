"""Load test of the tracking service: real uvicorn, a load generator in its own process.

Bounded in requests and time. Every acknowledged event (200 pixel, 302 click, 202
conversion) must be in the event store, none twice; a share of the requests repeat an
earlier event on purpose to exercise deduplication. Reports events/s and latency
percentiles per store (SQLite file, PostgreSQL in a throwaway schema) to
results/tracking.json.

    python benchmarks/bench_tracking.py [--requests 30000] [--concurrency 32] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from common import write
from subjectline.deliver import RenderConfig, Renderer
from subjectline.deliver.sink import free_port
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track.process import running_service
from subjectline.track.schema import events
from subjectline.track.service import SIGNATURE_HEADER
from subjectline.track.store import make_engine, mark_sent, migrate, register_sends
from subjectline.track.tokens import KeyRing, TokenSigner, sign_body

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEYS = "b1:bench-link-secret-0123456789"
WEBHOOK = "bench-webhook-secret-0123456789"
ACK = {200, 202, 302}


@contextmanager
def store(kind: str, workdir: Path) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of a fresh event store, removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'events.sqlite'}", None
        return
    schema = f"sl_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}", schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def workload(emails, n_requests: int, repeat_share: float, seed: int = 0):
    """(method, path, headers, body, dedup_key) tuples; repeats reuse an earlier event."""
    rng = random.Random(seed)
    fresh: list[tuple[str, str]] = []
    for email in emails:
        send_id = email.send.send_id
        pixel = email.open_pixel_url.split(":", 2)[2].split("/", 1)[1]
        fresh.append(("open", f"/{pixel}"))
        for index, link in enumerate(email.tracked_links):
            fresh.append((f"click:{index}", "/" + link.split(":", 2)[2].split("/", 1)[1]))
        fresh.append(("conversion", send_id))
    rng.shuffle(fresh)
    send_of = {}
    for email in emails:
        send_of[email.open_pixel_url.rsplit("/", 1)[1].removesuffix(".gif")] = email.send.send_id
        for link in email.tracked_links:
            send_of[link.rsplit("/", 1)[1]] = email.send.send_id
    planned = []
    for i in range(n_requests):
        if planned and rng.random() < repeat_share:
            planned.append(planned[rng.randrange(len(planned))])
            continue
        kind, target = fresh[i % len(fresh)]
        if kind == "conversion":
            key = f"conversion:{target}:order-{target}"
            body = json.dumps({"send_id": target, "order_id": f"order-{target}", "revenue": 9.5})
            planned.append(("POST", "/v1/conversions", body.encode(), key))
        elif kind == "open":
            key = f"open:{send_of[target.rsplit('/', 1)[1].removesuffix('.gif')]}:human"
            planned.append(("GET", target, b"", key))
        else:
            key = f"click:{send_of[target.rsplit('/', 1)[1]]}:{kind.split(':')[1]}"
            planned.append(("GET", target, b"", key))
    return planned


HEADERS = "Host: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0\r\n"


async def _exchange(reader, writer, request: bytes) -> tuple[int, bool]:
    """(status, keep-alive) of one HTTP/1.1 request on an open connection."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, close = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, not close


async def drive(port: int, planned, concurrency: int, seconds: float):
    """Closed loop: ``concurrency`` keep-alive connections, each sends its next request

    when the last one is answered. A plain asyncio HTTP/1.1 client, so that the load
    generator spends little of the cores the service needs.
    """
    queue: asyncio.Queue = asyncio.Queue()
    for item in planned:
        queue.put_nowait(item)
    latencies: list[float] = []
    acknowledged: list[str] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    secret = WEBHOOK.encode()

    async def worker() -> None:
        connection = None
        while time.monotonic() < deadline:
            try:
                method, path, body, key = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            head = f"{method} {path} HTTP/1.1\r\n{HEADERS}"
            if method == "POST":
                signature = sign_body(secret, body, int(time.time()))
                head += (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         f"{SIGNATURE_HEADER}: {signature}\r\n")  # fmt: skip
            request = (head + "\r\n").encode() + body
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                status, keep = await _exchange(*connection, request)
                outcome = str(status)
            except (OSError, asyncio.IncompleteReadError) as exc:  # not acknowledged
                status, keep, outcome = 0, False, type(exc).__name__
            latencies.append(time.perf_counter() - started)
            statuses[outcome] = statuses.get(outcome, 0) + 1
            if status in ACK:
                acknowledged.append(key)
            if not keep and connection is not None:
                connection[1].close()
                connection = None
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return latencies, acknowledged, statuses, wall


def generate(plan: Path, out: Path, port: int, concurrency: int, seconds: float) -> None:
    """The load generator's own process: read the plan, drive the service, write results."""
    import uvloop

    uvloop.install()
    planned = [(m, p, b.encode(), k) for m, p, b, k in json.loads(plan.read_text())]
    latencies, acknowledged, statuses, wall = asyncio.run(
        drive(port, planned, concurrency, seconds)
    )
    out.write_text(json.dumps({"latencies": latencies, "acknowledged": acknowledged,
                               "statuses": statuses, "wall": wall}))  # fmt: skip


def run_generator(workdir: Path, port: int, planned, concurrency: int, seconds: float):
    plan, out = workdir / "plan.json", workdir / "result.json"
    plan.write_text(json.dumps([(m, p, b.decode(), k) for m, p, b, k in planned]))
    command = [sys.executable, __file__, "--generate", str(plan), "--out", str(out),
               "--port", str(port), "--concurrency", str(concurrency),
               "--seconds", str(seconds)]  # fmt: skip
    subprocess.run(command, check=True, timeout=seconds + 120)
    result = json.loads(out.read_text())
    return result["latencies"], result["acknowledged"], result["statuses"], result["wall"]


def run_one(
    kind: str, n_sends: int, n_requests: int, concurrency: int, seconds: float, workers: int
) -> dict:
    with tempfile.TemporaryDirectory() as tmp, store(kind, Path(tmp)) as (url, _schema):
        workdir = Path(tmp)
        port = free_port()
        engine = make_engine(url)
        migrate(engine)
        config = RenderConfig(tracking_base_url=f"http://127.0.0.1:{port}")
        renderer = Renderer(TokenSigner(KeyRing.from_spec(KEYS)), config)
        emails = [
            renderer.render(s) for s in synthetic_sends(n_sends, campaign_id="bench", config=config)
        ]
        register_sends(engine, (e.to_send_record() for e in emails))
        mark_sent(engine, [e.send.send_id for e in emails], datetime.now(UTC) - timedelta(hours=1))
        planned = workload(emails, n_requests, repeat_share=0.05)
        keys = {"SUBJECTLINE_TRACKING_KEYS": KEYS, "SUBJECTLINE_WEBHOOK_SECRET": WEBHOOK}
        args = ("--rate", "0", "--prefetch-window", "0", "--workers", str(workers))
        with running_service(url, workdir, port, keys, args):
            latencies, acknowledged, statuses, wall = run_generator(
                workdir, port, planned, concurrency, seconds
            )
        with engine.connect() as conn:
            stored = [r[0] for r in conn.execute(sa.select(events.c.dedup_key))]
        engine.dispose()
    acked = set(acknowledged)
    missing = acked - set(stored)
    duplicates = len(stored) - len(set(stored))
    unexpected = set(stored) - acked
    lat = np.array(latencies) * 1000
    result = {
        "store": kind,
        "sends": n_sends,
        "requests_planned": n_requests,
        "requests_made": len(latencies),
        "concurrency": concurrency,
        "workers": workers,
        "outcomes": dict(sorted(statuses.items())),
        "acknowledged_requests": len(acknowledged),
        "distinct_events_acknowledged": len(acked),
        "events_stored": len(stored),
        "missing_acknowledged": len(missing),
        "stored_twice": duplicates,
        "stored_unacknowledged": len(unexpected),
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "acknowledged_per_s": round(len(acknowledged) / wall, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 2),
            "p90": round(float(np.percentile(lat, 90)), 2),
            "p99": round(float(np.percentile(lat, 99)), 2),
            "max": round(float(lat.max()), 2),
        },
    }
    if missing or duplicates:
        raise SystemExit(f"integrity violated: {json.dumps(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--sends", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0, help="Stop sending after this.")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker processes (a list).")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # generator process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.out, args.port, args.concurrency, args.seconds)
        return
    runs = [
        run_one(kind, args.sends, args.requests, args.concurrency, args.seconds, int(workers))
        for kind in args.stores.split(",")
        for workers in args.workers.split(",")
    ]
    write(
        "tracking",
        {
            "note": "load generator (own process) and service share the machine's cores",
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
