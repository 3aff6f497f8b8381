"""Synthetic sends for tests, demos and the tracking load benchmark."""

from __future__ import annotations

import random

from subjectline.deliver.records import EmailItem, Send, example_invalid_address, make_send_id
from subjectline.deliver.render import RenderConfig, item_url


def synthetic_sends(
    n: int,
    campaign_id: str = "synthetic",
    arms: tuple[str, ...] = ("template", "llm"),
    items_per_send: int = 4,
    seed: int = 0,
    config: RenderConfig | None = None,
) -> list[Send]:
    """``n`` sends to users ``u00000..`` with ``items_per_send`` catalog-like items each."""
    config = config or RenderConfig()
    rng = random.Random(seed)
    sends = []
    for i in range(n):
        user_id = f"u{i:05d}"
        items = []
        for _ in range(items_per_send):
            item_id = f"i{rng.randrange(10_000):05d}"
            items.append(
                EmailItem(
                    item_id=item_id,
                    title=f"Trail shoe {item_id}",
                    price=round(rng.uniform(5, 200), 2),
                    currency="USD",
                    url=item_url(config.item_url_template, item_id),
                    image_url=item_url(config.image_url_template, item_id),
                )
            )
        arm = arms[i % len(arms)]
        sends.append(
            Send(
                send_id=make_send_id(campaign_id, user_id),
                campaign_id=campaign_id,
                user_id=user_id,
                email=example_invalid_address(user_id),
                subject="Top picks for you" if arm == arms[0] else "Fresh trail shoes for you",
                preheader="Trail shoes and more picks for you",
                arm=arm,
                items=tuple(items),
                theme_key="category:Sports > Running > Trail",
                theme_label="Trail running",
                first_name=f"User{i}",
            )
        )
    return sends
