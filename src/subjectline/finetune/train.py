"""LoRA fine-tuning of SmolLM2-135M-Instruct on the reward's training set.

The training loop is our own (torch + peft) rather than trl's trainers: the loss mixes a
reward-weighted NLL, DPO and an entropy (diversity) bonus with configurable weights,
which trl's SFT and DPO trainers each cover only in part; and on a 2-core CPU the
Trainer's machinery costs more than the 135M model's steps. LoRA sits on the top
``lora_layers`` layers only, so the lower layers run forward without an autograd graph.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subjectline.finetune.dataset import TrainingSet
from subjectline.finetune.records import LORA_TARGETS, FinetuneSettings

StepCallback = Callable[[str, int, int], None]
IGNORE = -100


@dataclass
class TrainingLog:
    device: str
    sft_steps: int = 0
    dpo_steps: int = 0
    sft_loss: list[float] = field(default_factory=list)
    dpo_loss: list[float] = field(default_factory=list)
    dpo_accuracy: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    trainable_parameters: int = 0
    prefix_tokens: int = 0

    def summary(self) -> dict[str, Any]:
        def mean_tail(values: list[float], n: int = 5) -> float | None:
            return round(sum(values[-n:]) / len(values[-n:]), 4) if values else None

        return {
            "device": self.device,
            "sft_steps": self.sft_steps,
            "dpo_steps": self.dpo_steps,
            "sft_loss_first": round(self.sft_loss[0], 4) if self.sft_loss else None,
            "sft_loss_last": mean_tail(self.sft_loss),
            "dpo_loss_first": round(self.dpo_loss[0], 4) if self.dpo_loss else None,
            "dpo_loss_last": mean_tail(self.dpo_loss),
            "dpo_accuracy_last": mean_tail(self.dpo_accuracy),
            "entropy_last": mean_tail(self.entropy),
            "seconds": round(self.seconds, 1),
            "trainable_parameters": self.trainable_parameters,
            "prefix_tokens": self.prefix_tokens,
        }


def device_name() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_base(gguf_path: Path) -> tuple[Any, Any]:
    """The GGUF model de-quantized into a transformers model, and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    path = Path(gguf_path)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=torch.float32
    )
    return model, tokenizer


def _ids(value: Any) -> list[int]:
    if isinstance(value, dict) or hasattr(value, "input_ids"):
        value = value["input_ids"]
    return [int(v) for v in value]


