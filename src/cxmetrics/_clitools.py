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
