"""Reading items, promotions and check cases from JSON / JSON lines (the data contract's
fields, ISO 8601 timestamps), with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from subjectline.data.contract import PROMOTION_SCOPES, Item, Promotion
from subjectline.errors import DataError
from subjectline.themes import THEME_KINDS, Theme

ITEM_REQUIRED = ("item_id", "title", "category", "price", "added_at")
PROMOTION_REQUIRED = ("promo_id", "scope", "discount_pct", "starts_at", "ends_at")


@dataclass(frozen=True)
class Case:
    """One line of a cases file: a title and the email it belongs to."""

    title: str
    items: list[Item]
    promotions: list[Promotion] = field(default_factory=list)
    theme: Theme | None = None
    now: datetime | None = None
    expect: str | None = None
    id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def parse_time(value: Any, file: str, row: int | None, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise DataError(file, f"{name}: {value!r} is not an ISO 8601 timestamp", row) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _require(obj: Any, required: tuple[str, ...], file: str, row: int | None, where: str) -> None:
    if not isinstance(obj, dict):
        raise DataError(file, f"{where} must be a JSON object", row)
    missing = [k for k in required if obj.get(k) in (None, "")]
    if missing:
        raise DataError(file, f"{where} is missing required field(s) {', '.join(missing)}", row)


def _number(obj: dict[str, Any], key: str, file: str, row: int | None, where: str) -> float:
    try:
        return float(obj[key])
    except (TypeError, ValueError) as exc:
        raise DataError(file, f"{where}: {key} {obj[key]!r} is not a number", row) from exc


def parse_item(obj: Any, file: str, row: int | None, where: str = "item") -> Item:
    _require(obj, ITEM_REQUIRED, file, row, where)
    attrs = obj.get("attributes") or {}
    if isinstance(attrs, str):
        try:
            attrs = json.loads(attrs) if attrs.strip() else {}
        except json.JSONDecodeError as exc:
            raise DataError(file, f"{where}: attributes is not a JSON object", row) from exc
    if not isinstance(attrs, dict):
        raise DataError(file, f"{where}: attributes must be an object of strings", row)
    price = _number(obj, "price", file, row, where)
    return Item(
        item_id=str(obj["item_id"]),
        title=str(obj["title"]),
        category=str(obj["category"]),
        brand=str(obj["brand"]) if obj.get("brand") else None,
        price=price,
        currency=str(obj.get("currency") or "USD"),
        in_stock=bool(obj.get("in_stock", True)),
        added_at=parse_time(obj["added_at"], file, row, f"{where}.added_at"),
        attributes={str(k): str(v) for k, v in attrs.items()},
    )


def parse_promotion(obj: Any, file: str, row: int | None, where: str = "promotion") -> Promotion:
    _require(obj, PROMOTION_REQUIRED, file, row, where)
    scope = str(obj["scope"])
    if scope not in PROMOTION_SCOPES:
        raise DataError(file, f"{where}: scope must be one of {PROMOTION_SCOPES}", row)
    if scope != "all" and not obj.get("target"):
        raise DataError(file, f"{where}: scope {scope!r} needs a target", row)
    pct = _number(obj, "discount_pct", file, row, where)
    return Promotion(
        promo_id=str(obj["promo_id"]),
        scope=scope,  # type: ignore[arg-type]
        target=str(obj["target"]) if obj.get("target") else None,
        discount_pct=pct,
        starts_at=parse_time(obj["starts_at"], file, row, f"{where}.starts_at"),
        ends_at=parse_time(obj["ends_at"], file, row, f"{where}.ends_at"),
    )


def parse_theme(obj: Any, file: str, row: int | None) -> Theme | None:
    if obj is None:
        return None
    if isinstance(obj, str):
        return Theme(key=f"label:{obj}", kind="category", label=obj, root_category="")
    if not isinstance(obj, dict) or not obj.get("label"):
        raise DataError(file, "theme must be a label or an object with a label", row)
    kind = str(obj.get("kind") or "category")
    if kind not in THEME_KINDS:
        raise DataError(file, f"theme kind must be one of {THEME_KINDS}", row)
    return Theme(
        key=str(obj.get("key") or f"{kind}:{obj['label']}"),
        kind=kind,  # type: ignore[arg-type]
        label=str(obj["label"]),
        root_category=str(obj.get("root_category") or ""),
        brands=tuple(obj.get("brands") or ()),
        attributes={str(k): str(v) for k, v in (obj.get("attributes") or {}).items()},
    )


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(str(path), f"cannot read file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DataError(
            str(path), f"invalid JSON at line {exc.lineno}: {exc.msg}", exc.lineno
        ) from exc


def _records(path: Path, key: str) -> list[Any]:
    data = _load_json(path)
    if isinstance(data, dict) and key in data:
        data = data[key]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise DataError(str(path), f"expected a JSON array of {key}")
    return data


def load_items(path: Path) -> list[Item]:
    """A JSON array of items (or ``{"items": [...]}``); row numbers are 1-based elements."""
    return [
        parse_item(o, str(path), i, f"item {i}") for i, o in enumerate(_records(path, "items"), 1)
    ]


def load_promotions(path: Path) -> list[Promotion]:
    records = _records(path, "promotions")
    return [parse_promotion(o, str(path), i, f"promotion {i}") for i, o in enumerate(records, 1)]


def read_cases(path: Path) -> Iterator[Case]:
    """One case per non-blank line: ``{"title", "items", "promotions"?, "theme"?, "now"?,
    "expect"?, "id"?}``; errors name the file and the line."""
    file = str(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(file, f"cannot read file: {exc}") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(file, f"line {lineno} is not valid JSON: {exc.msg}", lineno) from exc
        yield parse_case(obj, file, lineno)


def parse_case(obj: Any, file: str, lineno: int) -> Case:
    if not isinstance(obj, dict):
        raise DataError(file, "each line must be a JSON object", lineno)
    if not isinstance(obj.get("title"), str):
        raise DataError(file, "missing or non-string 'title'", lineno)
    items_raw = obj.get("items")
    if not isinstance(items_raw, list):
        raise DataError(file, "'items' must be a JSON array", lineno)
    promos_raw = obj.get("promotions") or []
    if not isinstance(promos_raw, list):
        raise DataError(file, "'promotions' must be a JSON array", lineno)
    return Case(
        title=obj["title"],
        items=[parse_item(o, file, lineno, f"items[{i}]") for i, o in enumerate(items_raw)],
        promotions=[
            parse_promotion(o, file, lineno, f"promotions[{i}]") for i, o in enumerate(promos_raw)
        ],
        theme=parse_theme(obj.get("theme"), file, lineno),
        now=parse_time(obj["now"], file, lineno, "now") if obj.get("now") else None,
        expect=obj.get("expect"),
        id=obj.get("id"),
        raw=obj,
    )
