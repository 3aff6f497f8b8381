"""Seller-written text that impersonates the sender, an account or a transaction.

One list (``lists/impersonation.txt``) read by both the theme stage (such a brand or
attribute value never becomes a theme label: ``subjectline.themes.trust``) and the safety
stage (such a subject is rejected: check ``injection.impersonation``). It lives here, in
the data layer both depend on, so that the theme stage need not import the safety stage.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

_LIST = resources.files("subjectline.data") / "lists" / "impersonation.txt"
# Between the words of a phrase: any run of spaces, hyphens, dots or underscores.
_GAP = r"[\s\-_.]+"


def plain(text: str) -> str:
    """NFKC, accents stripped, case folded (the safety stage's ``canonical`` also maps
    look-alike letters; either form may be passed to :func:`find_impersonation`)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@cache
def impersonation_phrases() -> tuple[str, ...]:
    """The entries of ``lists/impersonation.txt`` (lower case, ``*`` for any ending)."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return tuple(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


@cache
def _pattern() -> re.Pattern[str]:
    parts = []
    for entry in impersonation_phrases():
        stem, star = (entry[:-1], True) if entry.endswith("*") else (entry, False)
        body = _GAP.join(re.escape(w) for w in re.split(_GAP, stem) if w)
        parts.append(body + (r"[a-z]*" if star else "(?:s|es)?"))  # plurals too
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")


def find_impersonation(text: str) -> str | None:
    """The first impersonating word or phrase in ``text`` (as written, normalised), if any."""
    m = _pattern().search(plain(text))
    return " ".join(m.group(0).split()) if m else None
