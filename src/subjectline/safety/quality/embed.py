"""Sentence embeddings for the quality judge: all-MiniLM-L6-v2, read offline from its wheel.

Mean-pooled, L2-normalised token states, as sentence-transformers computes them; run
by ``transformers`` on the CPU with one thread (titles are short and the gate runs
beside the LLM). Embeddings are cached per text: titles repeat across a campaign.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from subjectline.assets import minilm_dir

DIM = 384
_CACHE: dict[str, np.ndarray] = {}
_CACHE_MAX = 200_000
_LOCK = threading.Lock()


@cache
def _model() -> tuple[Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(1)
    path = str(minilm_dir())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    return tokenizer, model


def embed(texts: Sequence[str], batch: int = 64) -> np.ndarray:
    """One unit-length row per text (``len(texts) x 384``, float32)."""
    missing = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    if missing:
        import torch

        tokenizer, model = _model()
        with _LOCK, torch.inference_mode():
            for start in range(0, len(missing), batch):
                chunk = missing[start : start + batch]
                enc = tokenizer(
                    chunk, padding=True, truncation=True, max_length=64, return_tensors="pt"
                )
                states = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                if len(_CACHE) > _CACHE_MAX:
                    _CACHE.clear()
                for text, row in zip(chunk, pooled.numpy(), strict=True):
                    _CACHE[text] = row.astype(np.float32)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([_CACHE[t] for t in texts])
