"""Langfuse: the `scores` files of a blob-storage export → the `reviews` table.

The export writes `{project_id}/scores/{timestamp}.parquet|jsonl|json[.gz]` with snake_case columns (`trace_id`,
`string_value`, `data_type`, `source`...); the reviewer's id, `author_user_id`, comes with the export's
`score_provenance` field group. The public API's camelCase names (`traceId`, `authorUserId`, `stringValue`) are read
too. Only human annotations count (`source = ANNOTATION`): LLM-as-a-judge (`EVAL`) and SDK (`API`) scores are left
out and counted. The reviewer's verdict and failure mode are two categorical scores (by default named `verdict`
and `failure_mode`) on the interaction's trace; they become one row per (trace, reviewer). A score edited after an
export is exported again with the same id: the latest `updated_at` wins.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from rolloutkit.contracts import VERDICTS
from rolloutkit.errors import DataError
from rolloutkit.importers._results import ReviewScores
from rolloutkit.importers._write import write_table
from rolloutkit.workspace import load_workspace

ANNOTATION = "ANNOTATION"
CATEGORICAL = "CATEGORICAL"
#: A failure-mode category that means "no failure" (a categorical score config cannot leave the choice empty).
NO_FAILURE = "none"
SUFFIXES = (".parquet", ".jsonl", ".json", ".jsonl.gz", ".json.gz")
_CAMEL = {"traceId": "trace_id", "observationId": "observation_id", "authorUserId": "author_user_id",
          "stringValue": "string_value", "dataType": "data_type", "updatedAt": "updated_at"}
_COLUMNS = ("id", "timestamp", "trace_id", "name", "source", "data_type", "string_value", "author_user_id")
_FILE, _ROW, _ORDER = "__file", "__row", "__file_order"
_REVIEW_SCHEMA = {"interaction_id": pl.String, "reviewer": pl.String, "reviewed_at": pl.Datetime("us", "UTC"),
                  "verdict": pl.String, "failure_mode": pl.String}


def read_langfuse(export: str | Path, *, failure_modes: Sequence[str], verdict_score: str = "verdict",
                  failure_mode_score: str = "failure_mode") -> ReviewScores:
    """Read the reviews in a Langfuse blob-storage export; nothing is written.

    `export`: a scores file, the export's `scores/` folder, or the export root (its `scores/` files are read).
    `failure_modes`: the charter's modes, the values allowed in the failure-mode score besides "none". Raises
    `DataError` naming the file, the column, the rule and the rows for a verdict outside {agent_better, equivalent,
    agent_worse, unclear}, a failure mode the charter does not name, a non-categorical verdict score, an annotation
    without an author, or two verdicts by one reviewer on one trace.
    """
    files = score_files(Path(export))
    scores = pl.concat([_scan(f, i) for i, f in enumerate(files)], how="diagonal_relaxed")
    latest = (scores.sort(pl.col("updated_at"), _ORDER, _ROW, nulls_last=False)
              .unique("id", keep="last", maintain_order=True))
    named = pl.col("name").is_in([verdict_score, failure_mode_score])
    total, by_source, wanted = pl.collect_all([
        scores.select(pl.len()),
        latest.group_by("source", named.alias("named")).agg(pl.len()),
        latest.filter((pl.col("source") == ANNOTATION) & named).sort(_ORDER, _ROW),
    ])
    left_out = {source: n for source, n in by_source.group_by("source").agg(pl.col("len").sum())
                .sort("source").iter_rows() if source != ANNOTATION}
    left_out["other annotation scores"] = by_source.filter(
        (pl.col("source") == ANNOTATION) & ~pl.col("named"))["len"].sum()
    _refuse(wanted, pl.col("data_type") != CATEGORICAL, column="data_type",
            rule=f"must be {CATEGORICAL} for the `{verdict_score}` and `{failure_mode_score}` scores")
    _refuse(wanted, pl.col("author_user_id").is_null(), column="author_user_id",
            rule="is empty on annotation scores (the reviewer is the score's author)")
    on_trace = wanted.filter(pl.col("trace_id").is_not_null())
    left_out["not on a trace"] = wanted.height - on_trace.height
    verdicts, modes = _verdicts(on_trace, verdict_score), _modes(on_trace, failure_mode_score, failure_modes)
    reviews = verdicts.join(modes, on=["trace_id", "author_user_id"], how="left")
    left_out["failure modes without a verdict"] = modes.join(
        verdicts, on=["trace_id", "author_user_id"], how="anti").height
    table = (reviews.select(interaction_id="trace_id", reviewer="author_user_id", reviewed_at="timestamp",
                            verdict="string_value", failure_mode="failure_mode")
             .sort("reviewed_at", "interaction_id", "reviewer").cast(_REVIEW_SCHEMA))
    return ReviewScores(files=tuple(files), verdict_score=verdict_score, failure_mode_score=failure_mode_score,
                        scores=total.item(), duplicates=total.item() - by_source["len"].sum(), left_out=left_out,
                        table=table)


def import_langfuse(workspace: str | Path, export: str | Path, *, verdict_score: str = "verdict",
                    failure_mode_score: str = "failure_mode", replace: bool = False) -> ReviewScores:
    """`read_langfuse` with the workspace charter's failure modes, then write `reviews.parquet` in the workspace.

    Refuses to overwrite an existing `reviews` table (any format) unless `replace=True`. The table is validated
    against the contract and read back through `load_workspace` before this returns.
    """
    ws = load_workspace(workspace)
    result = read_langfuse(export, failure_modes=ws.charter.failure_mode_names, verdict_score=verdict_score,
                           failure_mode_score=failure_mode_score)
    path, replaced = write_table(ws.path, "reviews", result.table, replace=replace)
    return dataclasses.replace(result, path=path, replaced=replaced)


def score_files(export: Path) -> list[Path]:
    """The export's score files: the file itself, or every score file under the folder (under `scores/` when the
    folder is an export root that also holds traces, observations and manifests)."""
    if export.is_file():
        if not export.name.endswith(SUFFIXES):
            raise DataError(export.name, f"is not a score file of a Langfuse export ({', '.join(SUFFIXES)})")
        return [export]
    if not export.is_dir():
        raise DataError(str(export), "does not exist; pass a scores file, the `scores/` folder or the export root")
    found = sorted(p for p in export.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    under_scores = [p for p in found if "scores" in p.relative_to(export).parts[:-1]]
    files = under_scores or ([] if any(p.parent.name in ("traces", "observations") for p in found) else found)
    if not files:
        raise DataError(str(export), f"holds no score files ({', '.join(SUFFIXES)}); a Langfuse blob-storage export "
                        "writes them under {project_id}/scores/")
    return files


def _scan(path: Path, order: int) -> pl.LazyFrame:
    """One score file, its columns renamed to the export's snake_case, timestamps as UTC, each row numbered."""
    try:
        if path.suffix == ".parquet":
            frame = pl.scan_parquet(path)
        elif path.name.endswith(".gz"):
            text = io.BytesIO(gzip.decompress(path.read_bytes()))
            frame = (pl.read_ndjson(text) if path.name.endswith(".jsonl.gz") else pl.read_json(text)).lazy()
        elif path.suffix == ".jsonl":
            frame = pl.scan_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_json(path).lazy()
        schema = frame.collect_schema()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(path.name, f"cannot be read: {exc}") from None
    frame = frame.rename({k: v for k, v in _CAMEL.items() if k in schema and v not in schema})
    schema = frame.collect_schema()
    if "author_user_id" not in schema:
        raise DataError(path.name, "has no `author_user_id` column, so the reviewer is unknown: enable the "
                        "`score_provenance` field group of the blob-storage export (Project Settings → "
                        "Integrations → Blob Storage)")
    missing = [c for c in _COLUMNS if c not in schema]
    if missing:
        raise DataError(path.name, f"is missing the score column(s) {', '.join(missing)} of a Langfuse export "
                        f"(it has: {', '.join(schema.names())})")
    times = {c: _utc(c, schema[c]) for c in ("timestamp", "updated_at") if c in schema}
    numbered = (frame.with_row_index(_ROW, offset=1)
                .select(_ROW, *(pl.col(c).cast(pl.String) for c in _COLUMNS if c != "timestamp"), **times)
                .with_columns(pl.lit(path.name).alias(_FILE), pl.lit(order).alias(_ORDER)))
    bad = numbered.filter(pl.col("timestamp").is_null()).select(_ROW).head(5).collect()[_ROW].to_list()
    if bad:
        raise DataError(path.name, "must be a timestamp like 2026-11-02 14:05:00.000000 (UTC)", column="timestamp",
                        rows=bad)
    return numbered if "updated_at" in times else numbered.with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("updated_at"))


