"""The workspace's `targets.toml`: a target per KPI, optionally per dimension value.

    [csat]                     # a metric id (`cxmetrics catalogue`)
    target = 85                # in the metric's unit: percent 0-100, "4h" for durations
    [csat.by.channel]          # optional: per value of a dimension, wins over `target`
    email = 90
    "live chat" = 80

Whether a value met its target follows the metric's declared direction: at or above it
for a higher-is-better metric, at or below it for a lower-is-better one. A metric
without a direction (volume) takes no target: it can be neither met nor missed.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxmetrics.errors import UserError

TARGETS_FILE = "targets.toml"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_BOUNDS = {"percent": (0.0, 100.0), "points": (-100.0, 100.0)}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class TargetsError(UserError, ValueError):
    """`targets.toml` (or a target given to the CLI or the API) is wrong; `errors` holds
    every problem, each naming the line, the metric and the fix."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        head = errors[0] if len(errors) == 1 else f"{len(errors)} problems:\n  " + "\n  ".join(errors)
        super().__init__(head)


@dataclass(frozen=True)
class Target:
    """One target: the metric, the dimension value it is for (None: the metric's own),
    the value in the metric's unit, and how it was written (kept when the file is saved)."""

    metric: str
    value: float
    written: int | float | str
    dimension: str | None = None
    dimension_value: str | None = None

    def met(self, value: float | None, direction: str) -> bool | None:
        """Whether `value` meets the target: >= for `higher`, <= for `lower`; None when
        there is no value or no direction."""
        if value is None or direction not in ("higher", "lower"):
            return None
        return value >= self.value if direction == "higher" else value <= self.value

    @property
    def scope(self) -> str:
        """'all' or 'channel = email': what the target applies to, for people."""
        return "all" if self.dimension is None else f"{self.dimension} = {self.dimension_value}"


