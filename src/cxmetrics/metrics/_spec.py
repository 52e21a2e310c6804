"""Metric declarations: frozen, typed models parsed from the YAML files.

A declaration says what a number means; the compiler turns it into SQL. Kinds:

- ``proportion``: share of the rows that count (``where``) meeting ``numerator``; Wilson CI.
- ``count``: rows that count; no interval.
- ``mean``: mean of ``expr`` over the rows that count; normal-approximation CI.
- ``duration``: seconds in ``expr``; reported as median (default), mean or p90 by suffix,
  with order-statistic intervals for quantiles.
- ``nps``: promoters minus detractors in percentage points; CI from the +1/0/-1 variance.
- ``ratio``: ``numerator`` / ``denominator``, two aggregate expressions; no interval.
- ``custom``: a hand-written query over the canonical tables (business metrics whose
  periods need more than one pass, such as retention).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Kind(StrEnum):
    PROPORTION = "proportion"
    COUNT = "count"
    MEAN = "mean"
    DURATION = "duration"
    NPS = "nps"
    RATIO = "ratio"
    CUSTOM = "custom"


class Unit(StrEnum):
    PERCENT = "percent"
    SECONDS = "seconds"
    COUNT = "count"
    SCORE = "score"
    CURRENCY = "currency"
    RATIO = "ratio"
    POINTS = "points"  # NPS: -100..100


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"


class Uncertainty(StrEnum):
    WILSON = "wilson"
    NPS = "nps"
    NORMAL = "normal"
    ORDER_STATISTIC = "order_statistic"
    NONE = "none"


DEFAULT_UNCERTAINTY = {
    Kind.PROPORTION: Uncertainty.WILSON,
    Kind.NPS: Uncertainty.NPS,
    Kind.MEAN: Uncertainty.NORMAL,
    Kind.DURATION: Uncertainty.ORDER_STATISTIC,
    Kind.COUNT: Uncertainty.NONE,
    Kind.RATIO: Uncertainty.NONE,
    Kind.CUSTOM: Uncertainty.NONE,
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MetricSpec(Frozen):
    """One KPI, declared once."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str
    kind: Kind
    unit: Unit
    direction: Direction = Direction.NONE
    source: str  # a semantic source: tickets, surveys, survey_sends, reply_intervals, ...
    time: str  # the timestamp that places a row in a period
    where: str = "true"  # SQL over the source: which rows count
    numerator: str | None = None  # proportion: condition; ratio: aggregate
    denominator: str | None = None  # ratio: aggregate
    expr: str | None = None  # mean / duration: the value
    promoter: str | None = None  # nps
    detractor: str | None = None  # nps
    sql: str | None = None  # custom: the name of a query builder (see _custom.BUILDERS)
    stat: str = "median"  # duration: the statistic of the plain id (median, mean or p90)
    uncertainty: Uncertainty | None = None
    benchmarks: tuple[str, ...] = ()
    target: float | None = None  # a common target (e.g. 80 for CSAT), shown beside the value
    min_n: int = 30  # below it, values are flagged small_sample
    metrics_md: str = ""  # the METRICS.md entry this implements

    @field_validator("label", "description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @property
    def ci_method(self) -> Uncertainty:
        return self.uncertainty or DEFAULT_UNCERTAINTY[self.kind]
