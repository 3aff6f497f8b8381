"""Address resolvers: user id -> email address (see ``records.AddressResolver``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from subjectline.deliver.records import example_invalid_address
from subjectline.errors import DataError

__all__ = ["AddressBook", "example_invalid_address"]


class AddressBook:
    """Addresses from a CSV or Parquet file with columns ``user_id`` and ``email``.

    Users missing from the file resolve to None and are skipped.
    """

    def __init__(self, addresses: dict[str, str]):
        self.addresses = addresses

    @classmethod
    def from_file(cls, path: Path) -> AddressBook:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
        missing = {"user_id", "email"} - set(frame.columns)
        if missing:
            raise DataError(str(path), f"missing column(s) {sorted(missing)}")
        frame = frame.select(pl.col("user_id").cast(pl.String), pl.col("email").cast(pl.String))
        bad = frame.filter(~pl.col("email").str.contains(r"^[^@\s]+@[^@\s]+$"))
        if bad.height:
            raise DataError(str(path), f"not an email address: {bad['email'][0]!r}")
        return cls(dict(frame.iter_rows()))

    def __call__(self, user_id: str) -> str | None:
        return self.addresses.get(user_id)
