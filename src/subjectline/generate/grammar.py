"""Grammars for one short title line, made from an :class:`OutputSpec`.

The grammar is the output spec's strongest form: the model cannot start with a quote,
a list number or a newline, cannot write markup, braces, currency or percent signs,
and must stop within ``spec.max_chars``. When the spec names a required phrase (the
theme's label), the model must write it within the first few words. When the spec
lists ``choices`` (a grounded prompt's phrasings of the brief), the title is one of them.

It is written as GBNF, llama.cpp's grammar format, which every llama.cpp server takes
(with or without LLGuidance) and which lets the model end on any of its end-of-turn
tokens. (An LLGuidance version of the same language made SmolLM2 run to the length
limit every time: LLGuidance allows only the tokenizer's EOS, not ChatML's
``<|im_end|>``.)
"""

from __future__ import annotations

import json

from subjectline.generate.records import FIRST_NAME_TOKEN, OutputSpec

# Latin letters (accented too), digits, and the punctuation a subject line needs.
_LETTERS = "a-zA-ZÀ-ÖØ-öø-ɏ"
_CHARS = _LETTERS + "0-9 ,.!?&'’:;-"
_START = "A-Z0-9À-ÖØ-Þ"
_SEP = " ,.!?:;'’-"
# How far into the title the required phrase may start: a word or two ("Fresh", "New in",
# "Your next"), so the theme leads the line (mobile clients show ~35 characters) and the
# model cannot bury it behind a copied few-shot opening ("New arrivals in ...").
LEAD_CHARS = 12


def _gbnf_ci(phrase: str) -> str:
    parts = []
    for ch in phrase:
        if ch.isalpha() and ch.lower() != ch.upper():
            parts.append(f"[{ch.upper()}{ch.lower()}]")
        else:
            parts.append(json.dumps(ch, ensure_ascii=False))
    return " ".join(parts)


def gbnf(spec: OutputSpec) -> str:
    """The same language as a GBNF grammar."""
    if spec.choices:
        alternatives = " | ".join(json.dumps(c, ensure_ascii=False) for c in spec.choices)
        return f'root ::= ({alternatives}) end\nend ::= "\\n"?\n'
    char = f"[{_CHARS}]"
    if spec.allow_name_token:
        char = f'({char} | "{FIRST_NAME_TOKEN}")'
    rules = [f"char ::= {char}", 'end ::= "\\n"?']
    if spec.required_phrase:
        tail = max(0, spec.max_chars - len(spec.required_phrase) - 1)
        rules[:0] = [
            "root ::= (lead)? label tail? end",
            f'lead ::= [{_START}] char{{0,{LEAD_CHARS - 2}}} " "',
            f"label ::= {_gbnf_ci(spec.required_phrase)}",
            f"tail ::= [{_SEP}] char{{0,{tail}}}",
        ]
    else:
        rules[:0] = [f"root ::= [{_START}] char{{5,{spec.max_chars - 1}}} end"]
    return "\n".join(rules) + "\n"


def grammar(spec: OutputSpec) -> str:
    """The grammar of ``spec`` (GBNF)."""
    return gbnf(spec)
