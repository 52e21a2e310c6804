"""cxmetrics: customer-service KPIs from the data a support organisation already has.

>>> import cxmetrics
>>> sorted(cxmetrics.KINDS)[:3]
['activity', 'agents', 'annotations']
"""

from __future__ import annotations

from cxmetrics._workspace import Workspace, open
from cxmetrics.errors import (
    AnswerTooLargeError,
    CxError,
    ImportFileError,
    InternalError,
    MappingError,
    SettingsError,
    StoreError,
    UnknownNameError,
    UserError,
)
from cxmetrics.ingest import KINDS, ImportSummary, Mapping
from cxmetrics.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AnswerTooLargeError",
    "CxError",
    "ImportFileError",
    "ImportSummary",
    "InternalError",
    "KINDS",
    "Mapping",
    "MappingError",
    "Settings",
    "SettingsError",
    "StoreError",
    "UnknownNameError",
    "UserError",
    "Workspace",
    "open",
]
