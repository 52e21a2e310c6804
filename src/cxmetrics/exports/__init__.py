"""Exports: query answers and drill-down rows written as CSV, Parquet or Excel .xlsx.

The writers (`write`, and one per format) take an Arrow table or a stream of record
batches; `metrics` and `tickets` run the library's queries and write their answers.
The CLI (`cxmetrics export ...`) and the dashboard's download links are clients of these.
"""

from __future__ import annotations

from cxmetrics.exports._queries import export_metrics, export_tickets
from cxmetrics.exports._writers import (
    EXCEL_MAX_ROWS,
    FORMATS,
    MEDIA_TYPES,
    Format,
    check_excel_rows,
    parse_format,
    write,
    write_csv,
    write_parquet,
    write_xlsx,
)

__all__ = [
    "EXCEL_MAX_ROWS",
    "FORMATS",
    "MEDIA_TYPES",
    "Format",
    "check_excel_rows",
    "export_metrics",
    "export_tickets",
    "parse_format",
    "write",
    "write_csv",
    "write_parquet",
    "write_xlsx",
]
