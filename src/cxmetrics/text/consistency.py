"""Do agents give the same answer to the same question? `consistency(answers, topics)` compares
each answer with its topic's usual answer (docs/text.md "Consistency of resolutions", issue 13
item 3, METRICS.md `consistency`).

Within each topic the answers are read for their content, not their wording: greetings ("Hi
Maria,"), sign-offs and signatures ("Kind regards, Anna"), stock pleasantries ("thank you for
reaching out"), links, e-mail addresses and digits (order numbers, amounts) are taken out. What
is left is read as content words (English stop words out, light suffix stripping: "refunds" and
"refunded" are "refund"), with negations marked ("we cannot refund" is "not not_refund", which
shares nothing with "we refunded" but the negation); an answer is the vector of those words'
counts (1 + log) and of the 3-5 character sequences inside them, the words making 80% of the
similarity, no IDF (within a topic, the words every answer shares are the usual answer). The
topic's **usual answer** is its medoid: the answer with the highest mean cosine similarity to
the others. An answer's **similarity** is its cosine similarity to the usual answer, from 0 (no
content in common) to 1 (the same content); it stands **apart** when it is both below
`APART_FLOOR` and far below its topic's other answers: more than `APART_MADS` median absolute
deviations under their median similarity. A topic with fewer than `MIN_ANSWERS` answers has no
usual answer to speak of: its answers get no similarity.

Needs scikit-learn (`pip install 'cxmetrics[text]'`).

>>> refund = ["Your refund to your card will arrive within 5 business days.",
...           "I have refunded your card; allow 5 business days for it to arrive.",
...           "Refund issued to your card, it will show within 3 business days.",
...           "The refund is on its way to your card, 5 business days at most.",
...           "Sorry, we cannot refund this order: we offer store credit only."]
>>> found = consistency(refund, ["refund"] * 5)
>>> [a.apart for a in found]
[False, False, False, False, True]
>>> found[4].usual, round(found[4].similarity, 2) < 0.2
(0, True)
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxmetrics.errors import MissingDependencyError, UserError

__all__ = ["APART_FLOOR", "APART_MADS", "MIN_ANSWERS", "Answer", "TopicAnswers", "answer_vectors", "clean_answer",
           "compare_answers", "consistency", "content_words"]

#: a topic needs this many answers to have a usual answer; smaller topics get no similarity
MIN_ANSWERS = 5
#: an answer stands apart only below this similarity to the usual answer ...
APART_FLOOR = 0.3
#: ... and more than this many median absolute deviations below the topic's median similarity
APART_MADS = 3.0
# a MAD this small (answers nearly all alike) still leaves the floor to decide, not rounding noise
_MIN_MAD = 0.02
# the words' share of an answer's similarity (the rest: character sequences, which catch typos
# and word forms the suffix stripping misses); words alone tell "cannot refund, store credit"
# from "refund to your card" more sharply (tests/text/test_consistency.py)
_WORD_WEIGHT = 0.8

# -- what is wording, not content ---------------------------------------------------------------

_GREETING_WORD = r"(?:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening|day))"
# "Hi Maria," / "Dear Mr. Chen," / "Hello there!" / "Good morning" at the start: the greeting and
# up to four words of whom it greets, up to the punctuation or line end that closes it
_GREETING = re.compile(rf"^\s*{_GREETING_WORD}\b(?:[ \t]+[^\s,!:;.?]+\.?){{0,4}}?[ \t]*(?:[,!:;\-–—]+|\n|$)", re.I)
# a line that closes a reply; it and the short lines after it (the signature) go
_SIGN_OFF = re.compile(
    r"^\s*(?:-+\s*)?(?:thanks(?:\s+(?:again|so\s+much|a\s+lot))?|thank\s+you(?:\s+(?:again|so\s+much))?|many\s+thanks|"
    r"(?:best|kind|warm|warmest|kindest)(?:\s+(?:regards|wishes))?|regards|cheers|sincerely|yours(?:\s+\w+)?|"
    r"all\s+the\s+best|take\s+care|with\s+thanks|talk\s+soon)\b[\s,!.]*(?:[^\s,!.?]+[ \t]*){0,4}[.!]?\s*$", re.I)
_SIGNATURE_LINE = 60  # a signature line is short (name, title, team)
_SIGNATURE_LINES = 4  # ... and there are few of them
# a last line that is only a name ("Anna", "Ben from Support", "Carla | Customer Care")
_NAME = r"(?:[A-Z][\w'-]*|[A-Z]\.)"
_NAME_LINE = re.compile(rf"^\s*[-–—~]*\s*{_NAME}(?:[ \t]+(?:{_NAME}|from|at|of|the|[|&,/-])){{0,5}}\s*$")
# a one-line reply that ends "... days. Thanks, Anna": the closing sentence goes
_INLINE_SIGN_OFF = re.compile(
    r"(?<=[.!?])\s+(?:thanks|thank\s+you|many\s+thanks|(?:best|kind|warm)\s+regards|regards|cheers|best)\b"
    r"[\s,!.]*(?:[A-Z][\w'.-]*\s*){0,3}[.!]?\s*$", re.I)
# stock pleasantries every agent says about anything; the rest of their sentence goes with them
_PLEASANTRY = re.compile(
    r"(?:thank(?:s|\s+you)\s+(?:so\s+much\s+)?for\s+(?:contacting|reaching\s+out|getting\s+in\s+touch|writing|"
    r"your\s+(?:message|e-?mail|patience|query|question|inquiry|enquiry|request|time))|"
    r"(?:please\s+)?(?:do\s+not|don'?t)\s+hesitate\s+to|feel\s+free\s+to\s+(?:contact|reach|get\s+in\s+touch)|"
    r"(?:please\s+)?let\s+(?:me|us)\s+know\s+if\s+(?:you|there)|is\s+there\s+anything\s+else|"
    r"(?:i\s+)?hope\s+(?:this|that)\s+helps|"
    r"have\s+a\s+(?:great|nice|good|lovely|wonderful)\s+(?:day|evening|weekend|one)|"
    r"(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:happy|glad)\s+to\s+help)[^.!?\n]*[.!?]*", re.I)
_NOT_CONTENT = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\S+|\d+")
# negations decide an answer: "we refunded your card" and "we cannot refund your card" share
# their words, so the content words a negation governs (up to _NEGATED of them, within its
# clause) are read as other words ("not_refund"), and the negation itself as "not"
_NEGATIONS = frozenset({"no", "not", "nor", "cannot", "never", "none", "nothing", "nobody", "without", "neither",
                        "unable"})
_NEGATED = 3
_WORD = re.compile(r"(?u)[^\W\d_]+(?:'[^\W\d_]+)*")
_CLAUSE = re.compile(r"[.,;:!?()\n]+")


def clean_answer(text: str | None) -> str:
    """The content of a reply: without its greeting, sign-off and signature, stock pleasantries,
    links, e-mail addresses and digits.

    >>> clean_answer("Hi Maria,\\nYour refund of $25 for order 8812 is on its way.\\n"
    ...              "Let me know if you need anything else!\\nKind regards,\\nAnna Smith\\nSupport team")
    'Your refund of $ for order is on its way.'
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _GREETING.sub("", text, count=1).strip()
    lines = text.split("\n")
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - _SIGNATURE_LINES), -1):
        if lines[i].strip() and _SIGN_OFF.match(lines[i]) and all(len(x) <= _SIGNATURE_LINE for x in lines[i:]):
            lines = lines[:i]
            break
    else:
        if len(lines) > 1 and _NAME_LINE.match(lines[-1]):
            lines = lines[:-1]
    text = _INLINE_SIGN_OFF.sub("", "\n".join(lines).strip())
    text = _PLEASANTRY.sub(" ", text)
    text = _NOT_CONTENT.sub(" ", text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\s*\n\s*", "\n", text)).strip()


# -- comparing the answers of one topic ---------------------------------------------------------


@dataclass(frozen=True)
class TopicAnswers:
    """The answers of one topic compared: `usual` is the index of its usual answer (None with
    fewer than MIN_ANSWERS answers), `similarity` each answer's cosine similarity to it (NaN
    when there is no usual answer), `apart` whether it stands apart."""

    usual: int | None
    similarity: np.ndarray
    apart: np.ndarray


def _sklearn() -> Any:
    try:
        import sklearn.feature_extraction.text as text_features
    except ImportError as exc:  # the base install leaves scikit-learn out
        raise MissingDependencyError("comparing answers needs scikit-learn, which the base install leaves out: "
                                     "pip install 'cxmetrics[text]'") from exc
    return text_features


def _stop_words() -> frozenset[str]:
    return frozenset(_sklearn().ENGLISH_STOP_WORDS)


def content_words(cleaned: str, stop: frozenset[str]) -> list[str]:
    """The content words of a cleaned answer, lower case, stop words left out, with its
    negations marked ("not" for the negation, "not_" before the words it governs).

    >>> content_words("Sorry, we can't refund this order: store credit only.", _stop_words())
    ['sorry', 'not', 'not_refund', 'not_order', 'store', 'credit']
    """
    words: list[str] = []
    for clause in _CLAUSE.split(cleaned.lower().replace("\u2019", "'")):
        negated = 0
        for word in _WORD.findall(clause):
            if word in _NEGATIONS or word.endswith("n't"):
                words.append("not")
                negated = _NEGATED
                continue
            word = word.split("'")[0]  # "we've" is "we", "customer's" is "customer"
            if len(word) > 1 and word not in stop:
                words.append(f"not_{word}" if negated else word)
                negated = max(0, negated - 1)
    return words


def _stem(word: str) -> str:
    """A light suffix stripper: "refunds", "refunded" and "refunding" meet at "refund"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def answer_vectors(cleaned: Sequence[str]) -> Any:
    """Unit-length rows (scipy sparse) of the cleaned answers of one topic, so that the dot
    product of two rows is 0.8 x their word cosine + 0.2 x their character cosine; an answer
    with no content is all zero."""
    from scipy.sparse import csr_matrix, hstack

    features = _sklearn()
    stop = _stop_words()
    # the words a reader would call content (stop words have no meaning of their own, and none
    # left once cut into pieces)
    content = [content_words(t, stop) for t in cleaned]
    blocks = []
    # term frequencies, no IDF: within a topic the words every answer shares ARE the usual
    # answer, and IDF would weigh them least (on the refund case of the tests, with IDF some
    # refund answers were as far from the usual one as the store-credit answers: 0.08 and 0.03)
    for weight, vectoriser, texts in (
        (_WORD_WEIGHT, features.TfidfVectorizer(sublinear_tf=True, use_idf=False, token_pattern=r"\S+"),
         [" ".join(_stem(w) for w in words) for words in content]),
        (1 - _WORD_WEIGHT, features.TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                                    use_idf=False),
         [" ".join(words) for words in content]),
    ):
        try:
            blocks.append(np.sqrt(weight) * vectoriser.fit_transform(texts))  # rows of unit length
        except ValueError:  # no answer has any term of this kind (all empty once cleaned)
            continue
    if not blocks:
        return csr_matrix((len(cleaned), 1))
    # a row is sqrt(0.8) x words, sqrt(0.2) x characters: length 1 whenever it has content
    return csr_matrix(hstack(blocks))


def compare_answers(answers: Sequence[str | None], *, min_answers: int = MIN_ANSWERS) -> TopicAnswers:
    """Compare the answers of one topic with its usual answer (see the module's docstring)."""
    n = len(answers)
    if n < max(min_answers, 2):
        return TopicAnswers(None, np.full(n, np.nan), np.zeros(n, dtype=bool))
    x = answer_vectors([clean_answer(a) for a in answers])
    total = np.asarray(x.sum(axis=0)).ravel()
    # mean similarity of each answer to the others, without an n x n matrix: x_i . (sum of all) - x_i . x_i
    self_sim = np.asarray(x.multiply(x).sum(axis=1)).ravel()
    mean_to_others = (x @ total - self_sim) / (n - 1)
    usual = int(np.argmax(mean_to_others))  # ties: the first answer given
    similarity = np.clip(np.asarray((x @ x[usual].T).todense()).ravel(), 0.0, 1.0)
    others = np.delete(similarity, usual)  # the usual answer's own 1.0 says nothing of the spread
    median = float(np.median(others))
    mad = max(float(np.median(np.abs(others - median))), _MIN_MAD)
    apart = (similarity < APART_FLOOR) & (similarity < median - APART_MADS * mad)
    return TopicAnswers(usual, similarity, apart)


def compare_with_usual(usual: str | None, answers: Sequence[str | None],
                       others: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """New answers of a topic compared with its kept usual answer, without recomputing the topic:
    (similarity, apart) per answer. `others` are the similarities of the topic's kept answers
    (the usual answer's own left out), whose median and spread say what stands apart. A vector
    depends only on its own text (no IDF, nothing fitted on the corpus), so the similarity is
    the one a whole recompute with the same usual answer would give.

    >>> s, apart = compare_with_usual("We refund to your card within 5 business days.",
    ...     ["Your refund goes back to your card within 5 business days.", "We cannot refund; store credit only."],
    ...     [0.8, 0.85, 0.9, 0.75, 0.8])
    >>> [round(float(v), 2) for v in s], apart.tolist()
    ([0.9, 0.04], [False, True])
    """
    n = len(answers)
    if usual is None or n == 0 or not len(others):
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    x = answer_vectors([clean_answer(usual), *(clean_answer(a) for a in answers)])
    similarity = np.clip(np.asarray((x[1:] @ x[0].T).todense()).ravel(), 0.0, 1.0)
    kept = np.asarray(others, dtype=float)
    median = float(np.median(kept))
    mad = max(float(np.median(np.abs(kept - median))), _MIN_MAD)
    apart = (similarity < APART_FLOOR) & (similarity < median - APART_MADS * mad)
    return similarity, apart


@dataclass(frozen=True)
class Answer:
    """One answer compared with its topic's usual answer: its `topic`, `similarity` in [0, 1]
    (None when the topic has fewer than MIN_ANSWERS answers), `usual` (the index, in the input,
    of the topic's usual answer; None likewise) and whether it stands `apart`."""

    topic: Hashable
    similarity: float | None
    usual: int | None
    apart: bool


def consistency(answers: Sequence[str | None], topics: Sequence[Hashable], *,
                min_answers: int = MIN_ANSWERS) -> list[Answer]:
    """Each answer compared with the usual answer of its topic, in input order. `topics` gives
    each answer's topic (any hashable label; None: no topic, not compared)."""
    if len(answers) != len(topics):
        raise UserError(f"give one topic per answer: {len(answers)} answers but {len(topics)} topics.")
    if min_answers < 2:
        raise UserError(f"min_answers is {min_answers}: a usual answer needs at least 2 answers to compare.")
    found: list[Answer | None] = [None] * len(answers)
    members: dict[Hashable, list[int]] = {}
    for i, topic in enumerate(topics):
        members.setdefault(topic, []).append(i)
    for topic, rows in members.items():
        if topic is None:
            result = TopicAnswers(None, np.full(len(rows), np.nan), np.zeros(len(rows), dtype=bool))
        else:
            result = compare_answers([answers[i] for i in rows], min_answers=min_answers)
        usual = None if result.usual is None else rows[result.usual]
        for j, i in enumerate(rows):
            s = float(result.similarity[j])
            found[i] = Answer(topic, None if np.isnan(s) else s, usual, bool(result.apart[j]))
    return [a for a in found if a is not None]
