"""The REST API server (FastAPI) and the live-change hub.

`create_app(workspace_path)` builds the application over one workspace; `serve(...)`
runs it (what `cxmetrics serve` and `cxmetrics demo` call). Access control lives in
`cxmetrics.api.auth`; docs/api.md describes every endpoint.
"""

from __future__ import annotations

from cxmetrics.api._app import PREFIX, create_app
from cxmetrics.api._hub import Hub
from cxmetrics.api._serve import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "PREFIX", "Hub", "create_app", "serve"]
