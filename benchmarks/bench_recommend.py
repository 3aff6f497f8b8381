"""Recall@10 / NDCG@10 / fit time of each recommender on MovieLens-100k."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cli_json, write

if __name__ == "__main__":
    write("recommend", cli_json("bench", "recommend", "--dataset", "ml-100k", "--json"))
