"""The public surface is declared once, in cxmetrics.__all__."""

from __future__ import annotations

import cxmetrics


def test_all_is_the_sorted_public_names():
    public = sorted(n for n in dir(cxmetrics) if not n.startswith("_") and n not in {"annotations"} and
                    not isinstance(getattr(cxmetrics, n), type(cxmetrics)))
    assert cxmetrics.__all__ == sorted(cxmetrics.__all__)
    assert sorted(cxmetrics.__all__) == public
