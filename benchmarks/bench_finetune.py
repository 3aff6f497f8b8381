"""A fine-tuning round on the CPU: wall time per phase, training tokens, peak memory,
and the held-out evaluation (base vs fine-tuned), in a fresh workspace.

``python benchmarks/bench_finetune.py [PRESET] [WORKSPACE]`` (default: demo, in a
temporary workspace; a given workspace keeps the model for a look afterwards).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_json, peak_rss_mb, write

if __name__ == "__main__":
    preset = sys.argv[1] if len(sys.argv) > 1 else "demo"
    kept = sys.argv[2] if len(sys.argv) > 2 else None
    with contextlib.nullcontext(kept) if kept else tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run = cli_json("finetune", "run", "--preset", preset, "-w", tmp, "--json")
        run_seconds = time.perf_counter() - started
        started = time.perf_counter()
        evaluation = cli_json("finetune", "evaluate", "-w", tmp, "--json")
        eval_seconds = time.perf_counter() - started
    write(
        f"finetune_{preset}",
        {
            "preset": preset,
            "round_seconds": round(run_seconds, 1),
            "evaluate_seconds": round(eval_seconds, 1),
            "peak_rss_mb": peak_rss_mb(),
            "data": run["data"],
            "training": run["training"],
            "evaluation": evaluation,
        },
    )
