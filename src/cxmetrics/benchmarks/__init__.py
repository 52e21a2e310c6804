"""Industry reference values (benchmarks) with their sources, shown beside an organisation's own numbers.

The values live in ``references.yaml`` next to this module. Each one names its publisher,
URL, year and the sentence of the source that states it, and a note on how it maps onto
our definition of the metric: most published figures are measured differently from ours
(an ACSI index is not top-box CSAT; a survey-based FCR is not ticket-based FCR), so they
are shown as references, never as like-for-like comparisons.

Each also says what kind of source measured it (`source_kind`, labelled by
`SOURCE_KINDS`): an independent study, a vendor's study of data it measured, a consumer
survey of expectations, or an industry convention. A vendor's claim about its own
product is marketing, not a benchmark, and is refused.

>>> rows = references("frt", "email")
>>> all(r.unit == "seconds" and r.key == "frt" for r in rows)
True
>>> "email" in segments("frt")
True
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxmetrics import _yaml
from cxmetrics.errors import CxError, UnknownNameError

__all__ = ["KEYS", "SEGMENTS", "SOURCE_KINDS", "STATISTICS", "BenchmarkDataError", "Reference", "load", "references",
           "segments"]

#: Metric ids (METRICS.md) that have reference values, with the unit each is published in.
KEYS: dict[str, str] = {
    "csat": "percent",
    "nps": "points",
    "fcr": "percent",
    "frt": "seconds",
    "bot_resolution_rate": "percent",
    "abandonment_rate": "percent",
    "service_level": "percent",
    "aht": "seconds",
}

#: Industries, channels, and ``all``.
SEGMENTS: frozenset[str] = frozenset(
    {"ecommerce", "retail", "banking", "software", "telecom", "airlines", "email", "chat", "phone", "social", "all"}
)

#: What a value is: a measured average/median/typical value, a target or threshold, or what customers expect.
STATISTICS: frozenset[str] = frozenset(
    {"average", "median", "typical", "target", "expectation", "world_class", "good_min"}
)

#: What kind of source measured a value -> how it is labelled wherever it is shown.
SOURCE_KINDS: dict[str, str] = {
    "independent_study": "independent study",
    "vendor_study": "vendor study",
    "consumer_survey": "consumer survey",
    "convention": "industry convention",
}
#: Kinds that are not benchmarks at all: refused with the reason.
_NOT_BENCHMARKS = ("vendor_claim", "marketing")

_BOUNDS: dict[str, tuple[float, float]] = {
    "percent": (0.0, 100.0),
    "points": (-100.0, 100.0),
    "seconds": (0.0, 30 * 24 * 3600.0),  # a month; a larger "reference" is a unit mistake
}

_FILE = "references.yaml"


class BenchmarkDataError(CxError, ValueError):
    """The reference file is malformed; the message names every bad entry and field."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("invalid benchmark references:\n  " + "\n  ".join(issues))


class Reference(BaseModel):
    """One sourced reference value."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    key: str
    segment: str
    value: float
    unit: Literal["percent", "points", "seconds"]
    statistic: str
    source: str = Field(min_length=3)
    source_kind: str
    url: str
    year: int = Field(ge=2015, le=2026)
    quote: str = Field(min_length=5)
    note: str = Field(min_length=5)

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("must be a number")
        return float(v)

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if v not in KEYS:
            raise ValueError(f"unknown metric id '{v}'; expected one of {', '.join(KEYS)}")
        return v

    @field_validator("segment")
    @classmethod
    def _segment(cls, v: str) -> str:
        if v not in SEGMENTS:
            raise ValueError(f"unknown segment '{v}'; expected one of {', '.join(sorted(SEGMENTS))}")
        return v

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, v: str) -> str:
        if v not in STATISTICS:
            raise ValueError(f"unknown statistic '{v}'; expected one of {', '.join(sorted(STATISTICS))}")
        return v

    @field_validator("source_kind")
    @classmethod
    def _source_kind(cls, v: str) -> str:
        if v in _NOT_BENCHMARKS:
            raise ValueError(f"'{v}': a vendor's claim about its own product is marketing, not a measured "
                             "benchmark; leave the entry out")
        if v not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind '{v}'; expected one of {', '.join(SOURCE_KINDS)}")
        return v

    @property
    def kind_label(self) -> str:
        """The kind of source for people: 'independent study', 'vendor study'..."""
        return SOURCE_KINDS[self.source_kind]

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("source", "quote", "note")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @model_validator(mode="after")
    def _unit_and_bounds(self) -> Reference:
        expected = KEYS[self.key]
        if self.unit != expected:
            raise ValueError(f"unit '{self.unit}' does not fit '{self.key}', which is in {expected}")
        lo, hi = _BOUNDS[self.unit]
        if not lo <= self.value <= hi:
            raise ValueError(f"value {self.value:g} is outside {lo:g}..{hi:g} {self.unit}")
        return self


def load(text: str, name: str = _FILE) -> tuple[Reference, ...]:
    """Parse and validate reference entries from YAML text; every problem is reported at once."""
    try:
        items: Any = _yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        raise BenchmarkDataError([f"{name}: not valid YAML: {exc}"]) from None
    if not isinstance(items, list):
        raise BenchmarkDataError([f"{name}: must be a list of entries"])
    out: list[Reference] = []
    issues: list[str] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            issues.append(f"{name}[{i}]: must be a mapping of fields")
            continue
        label = f"{name}[{i}] ({item.get('key', '?')}/{item.get('segment', '?')})"
        try:
            ref = Reference.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
                issues.append(f"{label}, field '{loc}': {err['msg']}")
            continue
        ident = (ref.key, ref.segment, ref.statistic, ref.source)
        if ident in seen:
            issues.append(f"{label}: duplicates entry {seen[ident]} (same key, segment, statistic and source)")
            continue
        seen[ident] = i
        out.append(ref)
    if issues:
        raise BenchmarkDataError(issues)
    return tuple(out)


@functools.cache
def _all() -> tuple[Reference, ...]:
    text = resources.files(__name__).joinpath(_FILE).read_text(encoding="utf-8")
    return load(text)


def references(key: str | None = None, segment: str | None = None) -> list[Reference]:
    """The reference values, optionally for one metric id and/or one segment, in file order."""
    if key is not None and key not in KEYS:
        raise UnknownNameError("benchmark metric", key, KEYS)
    if segment is not None and segment not in SEGMENTS:
        raise UnknownNameError("benchmark segment", segment, SEGMENTS)
    return [r for r in _all() if (key is None or r.key == key) and (segment is None or r.segment == segment)]


def segments(key: str) -> list[str]:
    """The segments that have at least one reference value for ``key``, sorted."""
    return sorted({r.segment for r in references(key)})
