"""Load test of the tracking service: real uvicorn on 127.0.0.1, concurrent httpx clients.

Bounded in requests and time. Every acknowledged event (200 pixel, 302 click, 202
conversion) must be in the event store, none twice; a share of the requests repeat an
earlier event on purpose to exercise deduplication. Reports events/s and latency
percentiles per store (SQLite file, PostgreSQL in a throwaway schema) to
results/tracking.json.

    python benchmarks/bench_tracking.py [--requests 6000] [--concurrency 32] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
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


async def drive(base: str, planned, concurrency: int, seconds: float):
    queue: asyncio.Queue = asyncio.Queue()
    for item in planned:
        queue.put_nowait(item)
    latencies: list[float] = []
    acknowledged: list[str] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    headers = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                try:
                    method, path, body, key = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                extra = {}
                if method == "POST":
                    extra[SIGNATURE_HEADER] = sign_body(WEBHOOK.encode(), body, int(time.time()))
                started = time.perf_counter()
                try:
                    response = await client.request(
                        method, path, content=body or None, headers={**headers, **extra}
                    )
                    status, outcome = response.status_code, str(response.status_code)
                except httpx.TransportError as exc:  # not acknowledged: may or may not be stored
                    status, outcome = 0, type(exc).__name__
                latencies.append(time.perf_counter() - started)
                statuses[outcome] = statuses.get(outcome, 0) + 1
                if status in ACK:
                    acknowledged.append(key)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, acknowledged, statuses, wall


def run_one(kind: str, n_sends: int, n_requests: int, concurrency: int, seconds: float) -> dict:
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
        args = ("--rate", "0", "--prefetch-window", "0")
        with running_service(url, workdir, port, keys, args) as base:
            latencies, acknowledged, statuses, wall = asyncio.run(
                drive(base, planned, concurrency, seconds)
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
    parser.add_argument("--sends", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=6_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0, help="Stop sending after this.")
    args = parser.parse_args()
    runs = [
        run_one(kind, args.sends, args.requests, args.concurrency, args.seconds)
        for kind in args.stores.split(",")
    ]
    write(
        "tracking",
        {
            "note": "client and server share the machine's cores; uvicorn runs one worker",
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
