"""The per-run LLM call cap: retries stop at the budget and a rerun asks nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from subjectline.generate import PromptSettings, generate_titles
from subjectline.generate.records import Prompt
from subjectline.themes.contract import Theme
from subjectline.workspace import Workspace

THEMES = [
    Theme("category:Sports > Running > Shoes", "category", "Running Shoes", "Sports"),
    Theme("brand:Velora", "brand", "Velora", "Sports", brands=("Velora",)),
]


class HalfGarbageBackend:
    """Answers well for even candidates and with nothing for odd ones (a failure path)."""

    name = "half-garbage"
    model_id = "fake"
    calls_llm = True

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, prompts: Sequence[Prompt]) -> list[str]:
        self.calls += len(prompts)
        return [
            "" if p.index % 2 else f"{p.spec.required_phrase or ''} picks {p.index}"
            for p in prompts
        ]


def test_retries_stop_at_the_budget_and_a_rerun_asks_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    settings = PromptSettings(prompt_version="v1", n_candidates=4, max_retries=2)
    backend = HalfGarbageBackend()
    found, stats = generate_titles(THEMES, backend, settings, ws, max_llm_calls=10)
    # 8 first asks, then only 2 of the 4 failed ones are asked again (and fail again):
    # 2 are cut in the second round and those 2 in the third.
    assert stats.llm_calls == backend.calls == 10
    assert stats.rejections["llm_budget"] == 4
    assert all(len(c) == 2 for c in found.values())
    again = HalfGarbageBackend()
    _, stats_again = generate_titles(THEMES, again, settings, ws, max_llm_calls=10)
    assert again.calls == stats_again.llm_calls == 0


def test_without_a_budget_retries_are_bounded_by_max_retries(tmp_path: Path) -> None:
    settings = PromptSettings(prompt_version="v1", n_candidates=4, max_retries=2)
    backend = HalfGarbageBackend()
    _, stats = generate_titles(THEMES, backend, settings, Workspace(tmp_path / "ws"))
    assert stats.llm_calls == 8 + 4 + 4
