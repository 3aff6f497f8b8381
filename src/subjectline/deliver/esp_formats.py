"""The imports four ESPs take: per-user subject and merge fields under each one's names.

- listmonk: subscriber import CSV ``email,name,attributes`` (attributes one JSON object),
  and the campaign subject ``{{ .Subscriber.Attribs.sl_subject }}``;
- Mailchimp: an audience import CSV (``Email Address``, ``First Name``) whose other
  columns map to merge fields; tags are at most 10 characters, so ours are ``SL_*``;
- Klaviyo: a profile CSV (``Email``, ``First Name``) whose other columns become custom
  profile properties;
- Braze: a user-attributes CSV keyed by ``external_id`` (our user id), with the default
  attributes ``email`` and ``first_name`` and custom attributes ``sl_*``.

Every file comes from :func:`subjectline.deliver.esp.merge_fields`, so a field means the
same in each; the names are in docs/delivery.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from subjectline.deliver.esp import _write_atomically, merge_fields
from subjectline.deliver.records import RenderedEmail

ESPS: tuple[str, ...] = ("listmonk", "mailchimp", "klaviyo", "braze")

# Our merge field -> the property name every ESP below but Mailchimp uses.
_PROPERTIES = (
    ("subject", "sl_subject"),
    ("preheader", "sl_preheader"),
    ("send_id", "sl_send_id"),
    ("campaign_id", "sl_campaign_id"),
    ("arm", "sl_arm"),
    ("theme_label", "sl_theme"),
    ("unsubscribe_url", "sl_unsubscribe_url"),
    ("open_pixel_url", "sl_open_pixel_url"),
)
_ITEM_PARTS = (("name", "name"), ("price", "price"), ("url", "url"), ("image_url", "image_url"))
# Mailchimp merge tags: at most 10 characters, letters, digits and underscores.
_MAILCHIMP = (
    ("subject", "SL_SUBJECT"),
    ("preheader", "SL_PREHEAD"),
    ("send_id", "SL_SENDID"),
    ("campaign_id", "SL_CAMPAIG"),
    ("arm", "SL_ARM"),
    ("theme_label", "SL_THEME"),
    ("unsubscribe_url", "SL_UNSUB"),
    ("open_pixel_url", "SL_PIXEL"),
)
_MAILCHIMP_ITEM = (("name", "NAME"), ("price", "PRICE"), ("url", "URL"), ("image_url", "IMG"))


@dataclass(frozen=True)
class EspExport:
    rows: int
    subject_template: str
    files: tuple[Path, ...]


SUBJECT_TEMPLATES: dict[str, str] = {
    "listmonk": "{{ .Subscriber.Attribs.sl_subject }}",
    "mailchimp": "*|SL_SUBJECT|*",
    "klaviyo": "{{ person|lookup:'sl_subject' }}",
    "braze": "{{custom_attribute.${sl_subject}}}",
}


def esp_columns(esp: str, max_items: int) -> list[str]:
    """The header of ``esp``'s file, in order, for emails of up to ``max_items`` items."""
    if esp == "listmonk":
        return ["email", "name", "attributes"]
    if esp == "mailchimp":
        items = [f"SL{n}_{tag}" for n in range(1, max_items + 1) for _, tag in _MAILCHIMP_ITEM]
        return ["Email Address", "First Name", *(tag for _, tag in _MAILCHIMP), *items]
    props = [name for _, name in _PROPERTIES]
    items = [f"sl_item_{n}_{part}" for n in range(1, max_items + 1) for _, part in _ITEM_PARTS]
    if esp == "klaviyo":
        return ["Email", "First Name", *props, *items]
    if esp == "braze":
        return ["external_id", "email", "first_name", *props, *items]
    raise ValueError(f"unknown ESP {esp!r}; known: {', '.join(ESPS)}")


def esp_row(esp: str, rendered: RenderedEmail, max_items: int) -> dict[str, Any]:
    fields = merge_fields(rendered, max_items)
    slots = range(1, max_items + 1)
    if esp == "mailchimp":
        row = {"Email Address": fields["email"], "First Name": fields["first_name"]}
        row |= {tag: fields[key] for key, tag in _MAILCHIMP}
        row |= {f"SL{n}_{tag}": fields[f"item_{n}_{key}"]
                for n in slots for key, tag in _MAILCHIMP_ITEM}  # fmt: skip
        return row
    props = {name: fields[key] for key, name in _PROPERTIES}
    items = {f"sl_item_{n}_{part}": fields[f"item_{n}_{key}"]
             for n in slots for key, part in _ITEM_PARTS}  # fmt: skip
    if esp == "listmonk":
        # Empty item slots are left out: listmonk templates test for a missing key.
        attribs = props | {k: v for k, v in items.items() if v is not None}
        attribs["sl_user_id"] = fields["user_id"]
        return {
            "email": fields["email"],
            "name": fields["first_name"] or "",
            "attributes": json.dumps(attribs, ensure_ascii=False, sort_keys=True),
        }
    if esp == "klaviyo":
        return {"Email": fields["email"], "First Name": fields["first_name"], **props, **items}
    if esp == "braze":
        return {"external_id": fields["user_id"], "email": fields["email"],
                "first_name": fields["first_name"], **props, **items}  # fmt: skip
    raise ValueError(f"unknown ESP {esp!r}; known: {', '.join(ESPS)}")


def write_esp(emails: Sequence[RenderedEmail], path: Path, esp: str) -> EspExport:
    """Write ``esp``'s import file (all strings, so ids keep their leading zeros); for
    listmonk also ``<path>.subject.txt`` with the campaign's subject template."""
    max_items = max((len(e.tracked_links) for e in emails), default=0)
    columns = esp_columns(esp, max_items)
    rows = [esp_row(esp, e, max_items) for e in emails]
    frame = pl.DataFrame(rows, schema={c: pl.String for c in columns})
    _write_atomically(path, frame.write_csv)
    files = [path]
    if esp == "listmonk":
        template = path.with_name(path.name + ".subject.txt")
        template.write_text(SUBJECT_TEMPLATES["listmonk"] + "\n")
        files.append(template)
    return EspExport(frame.height, SUBJECT_TEMPLATES[esp], tuple(files))
