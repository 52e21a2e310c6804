"""YAML reading: libyaml's parser when PyYAML has it (ten times faster: the metric registry
and the benchmark files are read on every process's first request), PyYAML's own otherwise.

A text that fails to parse is read again by PyYAML's own parser, whose message shows the
line with a caret under the place, for the error the user sees."""

from __future__ import annotations

from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, faster; raises yaml.YAMLError as it does."""
    try:
        return yaml.load(text, Loader=_FAST)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # the same error, with the line shown
