"""Every backend on the real path: the embedded model in-process, the same model behind
``subjectline serve-llm`` through the openai client, and the templates."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from subjectline.generate import (
    PromptSettings,
    TemplateBackend,
    TitleBackend,
    build_prompt,
    generate_titles,
    make_backend,
    personalize,
)
from subjectline.generate.cache import TABLE
from subjectline.generate.local import LocalBackend
from subjectline.themes import THEME_KINDS, Theme
from subjectline.workspace import Workspace

from .conftest import MIXED, RUNNING, assert_clean_titles

# Few titles: the real model writes a few per second on 2 cores.
SETTINGS = PromptSettings(n_candidates=3)


def _check_generation_and_cache(backend: TitleBackend, workspace: Workspace) -> None:
    titles, stats = generate_titles([RUNNING, MIXED, RUNNING], backend, SETTINGS, workspace)
    assert list(titles) == [RUNNING.key, MIXED.key]
    assert stats.themes == 2
    # Bounded: at most themes x n x (1 + max_retries) calls, never per duplicate theme.
    assert 6 <= stats.llm_calls <= 6 * (1 + SETTINGS.max_retries)
    assert stats.tokens > 0 and stats.cache_hits == 0
    for key, candidates in titles.items():
        assert len(candidates) == SETTINGS.n_candidates, (key, candidates, stats)
        texts = [c.text for c in candidates]
        assert_clean_titles(texts, build_prompt(RUNNING, SETTINGS, 0).spec)
        assert len(set(texts)) == len(texts)
        assert all(c.backend == backend.name and c.model == backend.model_id for c in candidates)
    assert all("running shoes" in c.text.lower() for c in titles[RUNNING.key])

    again, stats2 = generate_titles([RUNNING, MIXED], backend, SETTINGS, workspace)
    assert stats2.llm_calls == 0
    assert stats2.cache_hits == 6
    assert {k: [c.text for c in v] for k, v in again.items()} == {
        k: [c.text for c in v] for k, v in titles.items()
    }
    assert all(c.cached for c in again[RUNNING.key])
    assert workspace.table(TABLE).height == 6


def test_local_backend_writes_clean_titles_and_caches_them(
    local_backend: LocalBackend, tmp_path: Path
) -> None:
    _check_generation_and_cache(local_backend, Workspace(tmp_path / "ws"))


def test_openai_backend_against_the_served_local_model(served_llm: str, tmp_path: Path) -> None:
    models = httpx.get(f"{served_llm}/models", timeout=10).json()
    assert models["data"][0]["id"] == "SmolLM2-135M-Instruct.Q4_1"
    backend = make_backend("openai", base_url=served_llm, grammar=True, concurrency=2)
    assert backend.model_id == "SmolLM2-135M-Instruct.Q4_1"  # found via /v1/models
    _check_generation_and_cache(backend, Workspace(tmp_path / "ws"))


def test_openai_backend_without_grammar_relies_on_post_processing(served_llm: str) -> None:
    backend = make_backend("openai", base_url=served_llm, grammar=False)
    settings = PromptSettings(n_candidates=2, tone="playful")
    titles, stats = generate_titles([RUNNING], backend, settings)
    assert stats.llm_calls >= 2
    assert_clean_titles(
        [c.text for c in titles[RUNNING.key]], build_prompt(RUNNING, settings, 0).spec
    )


def test_personalized_titles_are_filled_after_generation(local_backend: LocalBackend) -> None:
    settings = PromptSettings(n_candidates=2, personalization=True, seed=11)
    titles, _ = generate_titles([RUNNING], local_backend, settings)
    for candidate in titles[RUNNING.key]:
        for name in ("Ana", None):
            text = personalize(candidate.text, name, budget=settings.char_budget)
            assert "{" not in text and text and len(text) <= settings.char_budget


@pytest.mark.parametrize("kind", THEME_KINDS)
def test_template_backend_per_kind(kind: str) -> None:
    theme = Theme(
        key="category:Sports > Running > Shoes" if kind == "category" else f"{kind}:x",
        kind=kind,  # type: ignore[arg-type]
        label="Running shoes" if kind == "category" else "Under 25",
        root_category="Sports",
        brands=("Stride",),
    )
    titles, stats = generate_titles([theme], TemplateBackend(), PromptSettings(n_candidates=4))
    texts = [c.text for c in titles[theme.key]]
    assert len(texts) == 4 and stats.llm_calls == 0
    assert_clean_titles(texts, build_prompt(theme, PromptSettings(), 0).spec)
    expected_first = {
        "category": "New in Running shoes",
        "brand": "Stride picks for you",
        "new_arrivals": "New arrivals for you",
        "mixed": "Top picks for you",
    }
    if kind in expected_first:
        assert texts[0] == expected_first[kind]


def test_make_backend_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend("gpt-banana")


def test_cache_asks_again_when_a_themes_prompt_fields_change(
    local_backend: LocalBackend, tmp_path: Path
) -> None:
    import dataclasses

    workspace = Workspace(tmp_path / "ws")
    generate_titles([RUNNING], local_backend, SETTINGS, workspace)
    audience_only = dataclasses.replace(RUNNING, coverage=RUNNING.coverage / 2)
    _, same = generate_titles([audience_only], local_backend, SETTINGS, workspace)
    assert same.cache_hits == 3 and same.llm_calls == 0
    # Same key, other items (another marketplace or next week's catalog): new titles.
    restocked = dataclasses.replace(RUNNING, example_titles=("Carbon-plate racing flat",))
    titles, fresh = generate_titles([restocked], local_backend, SETTINGS, workspace)
    assert fresh.cache_hits == 0 and fresh.llm_calls >= 3
    assert len(titles[RUNNING.key]) == 3
    assert workspace.table(TABLE).height == 6
