"""Title generation: titles per second of the embedded model, and the LLM calls a
campaign makes per 1,000 users (a fresh workspace, so nothing comes from the cache)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_json, write
from subjectline.data.ingest import ingest
from subjectline.data.synth import SynthConfig, write_marketplace
from subjectline.pipeline.campaign import CampaignConfig, run_campaign
from subjectline.workspace import Workspace

USERS = 20_000


def campaign_calls(backend: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_marketplace(SynthConfig(users=USERS, items=2_000, seed=0), root / "data")
        ws = Workspace(root / "ws")
        ingest(root / "data", ws)
        started = time.perf_counter()
        report = run_campaign(ws, CampaignConfig(backend=backend)).report
        seconds = time.perf_counter() - started
    return {
        "users": report["users"],
        "themes": report["themes"],
        "llm_calls": report["llm_calls"],
        "llm_calls_per_1000_users": round(1000 * report["llm_calls"] / report["users"], 2),
        "candidates": report["candidates"],
        "generation_seconds": report["generation_seconds"],
        "campaign_seconds": round(seconds, 2),
        "seconds_by_stage": report["seconds_by_stage"],
    }


if __name__ == "__main__":
    write(
        "generation",
        {
            "titles_per_second": cli_json("bench", "generate", "--themes", "6", "--n", "8"),
            "campaign_local": campaign_calls("local"),
            "campaign_template": campaign_calls("template"),
        },
    )
