"""Metrics: declarations (YAML), the registry, the compiler and the statistics."""

from __future__ import annotations
