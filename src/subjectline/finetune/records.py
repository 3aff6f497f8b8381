"""Settings and records of the fine-tuning stage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

# LoRA goes on the value/output projections and the MLP only: llama.cpp stores q/k
# permuted for its rope layout, and leaving them alone lets merged weights go back into
# the GGUF file unchanged in layout.
LORA_TARGETS = ("v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class FinetuneSettings:
    """One fine-tuning round: data from the reward, then LoRA training (SFT, then DPO).

    The loss is ``sft_weight * reward-weighted NLL of the best passing candidates +
    dpo_weight * DPO(best vs worst) - entropy_weight * mean token entropy``; the entropy
    bonus is the diversity term that keeps the model from collapsing onto one title.
    ``lam`` is the creativity-vs-conversion weight of the reward (None: each category's
    lambda from the workspace's trade-off file, else the scoring default).
    """

    # data
    synth_users: int = 4_000
    synth_seed: int = 101
    synth_worlds: int = 1  # training worlds, seeds synth_seed, synth_seed + 1, ...
    synth_themes: int = 24
    movielens_themes: int = 16
    holdout_share: float = 0.3
    candidates: int = 8
    lam: float | None = None
    sft_per_theme: int = 2
    pairs_per_theme: int = 2
    min_pair_margin: float = 0.05
    # model
    lora_r: int = 8
    lora_alpha: int = 16
    lora_layers: int = 10  # the top layers get adapters; lower ones run without a graph
    # training
    sft_epochs: int = 2
    dpo_epochs: int = 1
    batch_size: int = 8
    sft_lr: float = 3e-4
    dpo_lr: float = 1e-4
    dpo_beta: float = 0.1
    sft_weight: float = 1.0
    dpo_weight: float = 1.0
    dpo_nll_weight: float = 0.2
    entropy_weight: float = 0.05
    max_steps: int | None = None  # a cap per phase (tests, smoke runs)
    seed: int = 0
    base_prompt_version: str = "v1"
    prompt_version: str = "v1"  # the fine-tuned model answers the base model's prompt
    # evaluation
    eval_users: int = 20_000
    eval_seed: int = 0
    eval_themes: int = 16

    def __post_init__(self) -> None:
        if not 0.0 < self.holdout_share < 1.0:
            raise ValueError("holdout_share must be within (0, 1)")
        if self.lam is not None and not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"lam must be within [0, 1], not {self.lam}")
        if self.candidates < 2:
            raise ValueError("candidates must be at least 2 (pairs need a best and a worst)")
        if self.synth_worlds < 1:
            raise ValueError("synth_worlds must be at least 1")
        if self.lora_r < 1 or self.lora_layers < 1 or self.batch_size < 1:
            raise ValueError("lora_r, lora_layers and batch_size must be at least 1")
        if min(self.sft_weight, self.dpo_weight, self.entropy_weight) < 0:
            raise ValueError("loss weights must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


# Named sizes: "demo" runs in minutes on 2 CPU cores; "full" is the documented full round.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "synth_users": 2_000,
        "synth_themes": 10,
        "movielens_themes": 8,
        "candidates": 4,
        "sft_epochs": 1,
        "dpo_epochs": 1,
        "max_steps": 2,
        "eval_users": 3_000,
        "eval_themes": 6,
    },
    "demo": {
        "synth_users": 4_000,
        "synth_worlds": 3,
        "synth_themes": 48,
        "movielens_themes": 24,
        "candidates": 12,
        "sft_per_theme": 3,
        "pairs_per_theme": 3,
        "sft_epochs": 3,
        "dpo_epochs": 3,
        "eval_users": 10_000,
        "eval_themes": 24,
    },
    "full": {
        "synth_users": 10_000,
        "synth_worlds": 5,
        "synth_themes": 80,
        "movielens_themes": 24,
        "candidates": 16,
        "sft_per_theme": 3,
        "pairs_per_theme": 4,
        "sft_epochs": 3,
        # 3 DPO epochs and entropy weight 0.05 collapsed it: distinct-2 67% of the base's.
        "dpo_epochs": 2,
        "entropy_weight": 0.1,
        "eval_users": 50_000,
        "eval_themes": 32,
    },
}


def preset_settings(preset: str, **overrides: Any) -> FinetuneSettings:
    """A preset's settings with ``overrides`` (``None`` values ignored)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    return FinetuneSettings(**values)
