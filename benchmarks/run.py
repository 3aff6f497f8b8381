"""Run every benchmark (``bench_*.py`` here) and keep their JSON in ``results/``.

``make bench`` calls this. Each script writes ``results/<name>.json`` itself; this
runner only orders them, times them and stops on the first failure. Pass names to run
a subset: ``python benchmarks/run.py synth recommend``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(selected: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if selected:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in selected]
    for script in scripts:
        started = time.perf_counter()
        print(f"== {script.stem}", flush=True)
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"== {script.stem}: exit {code} in {time.perf_counter() - started:.1f}s", flush=True)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
