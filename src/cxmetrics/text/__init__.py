"""Text analytics (issue 13): what customers write about, how they feel, and how agents
answer, offline and on the CPU (docs/text.md)."""

from __future__ import annotations
