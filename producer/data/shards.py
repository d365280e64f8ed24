"""The Parquet shard format of training rows: how `producer.training.batch.example_to_row`
rows are stored by the Ray Data preprocessing (`ray_jobs/preprocess.py`) and read back by the
trainers (`ray_jobs/train.py`, `producer train --data` on a preprocess folder).

A shard is one Parquet file under `<output_dir>/shards/`: each row's numpy arrays flattened
with their shapes beside them, its ints, floats and strings as they are, and the song's keys
(`key`, `final_key`) that make the preprocessing resumable. Shards written before a column
existed still load: that key is absent from their rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from producer.errors import ProducerError

__all__ = ["ROW_KEYS", "SHARDS", "decode_table", "encode_rows", "load_shards", "shard_files"]

#: The folder of a preprocess output that holds the shards.
SHARDS = "shards"

# The columns of `producer.training.batch.example_to_row`, by how they are stored.
_ARRAYS = (  # float32 numpy arrays: flattened list<float32> + `<name>_shape` list<int32>
    "audio_feat",
    "plan_roles",
    "stem_feat",
    "stem_mask",
    "quality_feat",
    "quality_score",
    "quality_stems",
    "quality_ref",
)
_INTS = ("plan_style", "plan_mode", "plan_key")
_FLOATS = ("plan_bpm", "has_ref")
_STRINGS = ("path", "prompt", "faust_script")
_STRING_LISTS = ("roles",)
ROW_KEYS = (*_ARRAYS, *_INTS, *_FLOATS, *_STRINGS, *_STRING_LISTS)


def _shard_schema() -> pa.Schema:
    fields = [pa.field("key", pa.string()), pa.field("final_key", pa.string())]
    for name in _ARRAYS:
        fields += [
            pa.field(name, pa.list_(pa.float32())),
            pa.field(f"{name}_shape", pa.list_(pa.int32())),
        ]
    fields += [pa.field(n, pa.int64()) for n in _INTS]
    fields += [pa.field(n, pa.float64()) for n in _FLOATS]
    fields += [pa.field(n, pa.string()) for n in _STRINGS]
    fields += [pa.field(n, pa.list_(pa.string())) for n in _STRING_LISTS]
    return pa.schema(fields)


def shard_files(output_dir: str | os.PathLike) -> list[Path]:
    """The Parquet shards of a preprocess output folder, in order."""
    return sorted((Path(output_dir) / SHARDS).glob("part-*.parquet"))


def encode_rows(rows: list[dict[str, Any]], keys: list[str], final_keys: list[str]) -> pa.Table:
    """`example_to_row` rows (+ their keys) as a shard table."""
    cols: dict[str, list] = {"key": keys, "final_key": final_keys}
    for name in _ARRAYS:
        arrays = [np.asarray(r[name]) for r in rows]
        for r, a in zip(rows, arrays, strict=True):
            if a.dtype != np.float32:
                raise ProducerError(f"{r['path']}: row field {name} is {a.dtype}, expected float32")
        cols[name] = [a.reshape(-1) for a in arrays]
        cols[f"{name}_shape"] = [list(a.shape) for a in arrays]
    for name in (*_INTS, *_FLOATS, *_STRINGS, *_STRING_LISTS):
        cols[name] = [r[name] for r in rows]
    extra = set(rows[0]) - set(ROW_KEYS) if rows else set()
    if extra:  # example_to_row grew a field: the shard format must learn it first
        raise ProducerError(f"row fields {sorted(extra)} have no Parquet column")
    return pa.Table.from_pydict(cols, schema=_shard_schema())


def decode_table(table: pa.Table) -> list[dict[str, Any]]:
    """Shard rows back as `example_to_row` dicts (same keys, float32 arrays, same shapes)."""
    cols = table.to_pydict()
    rows = []
    for k in range(table.num_rows):
        row: dict[str, Any] = {}
        for name in _ARRAYS:
            if name not in cols:
                continue  # a shard from before this column existed (collate reads it as unset)
            shape = tuple(cols[f"{name}_shape"][k])
            row[name] = np.asarray(cols[name][k], dtype=np.float32).reshape(shape)
        for name in _INTS:
            row[name] = int(cols[name][k])
        for name in _FLOATS:
            row[name] = float(cols[name][k])
        for name in _STRINGS:
            row[name] = cols[name][k]
        for name in _STRING_LISTS:
            row[name] = list(cols[name][k])
        rows.append({n: row[n] for n in ROW_KEYS if n in row})
    return rows


def load_shards(output_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every row of a preprocess output folder, as the trainer consumes them (sorted by path)."""
    rows = [
        r for shard in shard_files(Path(output_dir)) for r in decode_table(pq.read_table(shard))
    ]
    return sorted(rows, key=lambda r: r["path"])
