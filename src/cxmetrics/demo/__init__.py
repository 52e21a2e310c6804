"""A realistic demo support organisation: a year of tickets, events, surveys and business data.

>>> from cxmetrics.demo import DemoConfig, generate
>>> first = next(generate(DemoConfig(tickets=500)))
>>> sorted(first)
['activity', 'agents', 'annotations', 'costs', 'customers', 'events', 'funnel', 'survey_sends', 'surveys', 'tickets']
"""

from __future__ import annotations

from cxmetrics.demo._generator import DemoConfig, generate

__all__ = ["DemoConfig", "generate"]
