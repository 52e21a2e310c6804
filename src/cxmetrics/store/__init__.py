"""The store: the DuckDB file of a workspace and its versioned schema."""

from __future__ import annotations
