"""Objectives, reranking, Pareto front and the lambda trade-off."""

from __future__ import annotations

import json

import numpy as np
import pytest

from subjectline.score.objectives import OBJECTIVES, ThemeContext, score_objectives
from subjectline.score.rerank import lambda_for, load_lambdas, pareto_front, rerank
from subjectline.score.text import vocabulary
from subjectline.score.tradeoff import ScoredTheme, elbow, elbows, plot_curves, sweep, write_lambdas
from subjectline.themes.contract import Theme

SHOES = Theme(
    key="category:Sports > Running > Shoes",
    kind="category",
    label="Running Shoes",
    root_category="Sports",
    brands=("Stridewell", "Velora"),
)
ITEMS = (
    "Stridewell Pro Trail Runner Stridewell Sports > Running > Shoes Black",
    "Velora Ultra Road Shoe Velora Sports > Running > Shoes Blue",
)
CATALOG = vocabulary([*ITEMS, "Bean Theory Cold Brew Coffee Grocery", "Glowhaus Lipstick Beauty"])


@pytest.fixture()
def ctx() -> ThemeContext:
    return ThemeContext(
        theme=SHOES, template="New in Shoes", item_texts=ITEMS, catalog_vocab=CATALOG
    )


def test_every_objective_is_in_unit_interval(ctx: ThemeContext) -> None:
    titles = ["New in Shoes", "Shop Stridewell running shoes", "BUY NOW!!! FREE cash", "a"]
    scores = score_objectives(titles, ctx, np.array([0.02, 0.03, 0.01, 0.02]), 0.02)
    assert scores.columns == ["title", *OBJECTIVES]
    values = scores.select(OBJECTIVES).to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()


def test_objectives_order_titles_sensibly(ctx: ThemeContext) -> None:
    titles = [
        "Shop Stridewell running shoes for your next race",  # on theme, detail, fitting CTA
        "Something special just for you",  # vague
        "Running shoes and cold brew coffee",  # names what is not in the email
        "BUY NOW: running shoes, hurry!!",  # pushy
        "New in Shoes",  # the template itself
    ]
    s = score_objectives(titles, ctx).to_dict(as_series=False)
    relevance, cta, novelty = s["relevance"], s["cta"], s["novelty"]
    assert relevance[0] > relevance[4] > relevance[1]
    assert relevance[2] < relevance[0]
    assert cta[0] == 1.0 and cta[1] == pytest.approx(0.4) and cta[3] == 0.0
    assert novelty[4] == pytest.approx(0.0, abs=1e-9) and novelty[0] > 0.3
    happy = score_objectives(["Lovely running shoes you will love"], ctx)["sentiment"][0]
    sad = score_objectives(["Terrible awful running shoes"], ctx)["sentiment"][0]
    assert happy > 0.5 > sad


def test_diversity_penalises_copies_of_other_themes(ctx: ThemeContext) -> None:
    others = ["Top picks in Coffee", "New in Beauty"]
    titles = ["Top picks in Coffee", "Stridewell trail runners"]
    s = score_objectives(titles, ctx, None, None, others)
    assert s["diversity"][0] < s["diversity"][1]


def test_engagement_objective_is_relative_to_template(ctx: ThemeContext) -> None:
    s = score_objectives(["a b", "c d", "e f"], ctx, np.array([0.02, 0.024, 0.01]), 0.02)
    assert s["engagement"].to_list() == pytest.approx([0.5, 1.0, 0.0])
    assert score_objectives(["a b"], ctx)["engagement"][0] == 0.5


def test_pareto_front() -> None:
    points = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [1, 0]])
    assert pareto_front(points).tolist() == [True, True, True, False, True]


def test_rerank_lambda_moves_the_choice(ctx: ThemeContext) -> None:
    titles = ["New in Shoes", "Shop Stridewell running shoes", "Lovely dreamy adventures await"]
    ctr = np.array([0.020, 0.026, 0.015])
    conversion = rerank(titles, ctx, 0.0, ctr, 0.02)
    creativity = rerank(titles, ctx, 1.0, ctr, 0.02)
    assert conversion[0].title == "Shop Stridewell running shoes"
    assert creativity[0].title == "Lovely dreamy adventures await"
    assert [r.score for r in conversion] == sorted((r.score for r in conversion), reverse=True)
    assert any(r.pareto for r in conversion)
    with pytest.raises(ValueError):
        rerank(titles, ctx, 1.5)


def test_elbow_of_a_known_curve() -> None:
    lams = np.linspace(0, 1, 11)
    creativity = np.minimum(lams * 4, 1.0)  # rises fast, then flat
    conversion = 1.0 - lams**3  # barely drops at first
    assert elbow(lams, creativity, conversion) == pytest.approx(0.3)
    assert elbow(lams, np.ones(11), np.ones(11)) == lambda_for("x", None)


def test_sweep_plot_and_lambdas_file(ctx: ThemeContext, tmp_path) -> None:
    titles = ["New in Shoes", "Shop Stridewell running shoes", "Lovely dreamy adventures await"]
    objectives = score_objectives(titles, ctx, np.array([0.02, 0.026, 0.015]), 0.02)
    curves = sweep([ScoredTheme("Sports", objectives)])
    assert curves["category"].unique().to_list() == ["Sports"]
    assert curves["conversion"][0] >= curves["conversion"][-1]
    assert curves["creativity"][0] <= curves["creativity"][-1]
    chosen = elbows(curves)
    path = write_lambdas(tmp_path / "tradeoff.json", chosen, curves)
    assert load_lambdas(path) == chosen
    assert json.loads(path.read_text())["curves"]
    png = plot_curves(curves, chosen, tmp_path / "tradeoff.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert lambda_for("Sports", chosen) == chosen["Sports"]


def test_straight_curve_takes_free_creativity() -> None:
    lams = np.linspace(0, 1, 5)
    assert elbow(lams, lams, np.full(5, 0.6)) == 1.0


def test_bad_lambdas_file_is_a_data_error(tmp_path) -> None:
    from subjectline.errors import DataError

    with pytest.raises(DataError, match="no such file"):
        load_lambdas(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"lambda": {"Sports": 2.0}}')
    with pytest.raises(DataError, match="outside"):
        load_lambdas(bad)
