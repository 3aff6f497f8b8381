"""The reward, the training set built from it, the split and the evaluation metrics."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from subjectline.finetune.cases import is_holdout, split_cases
from subjectline.finetune.dataset import build_training_set, score_candidates
from subjectline.finetune.evaluate import (
    bootstrap_ci,
    distinct_n,
    generator_metrics,
    paired_difference,
)
from subjectline.finetune.records import FinetuneSettings
from subjectline.finetune.reward import score_case
from subjectline.generate import GenerationStats

from .conftest import running_case

GOOD = "Running shoes from Stride for your next trail"
PLAIN = "Running shoes"
UNSAFE = "Running shoes 90% OFF, act now!!! http://x.example"


def test_failing_candidate_earns_zero_and_keeps_its_reasons() -> None:
    scored = score_case(running_case(), [GOOD, UNSAFE], lam=0.3)
    good, bad = scored.row(0, named=True), scored.row(1, named=True)
    assert good["safe"] and good["reward"] == pytest.approx(good["score"]) and good["reward"] > 0
    assert not bad["safe"] and bad["reward"] == 0.0 and bad["score"] > 0
    assert bad["reasons"]


def test_lambda_moves_the_reward_between_creativity_and_conversion() -> None:
    case = running_case()
    for lam in (0.0, 1.0):
        row = score_case(case, [GOOD], lam=lam).row(0, named=True)
        expected = row["creativity"] if lam == 1.0 else row["conversion"]
        assert row["reward"] == pytest.approx(expected)


def test_training_set_keeps_best_passing_and_pairs_best_with_worst() -> None:
    case = running_case()
    scored = score_candidates([case], {case.key: [GOOD, PLAIN, UNSAFE]}, lam=0.3)
    assert scored["is_template"].sum() == 1
    settings = FinetuneSettings(sft_per_theme=1, min_pair_margin=0.01)
    data = build_training_set(scored, [case], settings)
    best = scored.filter(~pl.col("is_template") & pl.col("safe")).sort("reward")[-1]
    assert data.sft["completion"].to_list() == best["title"].to_list()
    assert data.sft["weight"].max() == pytest.approx(1.0)
    assert UNSAFE in data.pairs["rejected"].to_list()
    assert set(data.pairs["chosen"]) == set(best["title"])
    # The fine-tuned model answers the base model's prompt, which names the theme.
    chat = data.prompt(case.key, settings)
    assert chat[-1]["role"] == "user" and "Running shoes" in chat[-1]["content"]
    assert chat[0]["role"] == "system" and len(chat) > 2  # few-shot turns kept


def test_no_target_when_nothing_beats_the_template() -> None:
    case = running_case()
    scored = score_candidates([case], {case.key: [UNSAFE]}, lam=0.3)
    data = build_training_set(scored, [case], FinetuneSettings())
    assert data.sft.height == 0 and data.pairs.height == 0


def test_split_is_stable_and_excluded_keys_never_train() -> None:
    case = running_case()
    assert is_holdout("a/b", 0.3) == is_holdout("a/b", 0.3)
    shares = np.mean([is_holdout(f"k{i}", 0.3) for i in range(4000)])
    assert 0.27 < shares < 0.33
    train, held = split_cases([case], 0.3, exclude=[case.theme.key])
    assert train == [] and held == []


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="lam"):
        FinetuneSettings(lam=1.5)
    with pytest.raises(ValueError, match="candidates"):
        FinetuneSettings(candidates=1)
    assert FinetuneSettings().digest() != FinetuneSettings(entropy_weight=0.5).digest()


def test_distinct_2_and_paired_difference() -> None:
    assert distinct_n(["a b c", "a b d"]) == pytest.approx(3 / 4)
    assert distinct_n(["one"]) == 0.0
    base = pl.DataFrame(
        {"case_key": ["x", "x", "y"], "reward": [0.2, 0.4, 0.5], "is_template": [False] * 3}
    )
    tuned = base.with_columns(pl.col("reward") + 0.1)
    diff = paired_difference(base, tuned)
    assert diff["estimate"] == pytest.approx(0.1) and diff["themes"] == 2
    low, high = bootstrap_ci(np.array([0.1, 0.2, 0.3, 0.4]))
    assert 0.1 <= low < high <= 0.4


def test_shared_prefix_stops_before_the_first_difference() -> None:
    from subjectline.finetune.train import shared_prefix

    encoded = [([1, 2, 3, 4, 9, 9], 5), ([1, 2, 3, 5, 9], 4), ([1, 2, 3, 4, 7], 4)]
    assert shared_prefix(encoded) == 2  # common [1, 2, 3], one left to predict from
    assert shared_prefix([]) == 0


def test_sft_targets_skip_near_duplicates_of_a_better_one() -> None:
    case = running_case()
    echo = "Running shoes from Stride for your next trail run"
    other = "Stride trail shoes, waterproof and ready"
    scored = score_candidates([case], {case.key: [GOOD, echo, other]}, lam=0.3)
    data = build_training_set(scored, [case], FinetuneSettings(sft_per_theme=3))
    kept = data.sft["completion"].to_list()
    assert len(kept) == len(set(kept))
    # GOOD and its echo share 7 of their 9 word pairs: at most one of them is a target.
    assert not {GOOD, echo} <= set(kept)
    assert other in kept or scored.filter(pl.col("title") == other)["safe"].item() is False


def test_movielens_gives_category_campaigns_beside_user_themes() -> None:
    from subjectline.finetune.cases import movielens_cases

    cases = movielens_cases(24)
    keys = [c.theme.key for c in cases]
    assert len(keys) == len(set(keys)) and len(keys) >= 10
    # The users' own emails share only a few genres; campaigns add the rest.
    assert {"category:Movies > Horror", "category:Movies > Documentary"} <= set(keys)
    assert all(c.check_ctx.items and c.theme.example_titles for c in cases)
    assert len(movielens_cases(5)) == 5


def test_training_worlds_add_new_themes_only_and_never_the_evaluation_ones() -> None:
    from subjectline.finetune.records import preset_settings
    from subjectline.finetune.run import collect_sources

    settings = preset_settings("smoke", synth_worlds=2, synth_themes=48)
    excluded = ["category:Beauty", "brand:Brickwise"]
    sources = collect_sources(settings, excluded)
    keys = [c.key for c in sources.train + sources.held_out]
    assert len(keys) == len(set(keys))
    assert not {k.split("/", 1)[1] for k in keys} & set(excluded)
    per_world = [len(w.cases) for w in sources.worlds]
    assert len(per_world) == 2 and per_world[1] > 0  # the second world's seed adds themes
    assert {c.source for c in sources.train + sources.held_out} == {"synthetic", "movielens"}


def test_each_world_scores_its_own_cases_and_movielens_none() -> None:
    from subjectline.finetune.records import preset_settings
    from subjectline.finetune.run import collect_sources, engagement_by_case

    sources = collect_sources(preset_settings("smoke", synth_worlds=2, synth_themes=48), [])
    first, second = (w.cases[:2] for w in sources.worlds)
    movie = next(c for c in sources.train + sources.held_out if c.source == "movielens")
    wanted = [*first, *second, movie]
    titles = {c.key: [f"{c.theme.label} picks for you", "Fresh finds this week"] for c in wanted}
    scorers = engagement_by_case(sources.worlds, wanted, titles)
    assert set(scorers) == {c.key for c in [*first, *second]}
    assert scorers[first[0].key] is scorers[first[1].key]
    assert scorers[first[0].key] is not scorers[second[0].key]
    predicted = scorers[second[0].key].predict(second[0], titles[second[0].key])
    assert predicted.shape == (2,) and ((predicted > 0) & (predicted < 1)).all()


def test_evaluation_reports_the_judges_sendable_rate_beside_safety() -> None:
    scored = pl.DataFrame(
        {
            "case_key": ["a", "a", "a", "a"],
            "title": ["Boots for you", "Boots for your boots", "Boots, 50% off", "Top picks"],
            "is_template": [False, False, False, True],
            "safe": [True, False, False, True],
            "reasons": ["", "quality.tautology", "grounding.discount", ""],
            "reward": [0.5, 0.0, 0.0, 0.4],
        }
    )
    metrics = generator_metrics(scored, GenerationStats())
    assert metrics["safety_pass_rate"] == round(1 / 3, 4)
    assert metrics["judge_sendable_rate"] == round(2 / 3, 4)