def _utc(column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        at = col.dt.convert_time_zone("UTC") if dtype.time_zone else col.dt.replace_time_zone("UTC")
        return at.dt.cast_time_unit("us")
    text = col.cast(pl.String).str.strip_chars().str.replace(" ", "T", literal=True)
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
    )


def _verdicts(scores: pl.DataFrame, name: str) -> pl.DataFrame:
    verdicts = scores.filter(pl.col("name") == name)
    _refuse(verdicts, ~pl.col("string_value").is_in(VERDICTS), column="string_value",
            rule=f"of the `{name}` scores has values outside {{{', '.join(VERDICTS)}}}")
    _refuse(verdicts, pl.struct("trace_id", "author_user_id").is_duplicated(), column="trace_id, author_user_id",
            rule=f"must hold one `{name}` score per (trace, reviewer); duplicated")
    return verdicts.select("trace_id", "author_user_id", "timestamp", "string_value")


def _modes(scores: pl.DataFrame, name: str, failure_modes: Sequence[str]) -> pl.DataFrame:
    modes = scores.filter(pl.col("name") == name).with_columns(
        failure_mode=pl.when(pl.col("string_value").str.to_lowercase() != NO_FAILURE).then("string_value"))
    allowed = ", ".join(failure_modes)
    _refuse(modes, pl.col("failure_mode").is_not_null() & ~pl.col("failure_mode").is_in(list(failure_modes)),
            column="string_value",
            rule=f"of the `{name}` scores has values that are not failure modes of the charter ({allowed}) "
                 f"nor {NO_FAILURE!r}")
    _refuse(modes, pl.struct("trace_id", "author_user_id").is_duplicated(), column="trace_id, author_user_id",
            rule=f"must hold one `{name}` score per (trace, reviewer); duplicated")
    return modes.select("trace_id", "author_user_id", "failure_mode")


def _refuse(scores: pl.DataFrame, offending: pl.Expr, *, column: str, rule: str) -> None:
    """Raise a DataError for the rows matching `offending`, in the first file that has any, with their rows."""
    bad = scores.filter(offending.fill_null(True))
    if bad.is_empty():
        return
    file = bad[_FILE][0]
    in_file = bad.filter(pl.col(_FILE) == file)
    shown = column.split(", ")
    examples = (in_file[shown[0]] if len(shown) == 1 else in_file.select(shown).rows())
    raise DataError(file, f"{rule} — {in_file.height} row{'s' if in_file.height != 1 else ''}", column=column,
                    rows=in_file[_ROW].to_list(), examples=list(dict.fromkeys(list(examples)[:5])),
                    total_rows=in_file.height)
