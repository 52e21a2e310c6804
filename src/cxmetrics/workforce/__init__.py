"""Workforce planning (issue 14, docs/workforce.md): how many agents an interval needs.

This first part is the Erlang C calculator (`staff`); forecasting contacts, Erlang A with
customer patience, shift actuals and occupancy, and a plan per interval come next."""

from __future__ import annotations

from cxmetrics.workforce.erlang import Staffing, asa, erlang_b, erlang_c, service_level, staff, traffic

__all__ = ["Staffing", "asa", "erlang_b", "erlang_c", "service_level", "staff", "traffic"]
