"""Turn a campaign (one row per user) and the workspace catalog into typed sends."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from subjectline.deliver.address import normalise_address
from subjectline.deliver.records import (
    AddressResolver,
    EmailItem,
    Send,
    example_invalid_address,
    make_send_id,
)
from subjectline.deliver.render import RenderConfig, address_problem, header_text_problem, item_url
from subjectline.errors import DataError

CAMPAIGN_COLUMNS = ("user_id", "subject", "arm", "item_ids")


@dataclass(frozen=True)
class BuildReport:
    sends: list[Send]
    suppressed: int  # users left out because they, or their address, unsubscribed
    no_address: int  # users the resolver had no address for
    shared_address: int = 0  # users whose mailbox already gets this campaign's email


def default_preheader(theme_label: str | None, titles: list[str]) -> str:
    if not titles:
        return theme_label or ""
    more = len(titles) - 1
    lead = titles[0] if len(titles[0]) <= 60 else titles[0][:57] + "..."
    return f"{lead} and {more} more picks for you" if more else f"{lead}, picked for you"


def build_sends(
    campaign: pl.DataFrame,
    items: pl.DataFrame,
    users: pl.DataFrame | None,
    campaign_id: str,
    config: RenderConfig | None = None,
    resolve_address: AddressResolver = example_invalid_address,
    suppressed: Collection[str] = (),
    source: str = "campaign",
    suppressed_addresses: Collection[str] = (),
) -> BuildReport:
    """One :class:`Send` per campaign row whose user is neither suppressed nor unaddressable.

    ``campaign`` has user_id, subject, arm, item_ids (list, theme items first) and
    optionally theme_key, theme_label, preheader; ``items`` and ``users`` follow the data
    contract. Items missing from the catalog are dropped from the email. A user is
    suppressed by user id (``suppressed``) or by address: ``suppressed_addresses`` holds
    normalised addresses (``normalise_address``), so several user ids sharing one mailbox
    all stop getting mail once one of them unsubscribes. A mailbox gets one email per
    campaign: the first of its user ids in campaign order.

    Any campaign file may come here, not only one the generator's safety gate passed, so
    every subject is checked: one that cannot be a single plain header raises
    :class:`DataError` naming the row, before anything is built.
    """
    config = config or RenderConfig()
    missing = [c for c in CAMPAIGN_COLUMNS if c not in campaign.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}")
    if not isinstance(campaign.schema["item_ids"], pl.List):
        raise DataError(source, "must be a list of item ids", column="item_ids")
    frame = campaign.with_row_index("_row")
    for index, subject in enumerate(frame["subject"].cast(pl.String).to_list(), start=1):
        problem = "is empty" if not subject or not subject.strip() else header_text_problem(subject)
        if problem:
            raise DataError(source, f"subject {problem}: {subject!r}", row=index, column="subject")
    for optional in ("theme_key", "theme_label", "preheader"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    total = frame.height
    if suppressed:
        frame = frame.filter(~pl.col("user_id").is_in(list(suppressed)))
    suppressed_count = total - frame.height

    catalog = items.select(
        pl.col("item_id").cast(pl.String),
        pl.col("title").cast(pl.String),
        pl.col("price").cast(pl.Float64),
        pl.col("currency").cast(pl.String).fill_null("USD"),
    )
    exploded = (
        frame.select("_row", pl.col("item_ids").list.head(config.max_items).alias("item_id"))
        .explode("item_id")
        .with_columns(pl.int_range(pl.len()).over("_row").alias("_pos"))
        .join(catalog, on="item_id", how="inner")
        .sort("_row", "_pos")
    )
    per_row = {
        row: list(
            zip(*(g[c].to_list() for c in ("item_id", "title", "price", "currency")), strict=True)
        )
        for (row,), g in exploded.partition_by("_row", as_dict=True).items()
    }
    first_names: dict[str, str | None] = {}
    if users is not None and "first_name" in users.columns:
        first_names = dict(users.select("user_id", "first_name").iter_rows())

    blocked = {normalise_address(a) for a in suppressed_addresses}
    mailed: set[str] = set()
    sends: list[Send] = []
    no_address = shared_address = 0
    for row in frame.iter_rows(named=True):
        user_id = str(row["user_id"])
        address = resolve_address(user_id)
        if not address:
            no_address += 1
            continue
        mailbox = normalise_address(address)
        if mailbox in blocked:
            suppressed_count += 1
            continue
        if mailbox in mailed:
            shared_address += 1
            continue
        mailed.add(mailbox)
        problem = address_problem(address)
        if problem:
            raise DataError(source, f"user {user_id!r}: {problem}", row=row["_row"] + 1)
        email_items = tuple(
            EmailItem(
                item_id=item_id,
                title=title,
                price=price,
                currency=currency,
                url=item_url(config.item_url_template, item_id),
                image_url=item_url(config.image_url_template, item_id),
            )
            for item_id, title, price, currency in per_row.get(row["_row"], [])
        )
        preheader = row["preheader"] or default_preheader(
            row["theme_label"], [i.title for i in email_items]
        )
        sends.append(
            Send(
                send_id=make_send_id(campaign_id, user_id),
                campaign_id=campaign_id,
                user_id=user_id,
                email=address,
                subject=str(row["subject"]),
                preheader=preheader,
                arm=str(row["arm"]),
                items=email_items,
                theme_key=row["theme_key"],
                theme_label=row["theme_label"],
                first_name=first_names.get(user_id),
            )
        )
    return BuildReport(sends, suppressed_count, no_address, shared_address)
