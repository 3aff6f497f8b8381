"""`injection.impersonation` and `injection.glued`: subjects that pose as the sender, an
account or a transaction, or carry seller texts run together; and shop copy that must pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from subjectline.data.contract import Item
from subjectline.safety import CheckContext, check_title, run_check

NOW = datetime(2025, 6, 12, 9, tzinfo=UTC)
ITEMS = [
    Item("t1", "Playfield Family Board Game", "Toys & Games > Board Games", "Playfield",
         25.0, "USD", True, NOW),
    Item("t2", "PeakForm Arch Support Running Shoes", "Sports > Running > Shoes", "PeakForm",
         90.0, "USD", True, NOW),
]  # fmt: skip


@pytest.fixture
def ctx() -> CheckContext:
    return CheckContext(items=ITEMS, now=NOW)


@pytest.mark.parametrize(
    "title",
    [
        "Your Account Team picks for you",
        "Your account team, you'll love it.",
        "Grocery store gift cards to your favorite brands",
        "Order confirmation: board games",
        "Order Confirmations and more",
        "Verify your account for board games",
        "Password reset: running shoes",
        "Your invoice for running shoes",
        "Billing Department picks",
        "Payment received for your shoes",
        "Refunds on running shoes",
        "Customer Support picks for you",
        "Security alert: new board games",
        "Shipping notice: your board games",
        "E-gift card picks",
        "A note from no-reply",
    ],
)
def test_impersonation_is_rejected(title: str, ctx: CheckContext) -> None:
    reason = run_check("injection.impersonation", title, ctx)
    assert reason is not None and reason.detail
    assert not check_title(title, ctx).ok


@pytest.mark.parametrize(
    "title",
    [
        "Card games for family night",
        "Board games and card games for you",
        "Team sports gear for your weekend",
        "Arch support running shoes from PeakForm",
        "Security cameras for your home",
        "Statement earrings in gold",
        "Order yours: board games for family night",
        "Accountant-approved desk picks",
        "Support your morning run",
    ],
)
def test_shop_copy_is_not_impersonation(title: str, ctx: CheckContext) -> None:
    assert run_check("injection.impersonation", title, ctx) is None


def test_glued_seller_text_is_rejected_but_brands_are_not(ctx: CheckContext) -> None:
    reason = run_check("injection.glued", "Running shoes for your iPhoneSelling only", ctx)
    assert reason is not None and "iPhoneSelling" in reason.detail
    assert run_check("injection.glued", "PeakForm running shoes", ctx) is None
    assert run_check("injection.glued", "Board games from Playfield", ctx) is None
    assert run_check("injection.glued", "Accessories for your iPhone", ctx) is None
