"""Text hygiene: escaping untrusted seller text for prompts, cleaning raw model output,
filling the personalization token after generation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from subjectline.generate.records import FIRST_NAME_TOKEN, OutputSpec

# Characters that could pass for our <items> delimiters or template braces once the
# model reads them; NFKC already folds the full-width forms onto the ASCII ones.
_DELIMITER_LOOKALIKES = str.maketrans({c: " " for c in "<>‹›«»〈〉⟨⟩⟪⟫《》〔〕˂˃❮❯❬❭﹤﹥{}[]`|\\"})
_SPACES = re.compile(r"\s+")


def _strip_invisible(text: str) -> str:
    """Drop control, format (zero-width, bidi overrides) and private-use characters."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\r\t\v\f":
            out.append(" ")
        elif cat[0] == "C":
            continue
        else:
            out.append(ch)
    return "".join(out)


def escape_untrusted(text: str | None, max_chars: int = 80) -> str:
    """Seller text made safe to place between prompt delimiters.

    NFKC-normalises, removes control/format characters, turns newlines into spaces,
    neutralises delimiter look-alikes (``< > { } [ ]`` and their Unicode cousins),
    collapses whitespace and truncates at a word boundary. The words themselves are
    kept (they are product data); the prompt tells the model they are data.
    """
    if not text:
        return ""
    cleaned = unicodedata.normalize("NFKC", str(text))
    cleaned = _strip_invisible(cleaned).translate(_DELIMITER_LOOKALIKES)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if len(cleaned) > max_chars:
        cut = cleaned[:max_chars]
        space = cut.rfind(" ")
        cleaned = (cut[:space] if space > max_chars // 2 else cut).rstrip(" ,;:-")
    return cleaned


# --- cleaning model output -------------------------------------------------------------

_PREFIX = re.compile(
    r"^\s*(?:(?:email\s+)?subject(?:\s+line)?|title|headline|answer|output)\s*\d*\s*[:\-–]\s*",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-*•#>]+)\s+")
_QUOTES = "\"'“”‘’«»`*_"
_CHATTER = re.compile(
    r"^(?:here(?:'s| is| are)|sure\b|certainly|as an? |i (?:am|'m|would|can|will)|"
    r"subject line|this subject|the subject|let me|okay\b|ok\b)",
    re.IGNORECASE,
)
_LEAKED = re.compile(r"</?\s*items|ignore (?:all |the )?(?:previous|above)|instruction", re.I)
# Words a title must not end on once it has been cut to the budget.
_DANGLING = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "with",
        "your",
        "my",
        "their",
        "its",
        "is",
        "are",
        "be",
        "just",
        "more",
        "than",
        "so",
        "that",
        "this",
        "these",
        "those",
        "you",
        "we",
    ]
)
_CLAUSE_END = re.compile(r"[,;:!?.]\s|\s[-–—]\s")
_SENTENCE_END = re.compile(r"[!?.](?=\s)")


@dataclass(frozen=True)
class Cleaned:
    """A cleaned title, or why none could be made; ``untouched`` when the raw output
    already was a single clean line within the budget."""

    text: str | None
    reason: str | None = None
    untouched: bool = False


def _drop_dangling(text: str) -> str:
    words = text.rstrip(" ,;:-–—&").split(" ")
    while len(words) > 1 and words[-1].lower().strip(",;:") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(" ,;:-–—&")


def _fit(text: str, budget: int) -> str:
    """Trim to ``budget`` characters, preferring complete thoughts: the last sentence end
    (``. ! ?``) if it keeps 3+ words, else the last clause end (``, ; :`` or a dash) if it
    keeps half the budget, else the last word boundary; never a dangling function word."""
    if len(text) <= budget:
        return text
    head = text[: budget + 1]
    sentence_ends = [m.start() + 1 for m in _SENTENCE_END.finditer(head)]
    sentence_ends = [e for e in sentence_ends if e <= budget and len(text[:e].split()) >= 3]
    if sentence_ends:
        return text[: sentence_ends[-1]]
    ends = [m.start() + 1 for m in _CLAUSE_END.finditer(head) if m.start() + 1 <= budget]
    if ends and ends[-1] >= budget // 2:
        return _drop_dangling(text[: ends[-1]].rstrip(" -–—"))
    space = head.rfind(" ")
    return _drop_dangling(text[:space]) if space > 0 else text[:budget]


_REPEATED_WORD = re.compile(r"\b([\w'-]+)(\s+\1\b)+", re.IGNORECASE)


def _dedupe_clauses(text: str) -> str:
    """Cut a repetition loop at its first repeat ("a, b, a, b" -> "a, b")."""
    parts = re.split(r"(?<=[,;!?.])\s+", text)
    seen: set[str] = set()
    kept = []
    for part in parts:
        key = re.sub(r"\W+", " ", part.lower()).strip()
        if key and key in seen:
            break
        seen.add(key)
        kept.append(part)
    return " ".join(kept)


def _is_loop(text: str) -> bool:
    words = re.findall(r"\w+", text.lower())
    if len(words) < 4:
        return False
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(set(trigrams)) < len(trigrams) or len(set(words)) / len(words) < 0.5


