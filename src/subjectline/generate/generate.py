"""Titles per distinct theme, cached in the workspace.

LLM calls grow with the number of distinct themes (x candidates, plus bounded retries),
never with the number of users: a campaign calls this once with its distinct themes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from subjectline.generate import cache
from subjectline.generate.backends import TitleBackend
from subjectline.generate.prompts import build_prompt, candidate_count, load_template
from subjectline.generate.records import (
    Candidate,
    Completion,
    GenerationStats,
    Prompt,
    PromptSettings,
)
from subjectline.generate.text import clean_title, normalized_key
from subjectline.themes import Theme
from subjectline.workspace import Workspace

ProgressCallback = Callable[[int, int], None]
DUPLICATE_MAX_TEMPERATURE = 1.3


@dataclass
class _Slot:
    """One candidate position (theme, index) on its way to a final row."""

    theme: Theme
    index: int
    cache_id: str  # the theme's name in the cache (``cache_theme_id``)
    attempts: int = 0
    row: cache.CachedRow | None = None
    last_reason: str | None = None


def _as_completion(value: Completion | str) -> Completion:
    return value if isinstance(value, Completion) else Completion(text=str(value))


def backend_model_id(backend: TitleBackend) -> str:
    return f"{backend.name}:{backend.model_id}"


def cache_theme_id(theme: Theme) -> str:
    """The cache's name for a theme: its key and a digest of what the prompt reads of
    it, so a theme of the same key with other items (another marketplace in the same
    workspace, next week's catalog) is asked anew instead of served stale titles."""
    read = {f.name: getattr(theme, f.name) for f in dataclasses.fields(theme)}
    read.pop("coverage")  # audience statistics, not prompt text
    digest = hashlib.sha256(json.dumps(read, sort_keys=True).encode()).hexdigest()[:12]
    return f"{theme.key}@{digest}"


def generate_titles(
    themes: Sequence[Theme],
    backend: TitleBackend,
    settings: PromptSettings | None = None,
    workspace: Workspace | None = None,
    progress: ProgressCallback | None = None,
    max_llm_calls: int | None = None,
) -> tuple[dict[str, list[Candidate]], GenerationStats]:
    """Up to ``settings.n_candidates`` well-formed candidates per distinct theme key
    (a grounded prompt asks no more than its menu holds, see ``candidate_count``).

    Each (theme, index) is looked up in ``title_cache`` first; missing ones are asked of
    the backend in one batch per round. An output that is empty or unusable after
    cleaning (see :func:`clean_title`), or a duplicate of an earlier candidate of the
    same theme, is asked again with another seed and a cooler temperature, at most
    ``settings.max_retries`` times; so LLM calls <= themes x n x (1 + max_retries).
    A candidate still unusable then is dropped (and cached as such).
    ``max_llm_calls`` caps the calls of this run, retries included: candidates it leaves
    unasked are given up (and cached as such, so a rerun asks nothing).
    Returns candidates by theme key, in index order, and the counts.
    """
    settings = settings or PromptSettings()
    started = time.perf_counter()
    unique: dict[str, Theme] = {}
    for theme in themes:
        unique.setdefault(theme.key, theme)
    stats = GenerationStats(themes=len(unique))
    calls_llm = bool(getattr(backend, "calls_llm", True))
    key = cache.CacheKey(
        prompt_version=settings.prompt_version,
        model_id=backend_model_id(backend),
        settings_hash=settings.cache_hash(load_template(settings.prompt_version).digest),
    )
    use_cache = workspace is not None and calls_llm
    n = settings.n_candidates
    ids = {k: cache_theme_id(theme) for k, theme in unique.items()}
    found = cache.load(workspace, key, list(ids.values()), n) if use_cache and workspace else {}
    stats.cache_hits = len(found)
    slots = {
        (k, i): _Slot(theme, i, ids[k], row=found.get((ids[k], i)))
        for k, theme in unique.items()
        for i in range(candidate_count(theme, settings) if calls_llm else n)
    }
    pending = [slot for slot in slots.values() if slot.row is None]
    total, done = len(slots), len(slots) - len(pending)
    if progress:
        progress(done, total)

    for attempt in range(settings.max_retries + 1):
        if not pending:
            break
        if max_llm_calls is not None and calls_llm:
            pending.sort(key=lambda s: (s.theme.key, s.index))
            room = max(0, max_llm_calls - stats.llm_calls)
            starved = pending[room:]
            pending = pending[:room]
            for slot in starved:
                slot.row = _budget_row(slot, settings, attempt, backend)
            stats.rejections["llm_budget"] = stats.rejections.get("llm_budget", 0) + len(starved)
            if use_cache and workspace is not None and starved:
                cache.store(workspace, key, [s.row for s in starved if s.row is not None])
            done += len(starved)
            if not pending:
                break
        prompts = [_prompt_for(s, settings, attempt) for s in pending]
        answers = [_as_completion(a) for a in backend.complete(prompts)]
        if len(answers) != len(prompts):
            raise RuntimeError(f"{backend.name} answered {len(answers)} of {len(prompts)}")
        if calls_llm:
            stats.llm_calls += len(prompts)
            stats.retries += len(prompts) if attempt else 0
        final_attempt = attempt == settings.max_retries
        retry, finished = _judge(
            pending, prompts, answers, slots, stats, backend, final_attempt=final_attempt
        )
        if use_cache and workspace is not None:
            cache.store(workspace, key, [s.row for s in finished if s.row is not None])
        pending = retry
        done += len(finished)
        if progress:
            progress(done, total)

    by_theme: dict[str, list[Candidate]] = {k: [] for k in unique}
    for (theme_key, _), slot in sorted(slots.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        row = slot.row
        if row is None or row.text is None:
            stats.failed += 1
            continue
        by_theme[theme_key].append(
            Candidate(
                theme_key=theme_key,
                text=row.text,
                backend=row.backend,
                model=row.model,
                prompt_version=settings.prompt_version,
                seed=row.seed,
                temperature=row.temperature,
                index=row.idx,
                attempts=row.attempts,
                cached=(ids[theme_key], row.idx) in found,
            )
        )
    stats.candidates = sum(len(c) for c in by_theme.values())
    stats.seconds = round(time.perf_counter() - started, 3)
    return {k: by_theme[k] for k in unique}, stats


def _prompt_for(slot: _Slot, settings: PromptSettings, attempt: int) -> Prompt:
    """The slot's prompt; a duplicate is asked again hotter (cooler would repeat it)."""
    prompt = build_prompt(slot.theme, settings, slot.index, attempt)
    if slot.last_reason == "duplicate":
        base = settings.temperature_for(slot.index)
        hotter = round(min(DUPLICATE_MAX_TEMPERATURE, base + 0.25 * attempt), 4)
        prompt = dataclasses.replace(prompt, temperature=hotter)
    return prompt


def _budget_row(
    slot: _Slot, settings: PromptSettings, attempt: int, backend: TitleBackend
) -> cache.CachedRow:
    """A candidate the call budget left unasked: given up, with the reason."""
    return cache.CachedRow(
        theme_key=slot.cache_id,
        idx=slot.index,
        text=None,
        reason="llm_budget",
        raw=None,
        seed=settings.seed_for(slot.index, attempt),
        temperature=settings.temperature_for(slot.index, attempt),
        attempts=slot.attempts,
        backend=backend.name,
        model=backend.model_id,
    )


def _judge(
    pending: list[_Slot],
    prompts: list[Prompt],
    answers: list[Completion],
    slots: dict[tuple[str, int], _Slot],
    stats: GenerationStats,
    backend: TitleBackend,
    final_attempt: bool,
) -> tuple[list[_Slot], list[_Slot]]:
    """Clean each answer; accept it, or send the slot round again (or give up)."""
    calls_llm = bool(getattr(backend, "calls_llm", True))
    retry: list[_Slot] = []
    finished: list[_Slot] = []
    order = sorted(range(len(pending)), key=lambda j: (pending[j].theme.key, pending[j].index))
    for j in order:
        slot, prompt, answer = pending[j], prompts[j], answers[j]
        slot.attempts += 1
        stats.tokens += answer.completion_tokens
        stats.prompt_tokens += answer.prompt_tokens
        spec = prompt.spec if calls_llm else dataclasses.replace(prompt.spec, required_phrase=None)
        cleaned = clean_title(answer.text, spec, cut_off=answer.finish_reason == "length")
        reason = cleaned.reason
        if cleaned.text is not None and calls_llm and _duplicate(slot, cleaned.text, slots):
            reason = "duplicate"
        if reason is None:
            stats.outputs_accepted += 1
            stats.outputs_clean += int(cleaned.untouched)
        else:
            stats.rejections[reason] = stats.rejections.get(reason, 0) + 1
            slot.last_reason = reason
            if not final_attempt:
                retry.append(slot)
                continue
        slot.row = cache.CachedRow(
            theme_key=slot.cache_id,
            idx=slot.index,
            text=cleaned.text if reason is None else None,
            reason=reason,
            raw=answer.text[:500],
            seed=prompt.seed,
            temperature=prompt.temperature,
            attempts=slot.attempts,
            backend=backend.name,
            model=backend.model_id,
        )
        finished.append(slot)
    return retry, finished


def _duplicate(slot: _Slot, text: str, slots: dict[tuple[str, int], _Slot]) -> bool:
    key = normalized_key(text)
    for (theme_key, index), other in slots.items():
        if theme_key != slot.theme.key or index == slot.index or other.row is None:
            continue
        if other.row.text is not None and normalized_key(other.row.text) == key:
            return True
    return False
