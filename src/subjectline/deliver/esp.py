"""Hand-offs to an ESP: a batch of merge fields (CSV or JSONL), or one .eml file per send.

Files are written to a temporary name beside the target and renamed into place, so a
crash never leaves a half-written batch for someone to upload.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from subjectline.deliver.records import RenderedEmail
from subjectline.deliver.render import format_price, to_message
from subjectline.track.schema import sends

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


def handed_off(engine: Engine, send_ids: Sequence[str], chunk: int = 5_000) -> dict[str, datetime]:
    """When each of ``send_ids`` left us, for those that did (ESP batch written, or SMTP
    accepted: ``sends.sent_at``)."""
    found: dict[str, datetime] = {}
    with engine.connect() as conn:
        for start in range(0, len(send_ids), chunk):
            rows = conn.execute(
                sa.select(sends.c.send_id, sends.c.sent_at).where(
                    sends.c.send_id.in_(send_ids[start : start + chunk]),
                    sends.c.sent_at.is_not(None),
                )
            )
            found.update((send_id, sent_at) for send_id, sent_at in rows)
    return found


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        write(Path(name))
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def write_batch(emails: Sequence[RenderedEmail], path: Path, fmt: BatchFormat) -> int:
    """Write one row per email; returns the number of rows."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown batch format {fmt!r}")
    max_items = max((len(e.tracked_links) for e in emails), default=0)
    rows = [merge_fields(e, max_items) for e in emails]
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    _write_atomically(path, frame.write_csv if fmt == "csv" else frame.write_ndjson)
    return frame.height


def write_eml(emails: Sequence[RenderedEmail], directory: Path, from_address: str) -> int:
    """One RFC 5322 file per email, named ``{send_id}.eml``.

    Every message is built first, so a bad one fails before any file is written.
    """
    payloads = [
        (rendered.send.send_id, to_message(rendered, from_address).as_bytes())
        for rendered in emails
    ]
    for send_id, payload in payloads:
        _write_atomically(directory / f"{send_id}.eml", partial(Path.write_bytes, data=payload))
    return len(payloads)
