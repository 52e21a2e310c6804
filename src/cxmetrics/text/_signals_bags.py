"""Bags of word stems for the signals of a good answer, built and compared in Arrow and numpy
(no loop over texts in Python).

A text's words are its runs of letters and digits, lower-cased; English function words
(STOP_WORDS) are left out and every other word is cut to its first five characters, so that
word forms meet ("refunded", "refunds" -> "refun"; "cancellation" and "cancelled" -> "cance").
A plural's "s" goes first
("cards" -> "card", not "pass"). A word with a digit is kept whole (an order number is not a stem). The same rule runs in SQL
(`STEMS_SQL`) to count how common each stem is among a workspace's customer messages.

The weights are each stem's sublinear count in its own text (1 + log count), nothing taken from
other texts, so a pair's similarity depends on the pair alone, never on which other texts were
scored with it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.text._signals_rules import STOP_WORDS

STEM = 5  # characters kept of a word without digits
WORD_SPLIT = r"[^\p{L}\p{N}]+"  # RE2, the same in Arrow and DuckDB
PLURAL = r"^(\p{L}{2,}[^s])s$"  # a plural's "s": "cards" -> "card", "orders" -> "order"; not "pass", "bus"

_STOP = pa.array(sorted(STOP_WORDS), pa.large_string())


def stem(word: str) -> str:
    """The stem of one lower-case word, as the bags cut it."""
    if any(c.isdigit() for c in word):
        return word
    return (word[:-1] if len(word) >= 4 and word.endswith("s") and word[-2] != "s" else word)[:STEM]


def stems_sql(text: str) -> str:
    """SQL: the list of stems of the text expression `text`, with STOP_WORDS still in (the
    caller leaves them out, as `_STOP` does here, when it matters)."""
    return (f"list_transform(list_filter(regexp_split_to_array(lower({text}), '{WORD_SPLIT}'), lambda w: length(w) >= 2), "
            f"lambda w: CASE WHEN regexp_matches(w, '[0-9]') THEN w "
            f"ELSE left(regexp_replace(w, '{PLURAL}', '\\1'), {STEM}) END)")


@dataclass(frozen=True)
class Bags:
    """Stems of several groups of texts over one shared vocabulary: `vocab` (the stems), and per
    group the (text index, stem id) of every distinct stem of each text, sorted."""

    vocab: pa.Array
    groups: list[np.ndarray]  # int64 keys text * len(vocab) + stem id, unique and sorted

    @property
    def size(self) -> int:
        return max(len(self.vocab), 1)

    def mask(self, stems: Collection[str]) -> np.ndarray:
        """A mask over the vocabulary: which of its stems are in `stems`."""
        if not len(self.vocab):
            return np.zeros(0, dtype=bool)
        found = pc.is_in(self.vocab, value_set=pa.array(sorted(stems), self.vocab.type))
        return found.to_numpy(zero_copy_only=False)


def bags(*groups: Sequence[str | None]) -> tuple[Bags, list[np.ndarray]]:
    """The stems of every text of each group, and per group the sublinear weight of each key."""
    sizes = [len(g) for g in groups]
    texts = pa.array([t or "" for g in groups for t in g], pa.large_string())
    words = pc.split_pattern_regex(pc.utf8_lower(texts), WORD_SPLIT)
    parents = pc.list_parent_indices(words).to_numpy().astype(np.int64)
    flat = pc.list_flatten(words)
    keep = pc.and_(pc.greater_equal(pc.utf8_length(flat), 2), pc.invert(pc.is_in(flat, value_set=_STOP)))
    flat, parents = pc.filter(flat, keep), parents[keep.to_numpy(zero_copy_only=False)]
    singular = pc.replace_substring_regex(flat, pattern=PLURAL, replacement=r"\1")
    stems = pc.if_else(pc.match_substring_regex(flat, "[0-9]"), flat, pc.utf8_slice_codeunits(singular, 0, STEM))
    encoded = pc.dictionary_encode(stems)
    vocab = encoded.dictionary
    ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    size = max(len(vocab), 1)
    keys_by_group: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    start = 0
    for n in sizes:
        inside = (parents >= start) & (parents < start + n)
        keys, counts = np.unique((parents[inside] - start) * size + ids[inside], return_counts=True)
        keys_by_group.append(keys)
        weights.append(1.0 + np.log(counts))
        start += n
    return Bags(vocab, keys_by_group), weights


def cosine(a: np.ndarray, wa: np.ndarray, b: np.ndarray, wb: np.ndarray, size: int, n: int) -> np.ndarray:
    """Per text i < n, the cosine similarity of bag i of `a` and bag i of `b` (NaN when either is
    empty): sum of products of shared stems' weights over the product of the bags' lengths."""
    norm_a = np.bincount(a // size, wa * wa, minlength=n)[:n]
    norm_b = np.bincount(b // size, wb * wb, minlength=n)[:n]
    _, ia, ib = np.intersect1d(a, b, assume_unique=True, return_indices=True)
    dot = np.bincount(a[ia] // size, wa[ia] * wb[ib], minlength=n)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = dot / np.sqrt(norm_a * norm_b)
    out[(norm_a == 0) | (norm_b == 0)] = np.nan
    return np.clip(out, 0.0, 1.0, where=~np.isnan(out), out=out)


def common_stems(texts: Sequence[str | None], share: float) -> frozenset[str]:
    """The stems found in at least two of `texts` and in more than `share` of them."""
    found, _ = bags(texts)
    keys = found.groups[0]
    if not len(keys):
        return frozenset()
    df = np.bincount(keys % found.size, minlength=len(found.vocab))
    limit = max(1.0, share * len(texts))
    return frozenset(found.vocab.filter(pa.array(df > limit)).to_pylist())
