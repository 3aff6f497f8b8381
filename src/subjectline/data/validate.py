"""Read CSV or Parquet files of the contract's kinds and validate every row.

Every failure names the file, the 1-based data row (the header is not counted) and
the reason. Vectorised: one pass per column, then the first bad row is reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from subjectline.data.contract import (
    EVENTS,
    OPTIONAL_COLUMNS,
    PRIMARY_KEYS,
    PROMOTION_SCOPES,
    SCHEMAS,
    TS,
)
from subjectline.errors import DataError

_ROW = "__row"
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%d %H:%M",
)


def kind_of(path: Path) -> str | None:
    """``items.csv`` / ``items.parquet`` -> ``items``; anything else -> None."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        return None
    stem = path.stem.lower()
    return stem if stem in SCHEMAS else None


def read_raw(path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() == ".csv":
            return pl.read_csv(path, infer_schema=False, null_values=[""])
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(str(path), f"cannot read file: {exc}") from exc


def _parse_datetime(col: str) -> pl.Expr:
    text = pl.col(col).str.strip_chars().str.replace("T", " ").str.replace(r"Z$", "+00:00")
    parsed = [
        text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        for fmt in _DATETIME_FORMATS
    ]
    date_only = (
        text.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return pl.coalesce([*parsed, date_only])


def _cast_expr(col: str, dtype: pl.DataType, source: pl.DataType) -> pl.Expr:
    if source == dtype:
        return pl.col(col)
    if dtype == TS:
        if isinstance(source, pl.Datetime):
            expr = pl.col(col)
            if source.time_zone is None:
                expr = expr.dt.replace_time_zone("UTC")
            return expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        if isinstance(source, pl.Date):
            return pl.col(col).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        return _parse_datetime(col)
    if dtype == pl.Boolean() and source == pl.String():
        low = pl.col(col).str.strip_chars().str.to_lowercase()
        return (
            pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
        )
    if dtype == pl.Float64() and source == pl.String():
        return pl.col(col).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.col(col).cast(dtype, strict=False)


def _first_bad(frame: pl.DataFrame, mask: pl.Expr) -> int | None:
    bad = frame.filter(mask).select(_ROW).head(1)
    return int(bad.item()) if bad.height else None


def validate(raw: pl.DataFrame, kind: str, file: str) -> pl.DataFrame:
    """Cast ``raw`` to the contract schema of ``kind`` or raise DataError naming the row."""
    schema = SCHEMAS[kind]
    optional = OPTIONAL_COLUMNS[kind]
    missing = [c for c in schema if c not in raw.columns and c not in optional]
    if missing:
        raise DataError(file, f"missing column(s) {', '.join(missing)} for {kind}")
    frame = raw.with_row_index(_ROW, offset=1)
    for col in schema:
        if col not in frame.columns:
            fill = "{}" if col == "attributes" else None
            frame = frame.with_columns(pl.lit(fill, dtype=schema[col]).alias(col))

    casts = {c: _cast_expr(c, schema[c], frame.schema[c]).alias(c) for c in schema}
    cast = frame.select(_ROW, *casts.values())
    for col, dtype in schema.items():
        row = _first_bad(
            cast.with_columns(frame[col].alias("__orig")),
            pl.col("__orig").is_not_null() & pl.col(col).is_null(),
        )
        if row is not None:
            value = frame.filter(pl.col(_ROW) == row)[col].item()
            raise DataError(file, f"cannot read {value!r} as {_type_name(dtype)}", row, col)
        if col not in optional:
            row = _first_bad(cast, pl.col(col).is_null())
            if row is not None:
                raise DataError(file, "value is missing", row, col)

    cast = cast.with_columns(pl.col("attributes").fill_null("{}")) if kind == "items" else cast
    _check_domain(cast, kind, file)
    key = PRIMARY_KEYS[kind]
    if key is not None:
        row = _first_bad(
            cast, pl.col(key).is_duplicated() & (pl.col(_ROW) > pl.col(_ROW).min().over(key))
        )
        if row is not None:
            value = cast.filter(pl.col(_ROW) == row)[key].item()
            raise DataError(file, f"duplicate {key} {value!r}", row, key)
    return cast


def _check_domain(frame: pl.DataFrame, kind: str, file: str) -> None:
    rules: list[tuple[str, pl.Expr, str]] = []
    if kind == "items":
        rules += [
            ("price", pl.col("price") < 0, "price must not be negative"),
            ("title", pl.col("title").str.strip_chars() == "", "title is empty"),
            ("currency", pl.col("currency").str.len_chars() != 3, "currency must be ISO 4217"),
        ]
        bad_json = ~pl.col("attributes").map_elements(_is_json_object, return_dtype=pl.Boolean)
        rules.append(("attributes", bad_json, "attributes must be a JSON object of strings"))
    elif kind == "interactions":
        rules.append(("event", ~pl.col("event").is_in(EVENTS), f"event must be one of {EVENTS}"))
    elif kind == "promotions":
        rules += [
            (
                "scope",
                ~pl.col("scope").is_in(PROMOTION_SCOPES),
                f"scope must be one of {PROMOTION_SCOPES}",
            ),
            (
                "discount_pct",
                (pl.col("discount_pct") <= 0) | (pl.col("discount_pct") > 100),
                "discount_pct must be in (0, 100]",
            ),
            (
                "ends_at",
                pl.col("ends_at") <= pl.col("starts_at"),
                "ends_at must be after starts_at",
            ),
            (
                "target",
                (pl.col("scope") != "all") & pl.col("target").is_null(),
                "target is required unless scope is 'all'",
            ),
        ]
    for col, mask, reason in rules:
        row = _first_bad(frame, mask)
        if row is not None:
            value = frame.filter(pl.col(_ROW) == row)[col].item()
            raise DataError(file, f"{reason} (got {value!r})", row, col)


def check_references(
    interactions: pl.DataFrame, file: str, item_ids: pl.Series, user_ids: pl.Series | None
) -> None:
    """Every interaction must name a known item (and a known user, when users are known)."""
    row = _first_bad(interactions, ~pl.col("item_id").is_in(item_ids.implode()))
    if row is not None:
        value = interactions.filter(pl.col(_ROW) == row)["item_id"].item()
        raise DataError(file, f"unknown item_id {value!r}", row, "item_id")
    if user_ids is not None:
        row = _first_bad(interactions, ~pl.col("user_id").is_in(user_ids.implode()))
        if row is not None:
            value = interactions.filter(pl.col(_ROW) == row)["user_id"].item()
            raise DataError(file, f"unknown user_id {value!r}", row, "user_id")


def drop_row_index(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(_ROW) if _ROW in frame.columns else frame


def _is_json_object(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and all(isinstance(v, str | int | float) for v in value.values())


def _type_name(dtype: pl.DataType) -> str:
    if dtype == TS:
        return "a date-time (ISO 8601)"
    return {"Float64": "a number", "Boolean": "true/false", "String": "text"}.get(
        str(dtype), str(dtype)
    )
