"""Turning NumPy columns into Arrow tables that match the canonical schemas exactly.

The column list and types come from `cxmetrics.model.TABLES`, so a table built here cannot drift
from what the store expects. Internally the generator works with integer codes (-1 = null) and
int64 microseconds (NEVER = null); the helpers below turn those into Arrow without a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.model import TABLES, ColType

NULL_TIME = np.iinfo(np.int64).max  # the same sentinel as _calendar.NEVER

ARROW_TYPES: dict[ColType, pa.DataType] = {
    ColType.TEXT: pa.string(),
    ColType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    ColType.INTEGER: pa.int64(),
    ColType.NUMBER: pa.float64(),
    ColType.BOOLEAN: pa.bool_(),
    ColType.TAGS: pa.list_(pa.string()),
    ColType.PERIOD: pa.string(),
}

SOURCE = "demo"


def schema(name: str) -> pa.Schema:
    """The Arrow schema of a canonical table."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in TABLES[name].columns])


def build(name: str, n: int, columns: Mapping[str, pa.Array | str | None]) -> pa.Table:
    """A canonical table of `n` rows; missing columns are null, a str is repeated, `source` is demo."""
    sch = schema(name)
    unknown = set(columns) - set(sch.names)
    if unknown:
        raise KeyError(f"{name} has no columns {sorted(unknown)}")
    arrays = []
    for field in sch:
        value = columns.get(field.name, SOURCE if field.name == "source" else None)
        if value is None:
            arrays.append(pa.nulls(n, field.type))
        elif isinstance(value, str):
            arrays.append(pa.repeat(pa.scalar(value, field.type), n))
        else:
            if isinstance(value, pa.ChunkedArray):
                value = value.combine_chunks()
            arrays.append(value if value.type == field.type else value.cast(field.type))
        if len(arrays[-1]) != n:
            raise ValueError(f"{name}.{field.name} has {len(arrays[-1])} rows, expected {n}")
    return pa.Table.from_arrays(arrays, schema=sch)


def codes(vocab: pa.Array, index: np.ndarray) -> pa.Array:
    """Strings from a vocabulary by index; a negative index is null."""
    index = np.asarray(index)
    mask = index < 0
    return pc.take(vocab, pa.array(np.where(mask, 0, index), mask=mask if mask.any() else None))


def timestamps(us: np.ndarray) -> pa.Array:
    """UTC microseconds to an Arrow timestamp column; NULL_TIME is null."""
    us = np.asarray(us, dtype=np.int64)
    mask = us == NULL_TIME
    return pa.array(us, type=ARROW_TYPES[ColType.TIMESTAMP], mask=mask if mask.any() else None)


def numbers(values: np.ndarray) -> pa.Array:
    """Floats to an Arrow float64 column; NaN is null."""
    values = np.asarray(values, dtype=np.float64)
    mask = np.isnan(values)
    return pa.array(values, type=pa.float64(), mask=mask if mask.any() else None)


def flags(values: np.ndarray) -> pa.Array:
    """-1/0/1 codes to an Arrow boolean column with nulls."""
    values = np.asarray(values)
    mask = values < 0
    return pa.array(values > 0, type=pa.bool_(), mask=mask if mask.any() else None)


def ids(prefix: str, numbers_: np.ndarray, width: int) -> pa.Array:
    """Zero-padded ids such as T0000001, built in Arrow rather than per row in Python."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers_, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise string concatenation of arrays and constants."""
    return pc.binary_join_element_wise(*parts, sep)


def tag_lists(vocab: pa.Array, present: np.ndarray) -> pa.Array:
    """List<string> rows from a (rows x vocabulary) boolean matrix, in vocabulary order."""
    _, cols = np.nonzero(present)  # row-major, so each row's tags come out together
    offsets = np.zeros(present.shape[0] + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pc.take(vocab, pa.array(cols)))