class Encoder:
    """Chat prompt + completion as token ids, with the prompt masked out of the loss."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.end = tokenizer.eos_token or "<|im_end|>"
        self.pad_id = tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = tokenizer.eos_token_id

    def encode(self, messages: list[dict[str, str]], completion: str) -> tuple[list[int], int]:
        prompt = _ids(
            self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        )
        answer = _ids(self.tokenizer(completion + self.end, add_special_tokens=False))
        return prompt + answer, len(prompt)

    def batch(self, encoded: Sequence[tuple[list[int], int]], device: str) -> dict[str, Any]:
        import torch

        width = max(len(ids) for ids, _ in encoded)
        input_ids = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, (ids, n_prompt) in enumerate(encoded):
            tensor = torch.tensor(ids, dtype=torch.long)
            input_ids[row, : len(ids)] = tensor
            labels[row, n_prompt : len(ids)] = tensor[n_prompt:]
            attention[row, : len(ids)] = 1
        return {
            "input_ids": input_ids.to(device),
            "attention_mask": attention.to(device),
            "labels": labels.to(device),
        }


def shared_prefix(encoded: Sequence[tuple[list[int], int]]) -> int:
    """Tokens every prompt starts with (system message and few-shot turns)."""
    if not encoded:
        return 0
    first = encoded[0][0]
    n = min(n_prompt for _, n_prompt in encoded)
    for ids, _ in encoded[1:]:
        while n and ids[:n] != first[:n]:
            n -= 1
    # Keep one prompt token in the suffix: it predicts the first completion token.
    return max(0, n - 1)


def sequence_stats(
    model: Any, batch: dict[str, Any], prefix: list[int] | None = None
) -> tuple[Any, Any, Any]:
    """Per sequence: summed completion log-prob, completion token count, mean entropy.

    ``prefix`` (tokens every sequence of the batch starts with, already cut from
    ``batch``) runs once, without a gradient, under the current adapter; its keys and
    values are shared by the batch. The loss then sees LoRA's effect on the completion
    and the theme's turn but not on the fixed few-shot prefix (374 of about 420 tokens
    per sequence with prompt v1), and the forward pass is still exact.
    """
    import torch

    mask = batch["attention_mask"]
    cache = None
    if prefix:
        with torch.no_grad():
            cache = model(
                input_ids=torch.tensor([prefix], device=mask.device), use_cache=True
            ).past_key_values
        cache.batch_repeat_interleave(mask.shape[0])
        ones = torch.ones((mask.shape[0], len(prefix)), dtype=mask.dtype, device=mask.device)
        mask = torch.cat([ones, mask], dim=1)
    logits = model(
        input_ids=batch["input_ids"], attention_mask=mask, past_key_values=cache, use_cache=False
    ).logits
    logits = logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    mask = labels != IGNORE
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    counts = mask.sum(-1).clamp(min=1)
    logp = (picked * mask).sum(-1)
    return logp, counts, (entropy * mask).sum(-1) / counts


def add_lora(model: Any, settings: FinetuneSettings) -> Any:
    from peft import LoraConfig, get_peft_model

    n_layers = int(model.config.num_hidden_layers)
    layers = list(range(max(0, n_layers - settings.lora_layers), n_layers))
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _batches(n: int, size: int, rng: random.Random) -> list[list[int]]:
    order = list(range(n))
    rng.shuffle(order)
    return [order[i : i + size] for i in range(0, n, size)]


def _capped(batches: list[list[int]], cap: int | None) -> list[list[int]]:
    return batches if cap is None else batches[:cap]


def train(
    model: Any,
    tokenizer: Any,
    data: TrainingSet,
    settings: FinetuneSettings,
    on_step: StepCallback | None = None,
) -> tuple[Any, TrainingLog]:
    """SFT (reward-weighted NLL - entropy bonus), then DPO against the SFT model (plus
    ``dpo_nll_weight`` x NLL of the chosen title, so chosen titles stay likely).
    Returns the LoRA model and the log."""
    import torch

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    device = device_name()
    started = time.perf_counter()
    model = add_lora(model, settings).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    log = TrainingLog(device=device, trainable_parameters=sum(p.numel() for p in params))
    encoder = Encoder(tokenizer)
    report = on_step or (lambda _phase, _i, _n: None)

    sft = data.sft.to_dicts()
    pairs = data.pairs.to_dicts()

    def encode(key: str, completion: str) -> tuple[list[int], int]:
        return encoder.encode(data.prompt(key, settings), completion)

    encoded = [encode(r["case_key"], r["completion"]) for r in sft]
    chosen = [encode(p["case_key"], p["chosen"]) for p in pairs]
    rejected = [encode(p["case_key"], p["rejected"]) for p in pairs]
    n_prefix = shared_prefix(encoded + chosen + rejected)
    prefix = (encoded + chosen)[0][0][:n_prefix] if n_prefix else []
    encoded, chosen, rejected = (_cut(e, n_prefix) for e in (encoded, chosen, rejected))
    log.prefix_tokens = n_prefix
    weights = torch.tensor([r["weight"] for r in sft], dtype=torch.float32, device=device)
    plan = _capped(
        [
            b
            for _ in range(settings.sft_epochs)
            for b in _batches(len(sft), settings.batch_size, rng)
        ],
        settings.max_steps,
    )
    optimizer = torch.optim.AdamW(params, lr=settings.sft_lr)
    model.train()
    for step, rows in enumerate(plan):
        report("train: SFT", step, len(plan))
        batch = encoder.batch([encoded[i] for i in rows], device)
        logp, counts, entropy = sequence_stats(model, batch, prefix)
        w = weights[rows]
        nll = ((-logp / counts) * w).sum() / w.sum().clamp(min=1e-6)
        loss = settings.sft_weight * nll - settings.entropy_weight * entropy.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.sft_loss.append(float(nll.detach()))
        log.entropy.append(float(entropy.mean().detach()))
    report("train: SFT", len(plan), len(plan))
    log.sft_steps = len(plan)

    if pairs and settings.dpo_weight > 0:
        model.eval()
        with torch.no_grad():  # the reference is the SFT model, frozen from here on
            ref_c = _logps(model, encoder, chosen, prefix, settings.batch_size, device)
            ref_r = _logps(model, encoder, rejected, prefix, settings.batch_size, device)
        model.train()
        half = max(1, settings.batch_size // 2)  # a pair is two sequences
        plan = _capped(
            [b for _ in range(settings.dpo_epochs) for b in _batches(len(pairs), half, rng)],
            settings.max_steps,
        )
        optimizer = torch.optim.AdamW(params, lr=settings.dpo_lr)
        for step, rows in enumerate(plan):
            report("train: DPO", step, len(plan))
            both = encoder.batch([chosen[i] for i in rows] + [rejected[i] for i in rows], device)
            logp, counts, entropy = sequence_stats(model, both, prefix)
            k = len(rows)
            margin = (logp[:k] - ref_c[rows]) - (logp[k:] - ref_r[rows])
            dpo = -torch.nn.functional.logsigmoid(settings.dpo_beta * margin).mean()
            nll = (-logp[:k] / counts[:k]).mean()
            loss = (
                settings.dpo_weight * dpo
                + settings.dpo_nll_weight * nll
                - settings.entropy_weight * entropy.mean()
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            log.dpo_loss.append(float(dpo.detach()))
            log.dpo_accuracy.append(float((margin > 0).float().mean()))
            log.entropy.append(float(entropy.mean().detach()))
        report("train: DPO", len(plan), len(plan))
        log.dpo_steps = len(plan)
    model.eval()
    log.seconds = time.perf_counter() - started
    return model, log


def _cut(encoded: list[tuple[list[int], int]], n: int) -> list[tuple[list[int], int]]:
    return [(ids[n:], n_prompt - n) for ids, n_prompt in encoded]


def _logps(
    model: Any,
    encoder: Encoder,
    encoded: list[tuple[list[int], int]],
    prefix: list[int],
    size: int,
    device: str,
) -> Any:
    import torch

    parts = [
        sequence_stats(model, encoder.batch(encoded[i : i + size], device), prefix)[0]
        for i in range(0, len(encoded), size)
    ]
    return torch.cat(parts)
