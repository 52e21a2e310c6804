"""Running the server: `serve(workspace_path, host, port)`, what `cxmetrics serve` and
`cxmetrics demo` call. It prints where to point a browser and, on the first start (no
keys yet), an admin key to sign in with; then it serves until interrupted.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable

from cxmetrics._remote import live_server, remove_server_file
from cxmetrics.errors import UserError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("::1")
    (True, True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Refuse early, with the fix, when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): is another server running "
                            "there? Choose another with --port.") from None


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/"


def bootstrap_key(ws: object, new_key: bool = False) -> str | None:
    """An admin key to sign in with: created when the workspace has no active key (or
    when `new_key`); returns the token (shown once) or None."""
    from cxmetrics.api._keys import create_key

    con = ws.con  # type: ignore[attr-defined]
    active = con.execute("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL").fetchall()[0][0]
    if active and not new_key:
        return None
    _, token = create_key(ws, "admin (created by serve)", "admin")  # type: ignore[arg-type]
    return token


def serve(workspace_path: str | os.PathLike[str], host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
          open_browser: bool = True, new_key: bool = False, echo: Callable[[str], None] = print,
          log_level: str = "warning", prepare: Callable[[object], None] | None = None) -> None:
    """Serve the API and the dashboard over the workspace until interrupted (Ctrl+C).
    `prepare(app)` runs before serving (the demo attaches its live events there).

    The process owns the workspace while it runs (DuckDB: one writing process); it
    records its address in `<workspace>/server.json`, and the CLI and `cxmetrics.open`
    of other processes go through it (see `cxmetrics._remote`)."""
    import uvicorn

    from cxmetrics.api._app import create_app

    if not 0 < port < 65536:
        raise UserError(f"port {port} is not between 1 and 65535.")
    if not is_loopback(host):
        echo(f"Warning: listening on {host}, so other machines can reach this server. Every request still needs "
             "a key; put it behind https (a reverse proxy) before exposing it beyond a trusted network.")
    running = live_server(workspace_path)
    if running is not None:
        raise UserError(f"the workspace {workspace_path} is already being served at {running.url}/ (process "
                        f"{running.pid}): use that server, or stop it before starting another.")
    check_port(host, port)
    url = url_for(host, port)
    app = create_app(workspace_path, open_browser=open_browser, url=url)
    app.openapi()  # built before the first request (0.4 s): the query parameter check reads it (api/_params.py)
    if prepare is not None:
        prepare(app)
    token = bootstrap_key(app.state.workspace, new_key)
    echo(f"cxmetrics is serving {app.state.workspace.path} at {url}  (API: {url}api/v1/docs)")
    if token:
        echo(f"Sign in with this admin key (shown only now; keep it somewhere safe):\n\n    {token}\n")
    else:
        echo("Sign in with one of your keys (a new admin key: restart with --new-key, or run "
             "`cxmetrics keys create NAME --role admin`).")
    from cxmetrics.connectors._schedule import announce

    syncing = announce(app.state.workspace.settings)  # the app's lifespan starts them
    if syncing:
        echo(syncing)
    echo("The server holds the workspace while it runs (other cxmetrics commands and cxmetrics.open() go through "
         "it); stop it with Ctrl+C.")
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3,
                            proxy_headers=False)
    # server.json (written and removed by the app's lifespan) names a loopback address,
    # also when listening on all interfaces: only this machine's clients use it
    app.state.local_url = url.rstrip("/")
    try:
        uvicorn.Server(config).run()
    finally:
        remove_server_file(app.state.workspace.path, app.state.local_token)
