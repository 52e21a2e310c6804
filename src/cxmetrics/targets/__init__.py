"""KPI targets: the user's, kept in the workspace's `targets.toml` (docs/targets.md).

Every KPI with a direction can have a target, and a different one per value of a
dimension (a stricter first reply for chat). The CLI (`cxmetrics targets`), the API
(`/api/v1/targets`) and the dashboard read and write the same file through these
functions; `ws.metrics(..., benchmark=...)` shows the target that applies to each row.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> _ = set_target(folder, "csat", 85)
>>> _ = set_target(folder, "frt", "1h", by=("channel", "chat"))
>>> t = load_targets(folder)
>>> t.find("frt", {"channel": "chat"}).value, t.find("csat", {}).met(83.0, "higher")
(3600.0, False)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cxmetrics.targets._file import (
    TARGETS_FILE,
    Target,
    Targets,
    TargetsError,
    check_dimension,
    check_metric,
    load,
    parse_value,
    save,
)

__all__ = [
    "TARGETS_FILE",
    "Target",
    "Targets",
    "TargetsError",
    "load_targets",
    "remove_target",
    "set_target",
    "target_rows",
]


_lock = threading.Lock()


def _path(workspace: Any) -> Path:
    """The targets file of a workspace (a Workspace or its folder)."""
    folder = Path(getattr(workspace, "path", workspace))
    return folder / TARGETS_FILE


def load_targets(workspace: Any) -> Targets:
    """The targets of a workspace (a Workspace or its folder); none without the file."""
    return load(_path(workspace))


def set_target(workspace: Any, metric: str, value: float | str, *, by: tuple[str, str] | None = None) -> Target:
    """Set `metric`'s target (for one dimension value with `by=(dimension, value)`),
    replacing the one it had; returns what was written. `value` is in the metric's unit:
    percent 0-100, a duration like '4h' or seconds."""
    unit, _ = check_metric(metric)
    dimension, dim_value = by if by is not None else (None, None)
    if dimension is not None:
        check_dimension(dimension)
        if not str(dim_value).strip():
            raise TargetsError([f"{metric}: give the {dimension} the target is for, e.g. --by {dimension}=email."])
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in str(dim_value)):
            raise TargetsError([f"{metric}: the {dimension} value {str(dim_value)!r} holds control characters "
                                "(a line break, a tab); give the value as it is stored."])
    written: int | float | str = value
    if isinstance(value, str) and unit != "seconds":
        written = parse_value(value, unit, f"{metric}: ")
    target = Target(metric, parse_value(value, unit, f"{metric}: "), written, dimension,
                    None if dim_value is None else str(dim_value).strip())
    path = _path(workspace)
    with _lock:  # read-modify-write: two writers in one process must not lose each other's target
        save(load(path).with_target(target), path)
    return target


def remove_target(workspace: Any, metric: str, *, dimension: str | None = None, value: str | None = None) -> int:
    """Remove `metric`'s targets: all of them, or those of one dimension (and value);
    returns how many went (0: there was none, and the file is left as it was)."""
    if dimension is not None:
        check_dimension(dimension)
    path = _path(workspace)
    with _lock:
        kept, gone = load(path).without(metric, dimension, value)
        if gone:
            save(kept, path)
    return gone


def target_rows(targets: Targets) -> list[dict[str, Any]]:
    """The targets as rows (metric, label, unit, direction, dimension, value, target,
    written) for tables and JSON."""
    from cxmetrics.metrics._registry import registry

    reg = registry()
    out = []
    for t in targets:
        spec = reg.resolve(t.metric).spec
        out.append({"metric": t.metric, "label": spec.label, "unit": spec.unit.value,
                    "direction": spec.direction.value, "dimension": t.dimension, "value": t.dimension_value,
                    "target": t.value, "written": t.written if isinstance(t.written, str) else None})
    return out

