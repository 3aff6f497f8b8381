"""Hand-offs to an ESP: a batch of merge fields (CSV or JSONL), or one .eml file per send."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from subjectline.deliver.records import RenderedEmail
from subjectline.deliver.render import format_price, to_message

BatchFormat = Literal["csv", "jsonl"]


def merge_fields(rendered: RenderedEmail, max_items: int) -> dict[str, Any]:
    """Per-user fields an ESP template fills in (item slots ``item_1_*`` .. ``item_N_*``)."""
    send = rendered.send
    row: dict[str, Any] = {
        "send_id": send.send_id,
        "campaign_id": send.campaign_id,
        "user_id": send.user_id,
        "email": send.email,
        "arm": send.arm,
        "subject": rendered.subject,
        "preheader": send.preheader,
        "first_name": send.first_name,
        "theme_key": send.theme_key,
        "theme_label": send.theme_label,
        "message_id": rendered.message_id,
        "open_pixel_url": rendered.open_pixel_url,
        "unsubscribe_url": rendered.unsubscribe_url,
        "list_unsubscribe": rendered.headers["List-Unsubscribe"],
        "list_unsubscribe_post": rendered.headers["List-Unsubscribe-Post"],
    }
    for slot in range(max_items):
        prefix = f"item_{slot + 1}_"
        has = slot < len(send.items) and slot < len(rendered.tracked_links)
        item = send.items[slot] if has else None
        row[prefix + "id"] = item.item_id if item else None
        row[prefix + "name"] = item.title if item else None
        row[prefix + "price"] = format_price(item.price, item.currency) if item else None
        row[prefix + "image_url"] = item.image_url if item else None
        row[prefix + "url"] = rendered.tracked_links[slot] if item else None
    return row


def write_batch(emails: Sequence[RenderedEmail], path: Path, fmt: BatchFormat) -> int:
    """Write one row per email; returns the number of rows."""
    max_items = max((len(e.tracked_links) for e in emails), default=0)
    rows = [merge_fields(e, max_items) for e in emails]
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.write_csv(path)
    elif fmt == "jsonl":
        frame.write_ndjson(path)
    else:
        raise ValueError(f"unknown batch format {fmt!r}")
    return frame.height


def write_eml(emails: Sequence[RenderedEmail], directory: Path, from_address: str) -> int:
    """One RFC 5322 file per email, named ``{send_id}.eml``."""
    directory.mkdir(parents=True, exist_ok=True)
    for rendered in emails:
        message = to_message(rendered, from_address)
        (directory / f"{rendered.send.send_id}.eml").write_bytes(message.as_bytes())
    return len(emails)
