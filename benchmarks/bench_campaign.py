"""The sharded campaign on a synthetic marketplace: template-only run, then LLM run.

Both runs use the same marketplace (synthesized once) and a cold title cache; each runs
``subjectline campaign --engine local`` in a child process (``bench campaign``). The
result holds both runs and the LLM run's time as a multiple of the template run's.

    python benchmarks/bench_campaign.py [--users 1000000] [--items 10000]
                                        [--max-llm-calls 5000] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_json, write

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--model", default="ease")
    parser.add_argument("--max-llm-calls", type=int, default=5_000)
    parser.add_argument("--data-dir", default=None, help="reuse a marketplace kept here")
    args = parser.parse_args()
    common = [
        "bench", "campaign", "--users", str(args.users), "--items", str(args.items),
        "--model", args.model, "--max-llm-calls", str(args.max_llm_calls), "--json",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as scratch:
        # One marketplace for both runs (each run copies its workspace, so caches are cold).
        common += ["--data-dir", args.data_dir or scratch]
        runs = {titles: cli_json(*common, "--titles", titles) for titles in ("template", "llm")}
    ratio = runs["llm"]["seconds"] / runs["template"]["seconds"]
    write(
        "campaign",
        {
            "users": args.users,
            "items": args.items,
            "model": args.model,
            "runs": runs,
            "llm_over_template_seconds": round(ratio, 2),
            "targets": {
                "llm_over_template_seconds_max": 1.3,
                "llm_calls_max": 5_000,
                "peak_rss_mb_max": 4096,
            },
        },
    )
