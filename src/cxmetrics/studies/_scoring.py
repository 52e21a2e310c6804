"""Each probe's SPI components, 0-100 (docs/studies.md, "The Support Performance Index").

Input: one Arrow table of probes with available, answered, auto_reply, channel, response_s,
question, response_text and the rubric scores (0-1, NULL where not given). Output: the seven
components, `criteria_from` and the probe's `spi`, computed over all probes at once in numpy
(the text signals in one call of cxmetrics.text.signals.signals, for the probes whose signals
are not given).

- not available: every component 0 (nobody to answer);
- ignored (no answer): availability 100, the rest 0;
- an auto-reply only: scored as ignored (availability 100, the rest 0): an acknowledgement
  answers nothing, and counting its speed would rank an instant "we got your message" above a
  real answer an hour later;
- otherwise each criterion is the rubric score x 100 where given, else its text signal
  (SpiDeclaration.text_signals) of the answer's text against the question, else NULL: it
  cannot be judged (an answer without text, as most calls) and the probe's SPI is then the
  weighted mean of the components that apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from cxmetrics.studies._declaration import COMPONENTS, CRITERIA, SpiDeclaration

if TYPE_CHECKING:
    from cxmetrics.text.signals import ReplySignals


def _col(table: pa.Table, name: str, dtype: Any = float) -> np.ndarray:
    values = table.column(name).to_pylist()
    if dtype is bool:
        return np.array([bool(v) for v in values], dtype=bool)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _text_criteria(replies: list[str | None], asked: list[str | None], decl: SpiDeclaration,
                   which: np.ndarray, given: Sequence[ReplySignals | None] | None) -> dict[str, np.ndarray]:
    """The criteria read from the texts of the probes `which` selects (NaN elsewhere and where
    a signal cannot tell: no text asked for relevance and thoroughness). `given[i]`, when not
    None, are probe i's signals already scored (the text facts); the others are scored here."""
    n = len(replies)
    out = {c: np.full(n, np.nan) for c in CRITERIA}
    rows = np.flatnonzero(which)
    if not len(rows):
        return out
    from cxmetrics.text.signals import signals

    known = [given[i] if given is not None else None for i in rows]
    todo = [i for i, s in zip(rows, known, strict=True) if s is None]
    scored = iter(signals([replies[i] for i in todo], [asked[i] for i in todo]) if todo else ())
    found = [s if s is not None else next(scored) for s in known]
    for criterion in CRITERIA:
        name = decl.text_signals[criterion]
        for i, s in zip(rows, found, strict=True):
            if name == "answered_share":
                value: float | None = 100.0 * s.questions_answered / s.questions if s.questions else None
            else:
                flag = getattr(s, name)
                value = None if flag is None else 100.0 * bool(flag)
            if value is None and criterion == "thorough":
                # nothing asked as a question ("my order has not arrived"): a relevant answer answers it
                value = None if s.relevant is None else 100.0 * bool(s.relevant)
            out[criterion][i] = np.nan if value is None else value
    return out


def score(probes: pa.Table, decl: SpiDeclaration, given: Sequence[ReplySignals | None] | None = None
          ) -> dict[str, Any]:
    """The components (0-100 floats, NaN = NULL), `criteria_from` and `spi` of each probe;
    `given` as _text_criteria takes it."""
    n = probes.num_rows
    available = _col(probes, "available", bool)
    answered = _col(probes, "answered", bool) & available
    auto = _col(probes, "auto_reply", bool) & answered
    response_s = _col(probes, "response_s")
    channels = probes.column("channel").to_pylist()

    real = answered & ~auto  # an automatic acknowledgement answers nothing
    comp: dict[str, np.ndarray] = {
        "availability": np.where(available, 100.0, 0.0),
        "responsiveness": np.where(real, 100.0, 0.0),
        "speed": np.array([decl.speed(ch, s) if a else 0.0 for ch, s, a in zip(channels, response_s, real,
                                                                                  strict=True)], dtype=float),
    }
    replies = probes.column("response_text").to_pylist()
    asked = probes.column("question").to_pylist()
    judged = real  # criteria are judged on a real answer only
    rubric = {c: _col(probes, f"rubric_{c}") * 100.0 for c in CRITERIA}
    needs_text = judged & np.array([r is not None and r.strip() != "" for r in replies], dtype=bool)
    needs_text &= np.any(np.stack([np.isnan(rubric[c]) for c in CRITERIA]), axis=0)
    text = _text_criteria(replies, asked, decl, needs_text, given)
    from_rubric = np.zeros(n, dtype=bool)
    from_text = np.zeros(n, dtype=bool)
    for c in CRITERIA:
        have = ~np.isnan(rubric[c])
        value = np.where(have, rubric[c], text[c])
        from_rubric |= judged & have
        from_text |= judged & ~have & ~np.isnan(text[c])
        comp[c] = np.where(judged, value, 0.0)
    criteria_from = np.where(from_rubric, "rubric", np.where(from_text, "text", "none"))

    weights = np.array([decl.weights.get(c, 0.0) for c in COMPONENTS])
    values = np.stack([comp[c] for c in COMPONENTS], axis=1)
    known = ~np.isnan(values)
    total = (np.where(known, values, 0.0) * weights).sum(axis=1)
    weight = (known * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        spi = np.where(weight > 0, total / weight, np.nan)
    return {**comp, "criteria_from": criteria_from.tolist(), "spi": spi}
