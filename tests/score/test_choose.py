"""The campaign hook ranks the template and the candidates of every theme."""

from __future__ import annotations

from subjectline.data.synth import SynthConfig, synthesize
from subjectline.score.choose import rank_campaign
from subjectline.themes.contract import Theme


def test_rank_campaign_prefers_on_theme_titles() -> None:
    items = synthesize(SynthConfig(users=50, items=200, seed=1)).items
    lips = items.filter(items["category"] == "Beauty > Makeup > Lips").head(4)
    theme = Theme(
        key="category:Beauty > Makeup > Lips",
        kind="category",
        label="Lips",
        root_category="Beauty",
        brands=tuple(lips["brand"].unique().sort()),
    )
    brand = lips["brand"][0]
    candidates = [
        "Cold brew coffee and running shoes",
        f"Shop {brand} lipstick and lip gloss",
        "Something special just for you",
    ]
    ranked = rank_campaign(
        {theme.key: theme},
        {theme.key: candidates},
        items,
        {theme.key: lips["item_id"].to_list()},
        {"Beauty": 0.2},
    )[theme.key]
    assert len(ranked) == 4  # the template joins the candidates
    titles = [r.title for r in ranked]
    assert titles[0] == f"Shop {brand} lipstick and lip gloss"
    assert titles.index("Cold brew coffee and running shoes") > titles.index("New in Lips")
