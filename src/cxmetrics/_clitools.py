"""What every command group shares: the error convention and the workspace path.

`cli.py` and the groups that live with their packages (`schedule`, `sla`, `serve`,
`keys`) import these, so a user-fixable error reads and exits the same everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from cxmetrics.errors import CxError

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
