"""Imports: files (CSV, JSON Lines, Parquet) and tables into the canonical tables."""

from __future__ import annotations

from cxmetrics.ingest._kinds import KINDS, ImportKind, kind
from cxmetrics.ingest._mapping import Mapping
from cxmetrics.ingest._pipeline import DEFAULT_SOURCE, ImportSummary

__all__ = ["DEFAULT_SOURCE", "KINDS", "ImportKind", "ImportSummary", "Mapping", "kind"]
