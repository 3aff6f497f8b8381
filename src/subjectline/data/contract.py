"""The data contract: typed records for single rows, Polars schemas for bulk frames.

Every stage reads these shapes and nothing else. Ids are strings so that any
marketplace's keys fit; timestamps are UTC; a category is a path such as
``Sports > Running > Shoes``; item attributes are a JSON object of strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl

CATEGORY_SEP = " > "
EVENTS = ("view", "cart", "purchase", "rating")
PROMOTION_SCOPES = ("all", "category", "brand", "item")
TS = pl.Datetime("us", "UTC")

Event = Literal["view", "cart", "purchase", "rating"]
Scope = Literal["all", "category", "brand", "item"]

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    "title": pl.String(),
    "category": pl.String(),
    "brand": pl.String(),
    "price": pl.Float64(),
    "currency": pl.String(),
    "in_stock": pl.Boolean(),
    "added_at": TS,
    "attributes": pl.String(),
}
USER_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "first_name": pl.String(),
    "locale": pl.String(),
    "last_active_at": TS,
}
INTERACTION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "event": pl.String(),
    "value": pl.Float64(),
    "ts": TS,
}
PROMOTION_SCHEMA: dict[str, pl.DataType] = {
    "promo_id": pl.String(),
    "scope": pl.String(),
    "target": pl.String(),
    "discount_pct": pl.Float64(),
    "starts_at": TS,
    "ends_at": TS,
}
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "items": ITEM_SCHEMA,
    "users": USER_SCHEMA,
    "interactions": INTERACTION_SCHEMA,
    "promotions": PROMOTION_SCHEMA,
}
# Columns a file may leave out; they are filled with null (or "{}" for attributes).
OPTIONAL_COLUMNS: dict[str, set[str]] = {
    "items": {"attributes", "brand"},
    "users": {"first_name"},
    "interactions": {"value"},
    "promotions": {"target"},
}
PRIMARY_KEYS: dict[str, str | None] = {
    "items": "item_id",
    "users": "user_id",
    "interactions": None,
    "promotions": "promo_id",
}


def category_levels(category: str) -> list[str]:
    """``'A > B > C'`` -> ``['A', 'A > B', 'A > B > C']``."""
    parts = [p.strip() for p in category.split(CATEGORY_SEP.strip()) if p.strip()]
    return [CATEGORY_SEP.join(parts[: i + 1]) for i in range(len(parts))]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    item_id: str
    title: str
    category: str
    brand: str | None
    price: float
    currency: str
    in_stock: bool
    added_at: datetime
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def category_path(self) -> list[str]:
        return category_levels(self.category)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Item:
        attrs = row.get("attributes") or {}
        if isinstance(attrs, str):
            attrs = json.loads(attrs) if attrs else {}
        return cls(
            item_id=str(row["item_id"]),
            title=str(row["title"]),
            category=str(row["category"]),
            brand=row.get("brand"),
            price=float(row["price"]),
            currency=str(row.get("currency") or "USD"),
            in_stock=bool(row.get("in_stock", True)),
            added_at=_utc(_as_datetime(row["added_at"])),
            attributes={str(k): str(v) for k, v in attrs.items()},
        )

    def to_row(self) -> dict[str, Any]:
        row = self.__dict__.copy()
        row["attributes"] = json.dumps(self.attributes, sort_keys=True)
        return row


@dataclass(frozen=True)
class User:
    user_id: str
    locale: str
    last_active_at: datetime
    first_name: str | None = None


@dataclass(frozen=True)
class Interaction:
    user_id: str
    item_id: str
    event: Event
    ts: datetime
    value: float = 1.0


@dataclass(frozen=True)
class Promotion:
    """A discount: the only source of truth for any discount a title may mention."""

    promo_id: str
    scope: Scope
    target: str | None
    discount_pct: float
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Promotion:
        scope = str(row["scope"])
        if scope not in PROMOTION_SCOPES:
            raise ValueError(f"scope must be one of {PROMOTION_SCOPES}, got {scope!r}")
        return cls(
            promo_id=str(row["promo_id"]),
            scope=scope,  # type: ignore[arg-type]
            target=row.get("target"),
            discount_pct=float(row["discount_pct"]),
            starts_at=_utc(_as_datetime(row["starts_at"])),
            ends_at=_utc(_as_datetime(row["ends_at"])),
        )

    def is_active(self, at: datetime) -> bool:
        return self.starts_at <= _utc(at) < self.ends_at

    def applies_to(self, item: Item) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "brand":
            return item.brand is not None and item.brand == self.target
        if self.scope == "item":
            return item.item_id == self.target
        return self.target is not None and self.target in item.category_path


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def items_from_frame(frame: pl.DataFrame) -> list[Item]:
    return [Item.from_row(r) for r in frame.iter_rows(named=True)]


def promotions_from_frame(frame: pl.DataFrame) -> list[Promotion]:
    return [Promotion.from_row(r) for r in frame.iter_rows(named=True)]


def empty_frame(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[kind])
