"""Benchmark studies and reviews (docs/studies.md): the Support Performance Index of a study's
companies (and of the organisation itself), review-response metrics, and the study report."""

from __future__ import annotations

__all__: list[str] = []
