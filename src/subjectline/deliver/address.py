"""Address resolvers: user id -> email address (see ``records.AddressResolver``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine

from subjectline.deliver.records import example_invalid_address
from subjectline.errors import DataError
from subjectline.track.schema import suppressions

__all__ = ["AddressBook", "example_invalid_address", "normalise_address", "suppressed_addresses"]


def normalise_address(address: str) -> str:
    """The form two addresses are compared in for suppression: stripped, case-folded.

    RFC 5321 lets a server treat local parts case-sensitively, but no mailbox provider
    does, and for suppression erring towards "same person" is the safe side.
    """
    return address.strip().casefold()


def suppressed_addresses(engine: Engine) -> set[str]:
    """Normalised addresses of every suppression that recorded one (unsubscribes do)."""
    query = sa.select(suppressions.c.email).where(suppressions.c.email.is_not(None))
    with engine.connect() as conn:
        return {normalise_address(email) for (email,) in conn.execute(query)}


def read_table(path: Path) -> pl.DataFrame:
    """A Parquet or CSV file, or a :class:`DataError` naming it. CSV cells stay text: a
    guessed integer type would turn user id ``007`` into ``7``."""
    if not path.exists():
        raise DataError(str(path), "file not found")
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(str(path), f"cannot read it: {reason}") from exc


class AddressBook:
    """Addresses from a CSV or Parquet file with columns ``user_id`` and ``email``.

    Users missing from the file resolve to None and are skipped.
    """

    def __init__(self, addresses: dict[str, str]):
        self.addresses = addresses

    @classmethod
    def from_file(cls, path: Path) -> AddressBook:
        """Load and check every address; the first bad one raises, naming file and row.

        Each cell must hold exactly one deliverable-looking address (email-validator,
        syntax only, no DNS): no lists, display names, quoted local parts, special-use
        domains such as ``.invalid``, or non-ASCII local parts (sending needs SMTPUTF8,
        which delivery does not negotiate). Internationalised domains are stored in their
        ASCII (IDNA) form.
        """
        frame = read_table(path)
        missing = {"user_id", "email"} - set(frame.columns)
        if missing:
            raise DataError(str(path), f"missing column(s) {sorted(missing)}")
        frame = frame.select(pl.col("user_id").cast(pl.String), pl.col("email").cast(pl.String))
        addresses: dict[str, str] = {}
        for row, (user_id, email) in enumerate(frame.iter_rows(), start=1):
            if user_id is None or email is None:
                raise DataError(str(path), "empty user_id or email", row=row)
            try:
                checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
            except EmailNotValidError as exc:
                raise DataError(
                    str(path), f"not one email address: {email!r}: {exc}", row=row, column="email"
                ) from exc
            addresses[user_id] = checked.ascii_email or checked.normalized
        return cls(addresses)

    def __call__(self, user_id: str) -> str | None:
        return self.addresses.get(user_id)
