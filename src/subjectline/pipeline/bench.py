"""``subjectline bench campaign``: the campaign job on a synthetic marketplace, timed.

The campaign runs in a child process (``subjectline campaign``) so its peak memory is
its own, not the synthesizer's; it runs on a fresh copy of the workspace, so the LLM
title cache starts cold every time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from subjectline.errors import SubjectlineError
from subjectline.workspace import DB_FILE, Workspace

TITLE_BACKENDS = {"llm": "local", "template": "template"}


def prepare_marketplace(root: Path, users: int, items: int, seed: int) -> Workspace:
    """Synthesize and ingest once; a later call with the same ``root`` reuses it."""
    from subjectline.data.ingest import ingest
    from subjectline.data.synth import SynthConfig, write_marketplace

    workspace = Workspace(root / "workspace")
    if not workspace.db_path.exists():
        market = root / "data"
        write_marketplace(SynthConfig(users=users, items=items, seed=seed), market)
        ingest(market, workspace)
    return workspace


def bench_campaign(
    users: int,
    items: int,
    titles: str,
    engine: str = "local",
    model: str = "ease",
    max_llm_calls: int = 5_000,
    shards: int | None = None,
    data_dir: Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    if titles not in TITLE_BACKENDS:
        raise SubjectlineError(f"--titles must be llm or template, not {titles!r}")
    root = data_dir or Path(tempfile.mkdtemp(prefix="subjectline-bench-"))
    run_dir = root / f"campaign-{titles}-{os.getpid()}"
    try:
        source = prepare_marketplace(root, users, items, seed)
        workspace = run_dir / "workspace"
        workspace.mkdir(parents=True)
        shutil.copy2(source.db_path, workspace / DB_FILE)
        out = run_dir / "out"
        # floor(share * users) must come out at exactly max_llm_calls.
        share = (max_llm_calls + 0.5) / users
        cmd = [
            sys.executable, "-m", "subjectline", "campaign",
            "--engine", engine, "--out", str(out), "--workspace", str(workspace),
            "--backend", TITLE_BACKENDS[titles], "--model", model,
            "--llm-call-share", repr(share), "--id", "bench",
        ]  # fmt: skip
        if shards:
            cmd += ["--shards", str(shards)]
        load_before = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SubjectlineError(f"campaign failed ({done.returncode}): {done.stderr[-2000:]}")
        report = json.loads((out / "report.json").read_text())
    finally:
        # A marketplace kept in data_dir stays for the next run; a temporary one goes.
        shutil.rmtree(run_dir if data_dir else root, ignore_errors=True)
    return {
        "users": report["users"],
        "items": items,
        "titles": titles,
        "engine": engine,
        "model": model,
        "shards": report["shards"],
        "themes": report["themes"],
        "llm_themes": report["llm_themes"],
        "llm_calls": report["llm_calls"],
        "llm_call_budget": report["llm_call_budget"],
        "seconds": round(seconds, 1),
        "peak_rss_mb": report["peak_rss_mb"],
        "users_per_second": round(report["users"] / seconds),
        "seconds_by_stage": report["seconds_by_stage"],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
