"""Load test of the subject API: real uvicorn, a load generator in its own process.

A synthetic workspace with a template campaign; the service runs ``subjectline
serve-api`` (one worker, rate limits off), the generator drives it over keep-alive
HTTP/1.1 on loopback. Answers come from cache: campaign users, and baskets asked once
before the run (a basket's first answer runs the theme finder and the safety gate, which
is measured apart as ``cold_basket_ms``). Two kinds of run, bounded in count and time:

- closed loop at 32 and 256 clients: each sends its next request when answered (the
  most the service does; latency grows with the clients waiting);
- open loop at a fixed rate over 256 connections (requests due on a schedule, latency
  measured from when each was due, so a stall counts for every request it delays).

    python benchmarks/bench_api.py [--requests 8000] [--seconds 20] [--rate 500]
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
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import polars as pl

from bench_tracking import _exchange
from common import write
from subjectline.data.ingest import ingest
from subjectline.data.synth import SynthConfig, write_marketplace
from subjectline.deliver.sink import free_port
from subjectline.pipeline.campaign import CampaignConfig, run_campaign, write_outputs
from subjectline.workspace import Workspace

KEY = "bench-api-key-0123456789abcdef"


def build_workspace(root: Path, users: int, items: int) -> pl.DataFrame:
    write_marketplace(SynthConfig(users=users, items=items, seed=3), root / "market")
    ws = Workspace(root / "ws")
    ingest(root / "market", ws)
    result = run_campaign(ws, CampaignConfig(backend="template", campaign_id="bench"))
    write_outputs(result, root / "ws" / "campaigns" / "bench")
    return result.campaign


def warm_paths(campaign: pl.DataFrame) -> list[str]:
    """The 100 baskets of the run, each asked once before it (its answer is then cached)."""
    baskets = [",".join(ids[:4]) for ids in campaign["item_ids"].head(100).to_list()]
    return [f"/v1/subject?user_id=b{b}&items={quote(x)}" for b, x in enumerate(baskets)]


def plan(campaign: pl.DataFrame, n: int, basket_share: float, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    users = campaign["user_id"].to_list()
    baskets = warm_paths(campaign)
    paths = []
    for _ in range(n):
        if rng.random() < basket_share:
            paths.append(rng.choice(baskets))
        else:
            paths.append(f"/v1/subject?user_id={quote(rng.choice(users))}")
    return paths


async def drive(port: int, paths: list[str], clients: int, seconds: float, rate: float):
    """``clients`` keep-alive connections; ``rate`` > 0: open loop at that total rate."""
    head = f"Host: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n\r\n"
    queue: asyncio.Queue = asyncio.Queue()
    for i, path in enumerate(paths):
        queue.put_nowait((i, f"GET {path} HTTP/1.1\r\n{head}".encode()))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    start = time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        connection = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            try:
                index, request = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            due = start + index / rate if rate > 0 else time.perf_counter()
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                status, keep = await _exchange(*connection, request)
                outcome = str(status)
            except (OSError, asyncio.IncompleteReadError) as exc:
                keep, outcome = False, type(exc).__name__
            latencies.append(time.perf_counter() - due)
            statuses[outcome] = statuses.get(outcome, 0) + 1
            if not keep:
                connection[1].close()
                connection = await asyncio.open_connection("127.0.0.1", port)
        connection[1].close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - start


def generate(args: argparse.Namespace) -> None:
    import uvloop

    uvloop.install()
    paths = json.loads(args.generate.read_text())
    lat, statuses, wall = asyncio.run(drive(args.port, paths, args.clients, args.seconds,
                                            args.rate))  # fmt: skip
    args.out.write_text(json.dumps({"latencies": lat, "statuses": statuses, "wall": wall}))


def run_generator(workdir: Path, port: int, paths, clients: int, seconds: float, rate: float):
    plan_file, out = workdir / "plan.json", workdir / "result.json"
    plan_file.write_text(json.dumps(paths))
    command = [sys.executable, __file__, "--generate", str(plan_file), "--out", str(out),
               "--port", str(port), "--clients", str(clients), "--seconds", str(seconds),
               "--rate", str(rate)]  # fmt: skip
    subprocess.run(command, check=True, timeout=seconds + 120)
    result = json.loads(out.read_text())
    lat = np.array(result["latencies"]) * 1000
    return {
        "mode": "open loop" if rate > 0 else "closed loop",
        "clients": clients,
        "target_rate": rate or None,
        "requests_made": len(lat),
        "outcomes": result["statuses"],
        "wall_s": round(result["wall"], 2),
        "requests_per_s": round(len(lat) / result["wall"], 1),
        "latency_ms": {p: round(float(np.percentile(lat, q)), 2)
                       for p, q in (("p50", 50), ("p90", 90), ("p99", 99))}
        | {"max": round(float(lat.max()), 2)},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=8_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="Each run stops after this.")
    parser.add_argument("--rate", type=float, default=500.0, help="Open-loop request rate.")
    parser.add_argument("--basket-share", type=float, default=0.2)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=32, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        campaign = build_workspace(workdir, args.users, args.items)
        port = free_port()
        env = {**os.environ, "SUBJECTLINE_API_KEYS": KEY}
        command = [sys.executable, "-m", "subjectline", "serve-api", "--workspace",
                   str(workdir / "ws"), "--port", str(port), "--rate", "0"]  # fmt: skip
        with (workdir / "serve.log").open("wb") as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"serve-api at {base} did not answer /healthz in 30 s")
            cold = []
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
            ) as c:
                for path in warm_paths(campaign):
                    started = time.perf_counter()
                    assert c.get(path).status_code == 200
                    cold.append((time.perf_counter() - started) * 1000)
            paths = plan(campaign, args.requests, args.basket_share)
            runs = [
                run_generator(workdir, port, paths, clients, args.seconds, 0.0)
                for clients in (32, 256)
            ]
            runs += [
                run_generator(workdir, port, paths, clients, args.seconds, args.rate)
                for clients in (32, 256)
            ]
        finally:
            server.terminate()
            server.wait(timeout=15)
    write(
        "api",
        {
            "note": "load generator (own process) and service (1 uvicorn worker) share the "
            "machine's cores; answers from cache (campaign users, and baskets asked once "
            "before); rate limits off",
            "users": args.users,
            "items": args.items,
            "basket_share": args.basket_share,
            "cold_basket_ms": {
                "p50": round(float(np.percentile(cold, 50)), 1),
                "p99": round(float(np.percentile(cold, 99)), 1),
                "n": len(cold),
            },
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
