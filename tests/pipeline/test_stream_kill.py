"""Kill the sharded campaign (SIGKILL) at random points, rerun it, get the same result."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.data.synth import SynthConfig, write_marketplace
from subjectline.pipeline.stream import SHARDS_DIR
from subjectline.workspace import Workspace


def _command(workspace: Path, out: Path, shards: int) -> list[str]:
    return [
        sys.executable, "-m", "subjectline", "campaign", "--engine", "local",
        "--backend", "template", "--llm-call-share", "0.5", "--shards", str(shards),
        "--workspace", str(workspace), "--out", str(out),
    ]  # fmt: skip


def _shard_files(out: Path) -> int:
    return len(list((out / SHARDS_DIR).rglob("*-*.parquet")))


def _kill_after_files(command: list[str], out: Path, files: int) -> bool:
    """Start the run, SIGKILL it once ``files`` shard files exist; False if it finished."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        while child.poll() is None:
            if _shard_files(out) >= files:
                child.send_signal(signal.SIGKILL)
                child.wait()
                return True
            time.sleep(0.005)
        assert child.returncode == 0, child.stderr.read().decode() if child.stderr else ""
        return False
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _kill_and_resume(workspace: Path, tmp_path: Path, shards: int, kills: int, seed: int) -> None:
    reference = tmp_path / "reference"
    subprocess.run(_command(workspace, reference, shards), check=True, capture_output=True)
    expected = pl.read_parquet(reference / "campaign.parquet")
    total_files = _shard_files(reference)

    out = tmp_path / "killed"
    command = _command(workspace, out, shards)
    rng = random.Random(seed)
    killed = 0
    # Kill points move forward, so every pass gets interrupted somewhere.
    points = sorted(rng.sample(range(1, total_files), kills))
    for point in points:
        if _kill_after_files(command, out, point):
            killed += 1
            assert not (out / "campaign.parquet").exists()
    assert killed >= 1, "the run always finished before the kill point"
    subprocess.run(command, check=True, capture_output=True)

    resumed = pl.read_parquet(out / "campaign.parquet")
    assert resumed["user_id"].is_unique().all()
    assert resumed.height == expected.height
    assert resumed.equals(expected)
    # A write cut short leaves a .part file; the rerun writes that file again and renames it.
    assert not list(out.rglob("*.part"))
    assert _shard_files(out) == total_files


@pytest.fixture(scope="module")
def workspace(small_market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = Workspace(tmp_path_factory.mktemp("kill") / "ws")
    ingest(small_market, ws)
    return ws.root


def test_killed_runs_resume_to_the_uninterrupted_result(workspace: Path, tmp_path: Path) -> None:
    _kill_and_resume(workspace, tmp_path, shards=8, kills=2, seed=1)


@pytest.mark.slow
def test_killed_often_on_a_larger_market(tmp_path: Path) -> None:
    market = tmp_path / "market"
    write_marketplace(SynthConfig(users=20_000, items=1_000, seed=3), market)
    ws = Workspace(tmp_path / "ws")
    ingest(market, ws)
    _kill_and_resume(ws.root, tmp_path, shards=16, kills=8, seed=2)
