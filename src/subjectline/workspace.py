"""The workspace: a directory holding the embedded DuckDB database and run outputs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

DEFAULT_WORKSPACE = Path(".subjectline")
DB_FILE = "subjectline.duckdb"


class Workspace:
    """A directory with ``subjectline.duckdb``; every stage stores its tables here."""

    def __init__(self, root: Path | str = DEFAULT_WORKSPACE):
        self.root = Path(root)

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.db_path), read_only=read_only)
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    def has_table(self, name: str) -> bool:
        if not self.db_path.exists():
            return False
        with self.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()
        return bool(rows)

    def table(self, name: str) -> pl.DataFrame:
        """A whole table as a Polars frame (timestamps in UTC)."""
        if not self.has_table(name):
            raise FileNotFoundError(
                f"workspace {self.root} has no table '{name}'; run `subjectline ingest` first"
            )
        with self.connect(read_only=True) as con:
            return con.sql(f'SELECT * FROM "{name}"').pl()

    def write_tables(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace the given tables in one transaction: all of them or none."""
        with self.connect() as con:
            con.begin()
            try:
                for name, frame in frames.items():
                    con.register("__frame", frame.to_arrow())
                    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM __frame')
                    con.unregister("__frame")
                con.commit()
            except Exception:
                con.rollback()
                raise
