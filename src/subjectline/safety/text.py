"""Text utilities the checks share: normalisation, look-alikes, tokens, stems, lexicons.

Everything here is a pure function of its input and cached where it is hot: the checks
run once per distinct (title, context) and titles repeat across users of a theme.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

# Common Cyrillic and Greek letters that render like Latin ones (a subset of Unicode's
# confusables.txt, written by hand for the letters that spammers actually use).
CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i",
    "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p",
    "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "ц": "u", "у": "y", "ѵ": "v", "ԝ": "w",
    "х": "x", "ү": "y", "ɡ": "g", "ь": "b", "Ь": "B", "ѡ": "w",
    # Cyrillic upper case
    "А": "A", "В": "B", "С": "C", "Е": "E", "Ё": "E", "Н": "H", "І": "I", "Ї": "I",
    "Ј": "J", "К": "K", "М": "M", "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X",
    "У": "Y", "Ү": "Y", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek lower case
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "c",
    "μ": "u", "λ": "l", "σ": "o", "δ": "d",
    # Greek upper case
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
    # Latin look-alikes outside ASCII
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƅ": "b", "ɑ": "a",
}  # fmt: skip

# Leetspeak: the first choice is tried first; every choice is tried for profanity.
LEET: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "7": ("t",),
    "8": ("b",), "9": ("g",), "@": ("a", "o"), "$": ("s",), "!": ("i",), "|": ("l", "i"),
    "+": ("t",), "€": ("e",), "£": ("l",), "(": ("c",), "¡": ("i",),
}  # fmt: skip

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "up",
        "out",
        "off",
        "is",
        "are",
        "be",
        "been",
        "was",
        "were",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "you",
        "your",
        "yours",
        "we",
        "our",
        "us",
        "i",
        "me",
        "my",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "as",
        "so",
        "if",
        "than",
        "then",
        "too",
        "very",
        "just",
        "not",
        "no",
        "all",
        "any",
        "some",
        "more",
        "most",
        "new",
        "now",
        "get",
        "got",
    ]
)
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"}
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A token for obfuscation handling: letters, digits and leet symbols inside a word.
LEET_TOKEN_RE = re.compile(r"[^\s,.;:?\"'()\[\]{}<>/\\-]+")

_LISTS = resources.files("subjectline.safety") / "lists"


def read_list(name: str) -> list[str]:
    """Non-comment lines of a bundled list file (``lists/NAME``), stripped."""
    text = (_LISTS / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def known_names() -> tuple[tuple[str, str], ...]:
    """``(kind, name)`` of well-known brands and products (``lists/known_names.txt``)."""
    rows = [line.split("\t", 1) for line in read_list("known_names.txt")]
    return tuple((kind.strip(), name.strip()) for kind, name in rows)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def strip_marks(text: str) -> str:
    """Remove combining marks (accents, Zalgo stacks): ``fücк`` -> ``fucк``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_confusables(text: str) -> str:
    return "".join(CONFUSABLES.get(ch, ch) for ch in text)


@lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """Lower-case Latin skeleton of ``text``: NFKC, no invisible characters, no accents,
    Cyrillic/Greek look-alikes mapped to Latin. Leetspeak is left alone (see ``deleet``)."""
    text = nfkc(text)
    text = "".join(ch for ch in text if ch not in ZERO_WIDTH)
    return fold_confusables(strip_marks(text).casefold())


def deleet_variants(token: str, limit: int = 32) -> list[str]:
    """Plain-letter readings of a token that mixes letters with digits or symbols.

    ``sh1t`` -> ``['shit', 'shlt']``. A token with no letters (a price, a year) is left as
    is, and so is a model-number shape such as ``a55`` or ``x100`` (letters then digits),
    which is far more often a product than an obfuscated word.
    """
    if not any(ch.isalpha() for ch in token) or not any(ch in LEET for ch in token):
        return [token]
    if re.fullmatch(r"[a-z]{1,2}\d{2,}", token):
        return [token]
    variants = [""]
    for ch in token:
        options = LEET.get(ch, (ch,))
        variants = [v + o for v in variants for o in options][:limit]
    return variants


def collapse_repeats(text: str, keep: int = 1) -> str:
    """``fuuuuck`` -> ``fuck`` (keep=1) or ``fuuck`` (keep=2): runs of 3+ letters shrink."""
    return re.sub(r"([a-z])\1{2,}", lambda m: m.group(1) * keep, text)


