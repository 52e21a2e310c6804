"""The signals of a good answer (issue 13, item 4; docs/text.md): for each agent reply and the
customer messages it answers, whether it is *personalised* (greets the customer by name or
repeats their specifics), *empathetic* (acknowledges or apologises), *thorough* (answers every
question asked) and *relevant* (shares the meaning of what was asked, by its words).

Only numpy and pyarrow: the phrase rules are one regular-expression pass per text and the
comparisons run over all replies at once in Arrow and numpy (cxmetrics.text._signals_bags).

>>> found = signals(["Hi Maria, sorry about that! To reset your password, open Settings > Security."],
...                 ["How do I reset my password? And can I change my email?"])
>>> s = found[0]
>>> s.greets_by_name, s.empathetic, s.questions, s.questions_answered, s.thorough
(True, True, 2, 1, False)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from cxmetrics.errors import UserError
from cxmetrics.text._signals_bags import Bags, bags, common_stems, cosine, stem
from cxmetrics.text._signals_rules import (
    SERVICE_WORDS,
    VAGUE_WORDS,
    empathetic,
    greets_by_name,
    proper_names,
    questions,
    signed_name,
    specifics,
)

__all__ = ["ANSWERED_AT", "COMMON_SHARE", "RELEVANT_AT", "ReplySignals", "signals"]

#: a reply is relevant when its similarity to what was asked is at least this (docs/text.md)
RELEVANT_AT = 0.10
#: a question is answered when the reply holds at least this share of the question's content words
ANSWERED_AT = 0.5
#: a word found in more than this share of the customer messages is common, not a specific
COMMON_SHARE = 0.02
#: below this many customer messages rarity means nothing: only names and numbers are specifics
MIN_CORPUS = 50

_VAGUE = frozenset(stem(w) for w in VAGUE_WORDS)
_SERVICE = frozenset(stem(w) for w in SERVICE_WORDS)


@dataclass(frozen=True)
class ReplySignals:
    """The signals of one reply. `questions` counts the questions in what was asked and
    `questions_answered` those the reply addresses; `thorough` is whether it addresses them
    all and `relevance` (0-1) how much it shares the words of what was asked, `relevant` whether
    that reaches RELEVANT_AT; the three are None when nothing was asked (no questions, no text)."""

    greets_by_name: bool
    refers_specifics: bool
    personalised: bool
    empathetic: bool
    questions: int
    questions_answered: int
    thorough: bool | None
    relevance: float | None
    relevant: bool | None


def signals(replies: Sequence[str | None], asked: Sequence[str | None] | None = None, *,
            corpus: Sequence[str | None] | None = None) -> list[ReplySignals]:
    """The signals of each reply, in order; `asked[i]` is what reply i answers (the customer's
    messages since the previous reply; None when nobody asked). A word of `asked` counts as the
    customer's specific when it is rare: found in at most COMMON_SHARE of `corpus` (default: the
    `asked` texts themselves; pass all your customer messages for a stable measure)."""
    if asked is None:
        asked = [None] * len(replies)
    if len(asked) != len(replies):
        raise UserError(f"signals() got {len(replies)} replies but {len(asked)} texts asked: give one asked "
                        "text (or None) per reply.")
    corpus = corpus if corpus is not None else asked
    common = common_stems(corpus, COMMON_SHARE) if len(corpus) >= MIN_CORPUS else None
    cols = score(replies, asked, common)
    return [ReplySignals(*(cols[name][i] for name in _FIELDS)) for i in range(len(replies))]


_FIELDS = ("greets_by_name", "refers_specifics", "personalised", "empathetic", "questions", "questions_answered",
           "thorough", "relevance", "relevant")


def score(replies: Sequence[str | None], asked: Sequence[str | None],
          common: frozenset[str] | None) -> dict[str, list[Any]]:
    """The signals as columns (lists in reply order, None for NULL); `common` are the stems too
    common to be a customer's specific (cxmetrics.text._signals_bags.common_stems), None when
    the corpus is too small to tell (then no word is rare: only names and numbers count)."""
    n = len(replies)
    reply_texts = [r or "" for r in replies]
    asked_texts = [a or "" for a in asked]
    # the phrase rules: one pass of a few regular expressions per text
    greets = [greets_by_name(r, signed_name(a) if a else None) for r, a in zip(reply_texts, asked_texts, strict=True)]
    caring = [empathetic(r) for r in reply_texts]
    asked_questions = [questions(a) if a else [] for a in asked_texts]
    given = [specifics(a) if a else set() for a in asked_texts]
    # names inside the customer's sentences (products, places), unless the corpus shows them common
    # (the company's own name is in every other message)
    names = [{stem(w) for w in proper_names(a) if common is None or stem(w) not in common} if a else set()
             for a in asked_texts]
    restated = [bool(g and g & specifics(r)) or any(_said(n, r) for n in ns)
                for g, ns, r in zip(given, names, reply_texts, strict=True)]

    # the comparisons, over all replies at once
    flat_questions = [q for qs in asked_questions for q in qs]
    owner = np.repeat(np.arange(n, dtype=np.int64), [len(qs) for qs in asked_questions])
    found, weights = bags(reply_texts, asked_texts, flat_questions)
    size, (r_keys, a_keys, q_keys) = found.size, found.groups
    relevance = cosine(r_keys, weights[0], a_keys, weights[1], size, n)

    # a question is answered when the reply holds enough of its content words; a question made
    # only of vague words ("how do I do that?") can only be judged by the reply's relevance
    content = ~found.mask(_VAGUE)
    q_keys = q_keys[content[q_keys % size]]
    q_index = q_keys // size
    in_reply = np.isin(owner[q_index] * size + q_keys % size, r_keys)
    m = len(flat_questions)
    held = np.bincount(q_index, in_reply, minlength=m)
    total = np.bincount(q_index, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        answered = np.where(total > 0, held / np.maximum(total, 1) >= ANSWERED_AT,
                            np.nan_to_num(relevance[owner], nan=0.0) >= RELEVANT_AT)
    n_answered = np.bincount(owner, answered, minlength=n).astype(int)
    n_questions = np.array([len(qs) for qs in asked_questions], dtype=int)

    # a rare word of what was asked, said again in the reply
    if common is None:
        echoed = np.zeros(n, dtype=bool)
    else:
        distinctive = ~(found.mask(_VAGUE | _SERVICE | common)) & _wordlike(found)
        a_rare = a_keys[distinctive[a_keys % size]]
        echoed = np.bincount(a_rare // size, np.isin(a_rare, r_keys), minlength=n)[:n] > 0

    personal = [bool(g or e or s) for g, e, s in zip(greets, echoed, restated, strict=True)]
    refers = [bool(e or s) for e, s in zip(echoed, restated, strict=True)]
    rel: list[float | None] = [None if np.isnan(v) else round(float(v), 4) for v in relevance]
    return {
        "greets_by_name": greets,
        "refers_specifics": refers,
        "personalised": personal,
        "empathetic": caring,
        "questions": n_questions.tolist(),
        "questions_answered": n_answered.tolist(),
        "thorough": [None if q == 0 else bool(a >= q) for q, a in zip(n_questions, n_answered, strict=True)],
        "relevance": rel,
        "relevant": [None if v is None else v >= RELEVANT_AT for v in rel],
    }


def _said(name_stem: str, reply: str) -> bool:
    """Whether a word of `reply` starts with the stem of a name ("biale" in "Bialetti's")."""
    return re.search(rf"(?<![^\W\d_]){re.escape(name_stem)}", reply, re.I) is not None


def _wordlike(found: Bags) -> np.ndarray:
    """Stems of words of four letters or more, without digits (numbers are `specifics`)."""
    if not len(found.vocab):
        return np.zeros(0, dtype=bool)
    return pc.match_substring_regex(found.vocab, r"^\p{L}{4,}$").to_numpy(zero_copy_only=False)
