"""CSV cells a spreadsheet will not run as formulas (CSV injection, CWE-1236).

Text from tickets (subjects, names, tags) ends up in the CSVs we write; a cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `@SUM(...)`, DDE). As OWASP recommends,
such a text cell gets a leading `'`, which spreadsheets read as "this is text" and do not
show. Only text cells are touched: numbers (a negative duration) stay numbers.

>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1"), neutralise("Refund"), neutralise("")
('\\'=HYPERLINK("http://x")', "'-1", 'Refund', '')
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: First characters that make a spreadsheet cell a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralise_array(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`neutralise` over a column of text (other types are returned as they are)."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.match_substring_regex(column, _FORMULA_START)
    quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, pa.scalar("", column.type))
    return pc.if_else(risky, quoted, column)


def neutralise_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every text column of `batch` neutralised."""
    return pa.RecordBatch.from_arrays([neutralise_array(c) for c in batch.columns], names=batch.schema.names)