def visible_length(text: str, spec: OutputSpec) -> int:
    """Length as it will count in the budget: the name token counts as ``name_reserve``."""
    n_tokens = text.count(FIRST_NAME_TOKEN)
    return len(text) - n_tokens * (len(FIRST_NAME_TOKEN) - spec.name_reserve)


def clean_title(raw: str, spec: OutputSpec, cut_off: bool = False) -> Cleaned:
    """Turn raw model output into one title line, or say why it is unusable.

    Takes the first non-empty line, strips "Subject:"-style prefixes, list numbering and
    wrapping quotes, keeps at most one name token (only when allowed), collapses
    whitespace, cuts repetition loops and trims to the budget at a clause or word end.
    ``cut_off`` says generation hit the token limit: the last word may be partial.
    """
    lines = [ln for ln in (raw or "").replace("\r", "\n").split("\n") if ln.strip()]
    if not lines:
        return Cleaned(None, "empty")
    first = lines[0]
    text = _strip_invisible(unicodedata.normalize("NFKC", first))
    if cut_off and len(lines) == 1 and " " in text.strip() and text.rstrip()[-1:].isalnum():
        text = _drop_dangling(text.rstrip().rsplit(" ", 1)[0])
    for _ in range(2):
        text = _NUMBERING.sub("", _PREFIX.sub("", text)).strip().strip(_QUOTES).strip()
    if not spec.allow_name_token:
        text = remove_name_token(text)
    elif text.count(FIRST_NAME_TOKEN) > 1:
        head, _, tail = text.partition(FIRST_NAME_TOKEN)
        text = head + FIRST_NAME_TOKEN + tail.replace(FIRST_NAME_TOKEN, "")
    text = _SPACES.sub(" ", text).strip()
    text = _dedupe_clauses(_REPEATED_WORD.sub(r"\1", text))
    budget = spec.char_budget
    if spec.allow_name_token and FIRST_NAME_TOKEN in text:
        budget -= spec.name_reserve
    fitted = _fit(text.replace(FIRST_NAME_TOKEN, "\0"), budget).replace("\0", FIRST_NAME_TOKEN)
    fitted = fitted.strip().rstrip(",;:-–—&").strip()
    if fitted and fitted[0].islower():
        fitted = fitted[0].upper() + fitted[1:]
    reason = _problem(fitted, spec)
    if reason:
        return Cleaned(None, reason)
    untouched = len(lines) == 1 and fitted == first.strip() and not cut_off
    return Cleaned(fitted, None, untouched)


def _problem(text: str, spec: OutputSpec) -> str | None:
    plain = text.replace(FIRST_NAME_TOKEN, "")
    letters = sum(ch.isalpha() for ch in plain)
    if not plain.strip():
        return "empty"
    if letters < 6 or len(plain.split()) < 2:
        return "too_short"
    if visible_length(text, spec) > spec.char_budget:
        return "over_budget"
    if _CHATTER.match(plain):
        return "chatter"
    if _LEAKED.search(plain) or any(c in plain for c in "<>{}[]"):
        return "leaked_prompt"
    if _is_loop(plain):
        return "repetition"
    upper = sum(ch.isupper() for ch in plain)
    if letters >= 8 and upper / letters > 0.6:
        return "shouting"
    if spec.required_phrase and spec.required_phrase.lower() not in plain.lower():
        return "missing_label"
    return None


def normalized_key(text: str) -> str:
    """Case- and punctuation-insensitive form used to spot duplicate candidates."""
    return re.sub(r"\W+", " ", text.lower()).strip()


# --- personalization -------------------------------------------------------------------

_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.-](?=[^\W\d_])){0,29}$")
_TOKEN_AROUND = re.compile(r"\s*,?\s*" + re.escape(FIRST_NAME_TOKEN) + r"\s*[,:!-]?\s*")


def safe_first_name(name: str | None) -> str | None:
    """The name if it looks like a first name (letters, inner spaces/'/-/., <= 30 chars)."""
    if not name:
        return None
    cleaned = _SPACES.sub(" ", _strip_invisible(unicodedata.normalize("NFKC", name))).strip()
    return cleaned if _NAME.match(cleaned) else None


def personalize(text: str, first_name: str | None, budget: int | None = None) -> str:
    """Fill ``{first_name}`` after generation (the name never reaches the LLM).

    Without a usable name, or when the filled title would pass ``budget``, the token is
    removed together with the comma or colon around it ("{first_name}, new in Shoes" ->
    "New in Shoes"), so the fallback still reads as a sentence.
    """
    if FIRST_NAME_TOKEN not in text:
        return text
    name = safe_first_name(first_name)
    if name is not None:
        filled = text.replace(FIRST_NAME_TOKEN, name)
        if budget is None or len(filled) <= budget:
            return filled
    return remove_name_token(text)


def remove_name_token(text: str) -> str:
    """The title without ``{first_name}`` and the comma or colon that went with it."""
    if FIRST_NAME_TOKEN not in text:
        return text
    stripped = _TOKEN_AROUND.sub(" ", text).strip()
    stripped = _SPACES.sub(" ", stripped).strip(" ,;:-")
    stripped = re.sub(r"\s+([,.!?])", r"\1", stripped)
    return stripped[:1].upper() + stripped[1:] if stripped else stripped
