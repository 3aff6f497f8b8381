"""Time to synthesize (and write) a marketplace of 1,000,000 users."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import peak_rss_mb, write
from subjectline.data.synth import SynthConfig, write_marketplace


def main() -> None:
    cfg = SynthConfig(users=1_000_000, items=20_000, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        counts = write_marketplace(cfg, Path(tmp))
        seconds = time.perf_counter() - started
    write(
        "synth",
        {
            "users": counts["users"],
            "items": counts["items"],
            "interactions": counts["interactions"],
            "seconds": round(seconds, 2),
            "users_per_second": round(counts["users"] / seconds),
            "peak_rss_mb": peak_rss_mb(),
        },
    )


if __name__ == "__main__":
    main()