@dataclass(frozen=True)
class Targets:
    """Every target of a workspace, in file order."""

    items: tuple[Target, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of(self, metric: str) -> list[Target]:
        """The targets of one metric (its own first, then per dimension value)."""
        return [t for t in self.items if t.metric == metric]

    def find(self, metric: str, dims: Mapping[str, Any] | None = None) -> Target | None:
        """The target that applies to `metric` for a row or view whose dimensions are
        `dims` (name -> value, or a list of values: a filter on one value counts, on
        several does not): the first per-value target that matches, else the metric's
        own target, else None.

        >>> t = Targets((Target("csat", 85, 85), Target("csat", 90, 90, "channel", "email")))
        >>> t.find("csat", {"channel": "email"}).value, t.find("csat", {"channel": "chat"}).value
        (90, 85)
        """
        own = None
        for t in self.of(metric):
            if t.dimension is None:
                own = t
                continue
            given = (dims or {}).get(t.dimension)
            if isinstance(given, list | tuple | set | frozenset):
                given = next(iter(given)) if len(given) == 1 else None
            if given is not None and str(given) == t.dimension_value:
                return t
        return own

    def with_target(self, target: Target) -> Targets:
        """These targets with `target` set (replacing the one for the same scope)."""
        key = (target.metric, target.dimension, target.dimension_value)
        items = list(self.items)
        for i, t in enumerate(items):
            if (t.metric, t.dimension, t.dimension_value) == key:
                items[i] = target
                return Targets(tuple(items), self.path)
        return Targets((*items, target), self.path)

    def without(self, metric: str, dimension: str | None = None, value: str | None = None) -> tuple[Targets, int]:
        """These targets without the metric's (all of them when neither `dimension` nor
        `value` is given: the metric's own and every per-value one), and how many went."""
        if value is not None and dimension is None:
            raise TargetsError([f"a value ('{value}') needs its dimension, e.g. --by channel={value}."])

        def gone(t: Target) -> bool:
            if t.metric != metric:
                return False
            if dimension is None:
                return True
            return t.dimension == dimension and (value is None or t.dimension_value == value)

        kept = tuple(t for t in self.items if not gone(t))
        return Targets(kept, self.path), len(self.items) - len(kept)


def parse_value(written: Any, unit: str, where: str = "") -> float:
    """A target as written (a number, '85%', '4h', '1h30m') in the metric's unit; raises
    TargetsError prefixed with `where` (which names the metric) and the form expected."""
    if isinstance(written, bool):
        raise TargetsError([f"{where}the target must be a number, not {str(written).lower()}."])
    if unit == "seconds" and isinstance(written, str):
        text = written.strip().lower()
        parts = _DURATION.findall(text)
        if not parts or _DURATION.sub("", text).strip():
            raise TargetsError([f"{where}'{written}' is not a duration; write it like '30m', '4h', '1h30m' or '2d' "
                                "(or a number of seconds)."])
        value = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    elif isinstance(written, str):
        text = written.strip().rstrip("%").strip() if unit == "percent" else written.strip()
        try:
            value = float(text)
        except ValueError:
            raise TargetsError([f"{where}'{written}' is not a number in {unit}"
                                + (" (write 85 or '85%' for 85 %)." if unit == "percent" else ".")]) from None
    elif isinstance(written, int | float):
        value = float(written)
    else:
        raise TargetsError([f"{where}the target must be a number, not {type(written).__name__}."])
    if not math.isfinite(value):
        raise TargetsError([f"{where}the target must be a finite number, not {written!r}."])
    lo, hi = _BOUNDS.get(unit, (0.0, math.inf))
    if not lo <= value <= hi:
        bounds = f"{lo:g} to {hi:g}" if hi != math.inf else f"{lo:g} or more"
        raise TargetsError([f"{where}{written!r} is outside {bounds} ({unit})."])
    return value


def check_metric(metric: str, where: str = "") -> tuple[str, str]:
    """(unit, direction) of a metric that can take a target; else TargetsError with the
    nearest metric name or why it cannot."""
    from cxmetrics.errors import UnknownNameError
    from cxmetrics.metrics._registry import registry

    reg = registry()
    try:
        ref = reg.resolve(metric)
    except UnknownNameError:
        close = difflib.get_close_matches(metric, reg.names(), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else " `cxmetrics catalogue` lists them."
        raise TargetsError([f"{where}unknown metric '{metric}'.{hint}"]) from None
    direction = ref.spec.direction.value
    if direction not in ("higher", "lower"):
        raise TargetsError([f"{where}{metric} has no better direction ({ref.spec.label} is neither better higher nor "
                            "lower), so a target could be neither met nor missed; set targets on KPIs with a "
                            "direction."])
    return ref.spec.unit.value, direction


def check_dimension(name: str, where: str = "") -> None:
    from cxmetrics.metrics._sources import DIMENSIONS

    if name not in DIMENSIONS:
        close = difflib.get_close_matches(name, list(DIMENSIONS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise TargetsError([f"{where}unknown dimension '{name}'.{hint} Valid: {', '.join(DIMENSIONS)}."])


def _line_of(lines: list[str], metric: str, key: str | None = None, dim: str | None = None) -> int | None:
    """The line (1-based) where a metric's table (or its [metric.by.dim] table), or a
    key in it, is written."""
    m = rf'"?{re.escape(metric)}"?'
    head = re.compile(rf'^\s*\[\s*{m}\s*\.\s*by\s*\.\s*"?{re.escape(dim)}"?\s*\]' if dim is not None
                      else rf'^\s*\[\s*{m}\s*\]')
    for i, line in enumerate(lines):
        if head.match(line):
            if key is None:
                return i + 1
            pat = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
            for j in range(i + 1, len(lines)):
                if lines[j].lstrip().startswith("["):
                    break
                if pat.match(lines[j]):
                    return j + 1
            return i + 1
    # written inline (csat = { target = 85 }) or as dotted keys
    for i, line in enumerate(lines):
        if re.match(rf'^\s*{m}\s*[.=]', line):
            return i + 1
    return None


def loads(text: str, name: str = TARGETS_FILE) -> Targets:
    """Parse and validate targets from TOML text; every problem is reported at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError([f"{name}: not valid TOML: {exc}."]) from None
    lines = text.splitlines()
    items: list[Target] = []
    errors: list[str] = []

    def at(metric: str, key: str | None = None, dim: str | None = None) -> str:
        line = _line_of(lines, metric, key, dim)
        return f"{name}, line {line}, [{metric}]: " if line else f"{name}, [{metric}]: "

    for metric, table in data.items():
        try:
            unit, _ = check_metric(metric, at(metric))
        except TargetsError as exc:
            errors += exc.errors
            continue
        if not isinstance(table, dict):
            errors.append(f"{at(metric)}write a table: [{metric}] then target = ... on the next line.")
            continue
        for key in table:
            if key not in ("target", "by"):
                errors.append(f"{at(metric, key)}unknown key '{key}'; a metric's table holds `target` and "
                              f"[{metric}.by.DIMENSION] tables.")
        if "target" in table:
            try:
                items.append(Target(metric, parse_value(table["target"], unit, at(metric, "target")),
                                    table["target"]))
            except TargetsError as exc:
                errors += exc.errors
        by = table.get("by", {})
        if not isinstance(by, dict):
            errors.append(f"{at(metric, 'by')}write per-value targets as [{metric}.by.channel] with email = 90.")
            continue
        for dim, values in by.items():
            try:
                check_dimension(dim, at(metric, None, dim))
            except TargetsError as exc:
                errors += exc.errors
                continue
            if not isinstance(values, dict) or not values:
                errors.append(f"{at(metric, None, dim)}[{metric}.by.{dim}] must list values, e.g. email = 90.")
                continue
            for value, written in values.items():
                try:
                    items.append(Target(metric, parse_value(written, unit, at(metric, str(value), dim)), written, dim,
                                        str(value)))
                except TargetsError as exc:
                    errors += exc.errors
    if errors:
        raise TargetsError(errors)
    return Targets(tuple(items))


def load(path: Path) -> Targets:
    """The targets in a file (none when it does not exist)."""
    if not path.exists():
        return Targets((), path)
    return Targets(loads(path.read_text(encoding="utf-8"), path.name).items, path)


def _key(text: str) -> str:
    return text if _BARE_KEY.match(text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _written(value: int | float | str) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def dumps(targets: Targets) -> str:
    """The TOML text of `targets`, one table per metric in first-seen order."""
    out = ["# KPI targets: `cxmetrics targets set|remove` rewrites this file (docs/targets.md).", ""]
    for metric in dict.fromkeys(t.metric for t in targets):
        mine = targets.of(metric)
        own = [t for t in mine if t.dimension is None]
        out.append(f"[{_key(metric)}]")
        if own:
            out.append(f"target = {_written(own[0].written)}")
        for dim in dict.fromkeys(t.dimension for t in mine if t.dimension is not None):
            out += ["", f"[{_key(metric)}.by.{_key(dim)}]"]
            out += [f"{_key(t.dimension_value or '')} = {_written(t.written)}" for t in mine if t.dimension == dim]
        out.append("")
    return "\n".join(out)


def save(targets: Targets, path: Path) -> None:
    """Write `targets` to `path` atomically (a reader never sees half a file)."""
    if not path.parent.is_dir():
        raise TargetsError([f"no workspace at {path.parent}: create one first (`cxmetrics demo` or "
                            "`cxmetrics import`), or give --workspace."])
    text = dumps(targets)
    loads(text, path.name)  # what we write must read back
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