def join_spaced_letters(text: str) -> str:
    """``f u c k`` / ``f.u.c.k`` / ``f-u-c-k`` -> ``fuck`` (3+ single characters)."""
    pattern = re.compile(r"(?<![^\W_])(?:[^\W_][ .\-_*]){2,}[^\W_](?![^\W_])")
    return pattern.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), text)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokens(text: str) -> list[Token]:
    """Word tokens (letters/digits, inner apostrophes kept) with their spans."""
    return [Token(m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``canonical(text)``, hyphens splitting words."""
    return [t.lower.replace("’", "'") for t in tokens(canonical(text))]


def stem(word: str) -> str:
    """A light English stem: plurals, -ing, -ed, -er, possessives. Both sides of every
    comparison go through it, so its small errors cancel out."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith("sses") or (
        len(w) > 4 and w.endswith("es") and (w[-3] in "sxz" or w[-4:-2] in ("ch", "sh"))
    ):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix, min_len in (("ing", 6), ("ed", 5), ("er", 6)):
        if len(w) >= min_len and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiouls":
                w = w[:-1]
            break
    return w


def stem_keys(word: str) -> set[str]:
    """Stems to compare on: ``hiking`` -> {'hik', 'hike'} so it meets ``hike``."""
    s = stem(word)
    keys = {s}
    if s != word.lower() and not s.endswith("e"):
        keys.add(s + "e")
    if word.lower().endswith("ies"):
        keys.add(word.lower()[:-1])  # "movies" is "movie" too, not only "movy"
    return keys


@cache
def english_lexicon() -> frozenset[str]:
    """Lower-case English words: textstat's Dale-Chall list, VADER's lexicon words and our
    shopping vocabulary (``lists/lexicon.txt``), plus their stems."""
    found: set[str] = set()
    for line in read_list("lexicon.txt"):
        found.update(line.lower().split())
    for path in _dependency_word_files():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                word = line.split("\t", 1)[0].strip().lower()
                if word.isalpha():
                    found.add(word)
    found.update(stem(w) for w in list(found))
    return frozenset(found)


def _dependency_word_files() -> Iterator[Path]:
    """Word lists shipped inside pinned dependencies (both MIT licensed)."""
    # Located, not imported: importing textstat 0.7.4 warns about pkg_resources.
    for package, member in (
        ("textstat", ("resources", "en", "easy_words.txt")),
        ("vaderSentiment", ("vader_lexicon.txt",)),
    ):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(package)
        yield Path(next(iter(spec.submodule_search_locations)), *member)


@cache
def english_dictionary() -> frozenset[str]:
    """The core lexicon plus the common (lower-case) words of Webster's Second (web2,
    public domain, from ``english-words``): the core lists alone miss everyday words
    such as "brand", "option" or "range", and judged titles built of them un-English.
    Proper nouns of web2 stay out, so an invented or personal name is not a word."""
    from english_words import get_english_words_set

    common = {w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()}
    return english_lexicon() | common


def is_english(word: str, common_only: bool = False) -> bool:
    """In the dictionary (``common_only``: in the core lexicon of common words), after
    light stemming; a hyphenated word when each part is."""
    w = word.lower().replace("’", "'")
    lex = english_lexicon() if common_only else english_dictionary()
    if w in lex:
        return True
    if "-" in w:
        return all(part in lex or stem(part) in lex for part in w.split("-") if part)
    return bool(stem_keys(w) & lex)


@cache
def english_prefixes() -> frozenset[str]:
    """Every proper prefix (2+ letters) of a lexicon word, for truncation checks."""
    out: set[str] = set()
    for word in english_lexicon():
        for i in range(2, len(word)):
            out.add(word[:i])
    return frozenset(out)


@cache
def synonym_groups() -> dict[str, frozenset[str]]:
    """Stem -> all stems of its synonym groups."""
    groups: dict[str, set[str]] = {}
    for line in read_list("synonyms.txt"):
        stems = {stem(w) for w in line.split()}
        for s in stems:
            groups.setdefault(s, set()).update(stems)
    return {k: frozenset(v) for k, v in groups.items()}


def expand_synonyms(stems: Iterable[str]) -> set[str]:
    groups = synonym_groups()
    out: set[str] = set()
    for s in stems:
        out.add(s)
        out.update(groups.get(s, ()))
    return out


# Emoji: pictographic blocks; joiners and modifiers glue a sequence into one emoji.
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0x2300, 0x23FF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
)
_EMOJI_GLUE = {0x200D, 0xFE0F, 0xFE0E, 0x20E3} | set(range(0x1F3FB, 0x1F400))


def is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _EMOJI_RANGES) and cp not in _EMOJI_GLUE


def emoji_count(text: str) -> int:
    """Emoji as a reader sees them: a ZWJ sequence, a flag or a skin-tone variant is one."""
    count = 0
    prev_joined = False
    flag_half = False
    for ch in text:
        cp = ord(ch)
        if cp in _EMOJI_GLUE:
            prev_joined = cp == 0x200D
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:  # regional indicators pair into one flag
            if flag_half:
                flag_half = False
                continue
            flag_half = True
            count += 1
            continue
        flag_half = False
        if is_emoji(ch) and not prev_joined:
            count += 1
        prev_joined = False
    return count


def script_of(ch: str) -> str:
    """'LATIN', 'CYRILLIC', 'GREEK', 'CJK', ... from the character's Unicode name."""
    if not ch.isalpha():
        return ""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "UNKNOWN"
    first = name.split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL") else first
