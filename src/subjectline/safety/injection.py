"""Prompt-injection checks: the output carries instructions, or text copied from the
instruction-like parts of seller-written item text.

Item text reaches the LLM delimited and escaped (generation stage); these checks look at
what came out. A clause of item text is *suspicious* when it talks to the model, links
somewhere or asks the reader to act off-platform; a title that copies two or more
non-product words from such a clause is rejected.
"""

from __future__ import annotations

import re

from subjectline.data.contract import Item
from subjectline.data.untrusted import find_impersonation
from subjectline.safety.context import CheckContext, brand_key, known_name_words
from subjectline.safety.registry import check
from subjectline.safety.text import STOPWORDS, WORD_RE, canonical, nfkc, words

INSTRUCTION_RE = re.compile(
    r"(?:\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|the\s+|your\s+|"
    r"my\s+|these\s+|those\s+)*(?:previous|prior|above|earlier|preceding|system|original|other)?"
    r"\s*(?:instructions?|prompts?|rules|directions|guidelines|context|messages?)\b"
    r"|\bsystem\s+(?:prompt|message|instructions?)\b|\bdeveloper\s+(?:mode|message)\b"
    r"|\bas an ai\b|\bas a language model\b|\b(?:i am|i'm) an ai\b|\blanguage model\b"
    r"|\bchatgpt\b|\bopenai\b|\bllm\b|\bjailbreak|\bdo anything now\b|\bdan mode\b"
    r"|\bprompt injection\b|\bnew instructions?\b|\byour instructions\b|\bfollow these\b"
    r"|\b(?:reply|respond|answer)\s+(?:with|only)\b|\boutput\s+(?:only|the following)\b"
    r"|\brepeat\s+(?:after me|the following|this)\b|\bwrite\s+(?:the following|exactly|only)\b"
    r"|\bclick\s+(?:here|below|the link|this link|now)\b|\btap here\b|\bvisit\s+(?:our|my|this|"
    r"the)\s+(?:site|website|page|store|shop|link)\b|\bgo to\s+(?:our|my|this|the)\s+\w+\b"
    r"|\b(?:dm|message|whatsapp|telegram|text)\s+(?:us|me)\b|\bcontact\s+(?:us|me)\s+(?:at|on)\b"
    r"|\b(?:api key|password|access token)\b"
    r"|<\|[a-z_]*\|?>|\[/?inst\]|<</?sys>>|</?s>|#{2,}\s*(?:instruction|system|response)"
    r"|^\s*(?:assistant|system|user)\s*:)"
)
# Words that address the model or pull the reader away: their presence in a clause of
# item text makes that clause untrusted.
SUSPICIOUS_CLAUSE_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override|instructions?|prompt|assistant|ai|model|chatgpt|"
    r"llm|subject line|subject|title|headline|email|reply|respond|output|say|write|tell|"
    r"print|repeat|visit|click|dm|whatsapp|telegram|call|text|contact|www|http|https|com|"
    r"net|org|ly)\b"
)
# Clauses end at strong separators only, so that an instruction keeps its quoted payload.
CLAUSE_SPLIT_RE = re.compile(r"[|•;\n(){}\[\]<>]|\s[-–—/]+\s|\.\s|\.$")


@check("injection.instruction")
def instruction(title: str, ctx: CheckContext) -> str | None:
    m = INSTRUCTION_RE.search(canonical(title))
    return f"instruction or model text in the title: {m.group(0).strip()!r}" if m else None


@check("injection.impersonation")
def impersonation(title: str, ctx: CheckContext) -> str | None:
    """The sender, an account or a transaction ("Your Account Team", "gift cards", "verify",
    "invoice", "customer support"...; ``subjectline/data/lists/impersonation.txt``), whatever
    the items say: seller-written text is no authority for them."""
    phrase = find_impersonation(canonical(title))
    if phrase is None:
        return None
    return f"impersonates the sender, an account or a transaction: {phrase!r}"


# Two or more lower-to-upper joins in one word: texts run together ("iPhoneSelling").
_GLUED_RE = re.compile(r"^\w*?[a-z][A-Z]\w*?[a-z][A-Z]")


@check("injection.glued")
def glued(title: str, ctx: CheckContext) -> str | None:
    """A word made of seller texts run together ("iPhoneSelling"): scraped or injected
    item text, not a name, unless it is an item's brand or a well-known name."""
    brands = {brand_key(w) for i in ctx.items if i.brand for w in i.brand.split()}
    brands |= {brand_key(w) for b in ctx.known_brands for w in b.split()}
    for token in WORD_RE.findall(nfkc(title)):
        if not _GLUED_RE.match(token):
            continue
        if brand_key(token) in brands or token.lower() in known_name_words():
            continue
        return f"words run together: {token!r}"
    return None


def product_words(item: Item, suspicious: list[str]) -> set[str]:
    """Words that describe the product: the category, attribute names, and the title,
    brand and attribute values outside their suspicious clauses."""
    text = canonical(" | ".join([item.title, item.brand or "", *item.attributes.values()]))
    for clause in suspicious:
        text = text.replace(clause, " ")
    return set(words(" ".join([text, item.category, *item.attributes.keys()])))


def suspicious_clauses(text: str) -> list[str]:
    """Canonical clauses of one item field that look like instructions or solicitations."""
    out = []
    for clause in CLAUSE_SPLIT_RE.split(canonical(text)):
        if clause.strip() and SUSPICIOUS_CLAUSE_RE.search(clause):
            out.append(clause.strip())
    return out


@check("injection.copied")
def copied(title: str, ctx: CheckContext) -> str | None:
    """Two or more title words that come from a suspicious clause of item text and are not
    product words (category, attribute values, the non-suspicious part of titles)."""
    title_words = words(title)
    if len(title_words) < 2:
        return None
    for item in ctx.items:
        fields = [item.title, item.brand or "", *item.attributes.values()]
        clauses = [c for f in fields for c in suspicious_clauses(f)]
        if not clauses:
            continue
        product = product_words(item, clauses)
        for clause in clauses:
            clause_words = set(words(clause))
            shared = [
                w
                for w in title_words
                if w in clause_words and w not in product and w not in STOPWORDS
            ]
            run = _longest_copied_run(title_words, clause)
            novel = [w for w in run if w not in product and w not in STOPWORDS]
            if len(shared) >= 2 or (len(run) >= 3 and novel):
                copied_words = " ".join(run) if len(run) >= 3 else " ".join(shared[:6])
                return f"copies {copied_words!r} from untrusted item text {clause!r}"
    return None


def _longest_copied_run(title_words: list[str], clause: str) -> list[str]:
    """The longest run of consecutive title words that also appears, in order, in clause."""
    clause_words = words(clause)
    best: list[str] = []
    for i in range(len(title_words)):
        for j in range(len(clause_words)):
            k = 0
            while (
                i + k < len(title_words)
                and j + k < len(clause_words)
                and title_words[i + k] == clause_words[j + k]
            ):
                k += 1
            if k > len(best):
                best = title_words[i : i + k]
    return best
