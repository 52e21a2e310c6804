"""`cxmetrics serve` and `cxmetrics keys ...`: click commands the main CLI adds.

Both read the workspace from the main group's context (`ctx.obj["workspace"]`).
"""

from __future__ import annotations

from pathlib import Path

import click

import cxmetrics
from cxmetrics._clitools import fail_cleanly as _fail_cleanly
from cxmetrics._clitools import workspace_path
from cxmetrics.api._serve import DEFAULT_HOST, DEFAULT_PORT




def _path(ctx: click.Context) -> Path:
    return workspace_path(ctx)


def _open_existing(ctx: click.Context) -> cxmetrics.Workspace:
    path = _path(ctx)
    if not (path / "cxmetrics.duckdb").exists():
        raise cxmetrics.StoreError(
            f"no workspace at {path}: create one with `cxmetrics demo` or `cxmetrics import`, "
            "or point --workspace (or CXMETRICS_WORKSPACE) at an existing one."
        )
    return cxmetrics.open(path)


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on; anything but loopback lets other machines connect (a warning is printed).")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option("--new-key", is_flag=True, help="Create and print a new admin key at start.")
@click.pass_context
@_fail_cleanly
def serve(ctx: click.Context, host: str, port: int, no_open: bool, new_key: bool) -> None:
    """Serve the dashboard and the REST API (/api/v1) over the workspace.

    The server holds the workspace while it runs; other cxmetrics commands and
    cxmetrics.open() on the same workspace go through it (they work as usual, and the
    dashboard shows their imports at once). On the first start it creates an admin key
    and prints it once."""
    from cxmetrics.api._serve import serve as run

    run(_path(ctx), host, port, open_browser=not no_open, new_key=new_key, echo=click.echo)


@click.group("keys")
def keys() -> None:
    """Manage API keys (admin: read and write; viewer: read only)."""


@keys.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True)
@click.pass_context
@_fail_cleanly
def keys_create(ctx: click.Context, name: str, role: str) -> None:
    """Create a key named NAME and print it (only this once: it is stored hashed)."""
    from cxmetrics.api._keys import create_key

    with _open_existing(ctx) as ws:
        key_id, token = create_key(ws, name, role)
    click.echo(f"Created {role} key {key_id} ({name}). The key, shown only now:\n\n    {token}\n")


@keys.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
@_fail_cleanly
def keys_list(ctx: click.Context, fmt: str) -> None:
    """List keys: id, name, role, created, revoked, last used (never the key itself)."""
    from cxmetrics._output import render
    from cxmetrics.api._keys import list_keys

    with _open_existing(ctx) as ws:
        table = list_keys(ws)
    click.echo(render(table, fmt))


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
@_fail_cleanly
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke the key KEY_ID (its dashboard sessions end too)."""
    from cxmetrics.api._keys import revoke_key

    with _open_existing(ctx) as ws:
        changed = revoke_key(ws, key_id)
    click.echo(f"Revoked key {key_id}." if changed else f"Key {key_id} was revoked already.")
