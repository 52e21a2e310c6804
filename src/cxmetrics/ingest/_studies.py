"""The `companies` and `probes` import kinds' rules (benchmark studies; docs/studies.md).

- companies: `channels` is stored lower-case and trimmed, sorted and without repeats (a probe's
  channel is lower-cased too, so `Chat` offered finds a `chat` probe; sorted, so re-importing
  the same row is unchanged).
- probes: `channel` is lower-cased like every channel column; `first_response_at` and
  `follow_up_at` may not be before `sent_at`; an answer's text or an auto-reply needs the
  answer's time (`first_response_at`), else the row is quarantined saying so.
- rubric scores are read on the row's `rubric_scale` (default `0-1`; `1-5`, `0-10`, `0-100`...
  any `LOW-HIGH`) and stored on 0-1: (score - LOW) / (HIGH - LOW). A score off its scale is
  quarantined with the scale named.

Every rule is SQL over the stage's typed columns (see `_kinds.ImportKind`).
"""

from __future__ import annotations

from cxmetrics.model import TABLES, Column, ColType

RUBRICS = ("rubric_personalised", "rubric_relevant", "rubric_thorough", "rubric_empathetic")

COMPANIES_TARGET = {
    "channels": "CASE WHEN channels IS NOT NULL THEN "
                "list_sort(list_distinct(list_filter(list_transform(channels, lambda c: lower(trim(c))), lambda c: c <> ''))) END",
}

# the rubric columns are read as plain numbers: their range is the row's scale, checked below
PROBES_INPUTS: tuple[Column, ...] = (
    *(Column(c.name, ColType.NUMBER, doc="a person's score on rubric_scale, stored as 0-1 (empty: from the text)")
      if c.name in RUBRICS else c for c in TABLES["probes"].columns),
    Column("rubric_scale", doc="the scale of the row's rubric scores: 0-1 (default), 1-5, 0-10, 0-100..."),
)

_SCALE = "coalesce(replace(rubric_scale, ' ', ''), '0-1')"
PROBES_DERIVED: tuple[tuple[str, str], ...] = (
    ("_rubric_low", f"try_cast(regexp_extract({_SCALE}, '^(\\d+(?:\\.\\d+)?)-(\\d+(?:\\.\\d+)?)$', 1) AS DOUBLE)"),
    ("_rubric_high", f"try_cast(regexp_extract({_SCALE}, '^(\\d+(?:\\.\\d+)?)-(\\d+(?:\\.\\d+)?)$', 2) AS DOUBLE)"),
)


def _before(later: str, earlier: str) -> str:
    return (
        f"CASE WHEN {later} < {earlier} THEN '{later} (' || strftime({later}, '%Y-%m-%d %H:%M:%S%z') || "
        f"') is before {earlier} (' || strftime({earlier}, '%Y-%m-%d %H:%M:%S%z') || ')' END"
    )


def _on_scale(col: str) -> str:
    return (f"CASE WHEN {col} IS NOT NULL AND _rubric_low < _rubric_high AND ({col} < _rubric_low OR {col} > _rubric_high) "
            f"THEN '{col} ' || {col} || ' is outside its rubric_scale ' || {_SCALE} || "
            "' (give rubric_scale for scores on another scale, e.g. 1-5)' END")


PROBES_CHECKS: tuple[str, ...] = (
    _before("first_response_at", "sent_at"),
    _before("follow_up_at", "sent_at"),
    "CASE WHEN auto_reply AND first_response_at IS NULL THEN 'auto_reply is true but first_response_at is empty: "
    "give the time of the automatic answer' END",
    "CASE WHEN response_text IS NOT NULL AND first_response_at IS NULL THEN 'response_text is given but "
    "first_response_at is empty: give the time of the answer (an empty first_response_at means ignored)' END",
    f"CASE WHEN _rubric_low IS NULL OR _rubric_high IS NULL OR _rubric_low >= _rubric_high THEN 'rubric_scale ''' || "
    f"{_SCALE} || ''' is not a scale such as 0-1, 1-5 or 0-100' END",
    *(_on_scale(c) for c in RUBRICS),
)

PROBES_TARGET = {c: f"({c} - _rubric_low) / (_rubric_high - _rubric_low)" for c in RUBRICS}
