"""What every command group shares: the error convention and the workspace path.

`cli.py` and the groups that live with their packages (`schedule`, `sla`, `serve`,
`keys`) import these, so a user-fixable error reads and exits the same everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cxmetrics.errors import CxError, StoreError

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

DEFAULT_WORKSPACE = Path("cxmetrics-workspace")


def fail_cleanly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors a user can fix print `TypeName: message` and exit 1 (no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CxError as exc:
            click.echo(f"{type(exc).__name__}: {exc}", err=True)
            sys.exit(1)

    return wrapper


def workspace_path(ctx: click.Context) -> Path:
    """The workspace folder the root command was given (`--workspace`, else the default)."""
    obj = ctx.find_root().obj or {}
    return Path(obj.get("workspace", DEFAULT_WORKSPACE))


def open_workspace(ctx: click.Context, *, create: bool = False, read_only: bool = False,
                   make: str = "`cxmetrics demo` or `cxmetrics import`") -> Workspace:
    """The workspace of the root command's --workspace; without one (unless `create`), an error
    that says how to make one (`make`: the commands that would)."""
    import cxmetrics

    path = workspace_path(ctx)
    if not create and not (path / "cxmetrics.duckdb").exists():
        raise StoreError(f"no workspace at {path}: create one with {make}, or point --workspace (or "
                         "CXMETRICS_WORKSPACE) at an existing one.")
    return cxmetrics.open(path, create=create, read_only=read_only)


# -- a metric query's options: `cxmetrics metrics` and `cxmetrics export metrics` share them --


def split_values(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated values as one list: ('a,b', 'c') -> ['a', 'b', 'c']."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def parse_where(items: tuple[str, ...]) -> dict[str, list[str]]:
    """--where DIM=VALUE[,VALUE...] items as the library's `where`."""
    from cxmetrics.metrics._sources import split_filter

    where: dict[str, list[str]] = {}
    for item in items:
        parts = split_filter(item)  # DIM=VALUE, or DIM:VALUE as the API also takes
        if parts is None:
            raise click.UsageError(f"--where '{item}' is not DIM=VALUE (e.g. --where channel=email).")
        where.setdefault(parts[0], []).extend(v.strip() for v in parts[1].split(","))
    return where


def query_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--by, --grain, --from, --to and --where, feeding ws.metrics(by=, grain=, start=, end=, where=)."""
    for option in reversed((
        click.option("--by", "by", multiple=True,
                     help="Group by dimensions (comma-separated or repeated): channel, team, ..."),
        click.option("--grain", type=click.Choice(["hour", "day", "week", "month", "quarter", "year"]),
                     help="Bucket by time."),
        click.option("--from", "start", help="Period start (inclusive), e.g. 2025-01-01."),
        click.option("--to", "end", help="Period end (exclusive), e.g. 2025-07-01."),
        click.option("--where", "where", multiple=True, help="Filter DIM=VALUE[,VALUE...]; repeat for more dimensions."),
    )):
        fn = option(fn)
    return fn
