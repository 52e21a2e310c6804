"""The public surface of cxmetrics.calendar is declared once, in its __all__."""

from __future__ import annotations

import types

from cxmetrics import calendar


def test_all_is_the_public_names() -> None:
    public = {n for n in dir(calendar) if not n.startswith("_") and n != "annotations"
              and not isinstance(getattr(calendar, n), types.ModuleType)}
    assert set(calendar.__all__) == public
    assert len(calendar.__all__) == len(set(calendar.__all__))
