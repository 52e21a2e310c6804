"""The web dashboard: the page a head of support keeps open all day.

`router` (a FastAPI APIRouter) serves the sign-in page, the pages (overview, trends,
channels, agents and bots, SLA, surveys, tickets) and their static files; the API's
`create_app` includes it and calls `mount(app)`. The data behind each page are functions
of a Workspace in `_data` and its siblings, so they are tested without a browser.
"""

from __future__ import annotations

import threading
from typing import Any

from cxmetrics.web._pages import router


def _warm() -> None:
    """Load what the first page view would otherwise wait for (the metric registry, and
    pyarrow's first conversion of Python values), so the first view is as fast as the rest."""
    import pyarrow as pa

    from cxmetrics.metrics._registry import registry

    registry()
    pa.array([1.0, None]).to_pylist()
    pa.table({"x": pa.array(["a"])}).to_pylist()


def mount(app: Any) -> None:
    """Called by `create_app` once the router is included: warms up in the background."""
    threading.Thread(target=_warm, name="cxmetrics-web-warm", daemon=True).start()


__all__ = ["mount", "router"]
