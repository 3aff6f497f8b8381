"""Off-policy estimates of Bernoulli TS on the Open Bandit Dataset vs its on-policy value."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_json, write

if __name__ == "__main__":
    write("ope", cli_json("bench", "ope", "--dataset", "obd", "--json"))
