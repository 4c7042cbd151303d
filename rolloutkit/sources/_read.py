"""Finding a workspace's tables through `sources.yaml` and reading them with the fix in every error."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rolloutkit.charter import load_yaml
from rolloutkit.contracts import CONTRACTS, TABLE_NAMES, TableContract
from rolloutkit.errors import DataError, SourcesError
from rolloutkit.sources._files import check_headers, diagnose
from rolloutkit.sources._fixes import DELIMITERS, fix
from rolloutkit.sources._parse import SOURCES_FILE, Parser, shown
from rolloutkit.tables import Source, find_table, read_table

__all__ = ["SOURCES_FILE", "describe", "load_sources", "read"]


def load_sources(directory: str | Path, *, failure_modes: tuple[str, ...] | None = None) -> dict[str, Source]:
    """Every table present in a workspace, by name: as `sources.yaml` describes it, else the file found by its name.

    `failure_modes` (the charter's) are the targets a `failure_mode` value map may use. Raises `SourcesError`
    listing every problem of `sources.yaml` at once.
    """
    directory = Path(directory)
    path = directory / SOURCES_FILE
    declared = Parser(directory, failure_modes).sources(load_yaml(path, SourcesError)) if path.is_file() else {}
    found = {}
    for name in TABLE_NAMES:
        if name in declared:
            found[name] = declared[name]
        elif (table := find_table(directory, name)) is not None:
            found[name] = Source.at(table, name, root=directory)
    return found


def read(source: Source, contract: TableContract | str, *, failure_modes: tuple[str, ...] | None = None,
         timezone: str = "UTC") -> pl.LazyFrame:
    """`tables.read_table` through a source, its errors carrying the fix (what to write in sources.yaml)."""
    contract = CONTRACTS[contract] if isinstance(contract, str) else contract
    if source.format == "csv":
        check_headers(source)
    try:
        return read_table(source, contract, failure_modes=failure_modes, timezone=timezone)
    except DataError as exc:
        if exc.check == "unreadable":
            raise next(filter(None, (diagnose(source, f) for f in source.files)), exc) from None
        raise exc.with_fix(fix(exc, source, contract)) from None


def describe(source: Source) -> list[str]:
    """The mapping a source applies, a line per part, for `rolloutkit check`; empty when read as it is."""
    if not source.declared:
        return []
    files = ", ".join(source.name(f) for f in source.files[:3]) + (", ..." if len(source.files) > 3 else "")
    lines = [f"read as {SOURCES_FILE} says" + (f": {len(source.files)} files ({files})" if len(source.files) > 1
                                              else "")]
    if source.delimiter != ",":
        lines.append(f"delimiter {DELIMITERS.get(source.delimiter, repr(source.delimiter))}")
    if source.columns:
        lines.append("columns: " + ", ".join(f"{c} ← {theirs}" for c, theirs in source.columns.items()))
    for column, mapping in source.values.items():
        pairs = ", ".join(f"{shown(k)} → {shown(v)}" for k, v in mapping.items())
        lines.append(f"values of {column}: {pairs}")
    if source.timestamp_format or source.timezone:
        written = f"written as {source.timestamp_format}" if source.timestamp_format else "ISO 8601"
        lines.append(f"timestamps {written}, those without an offset in {source.timezone or 'UTC'}")
    lines += [f"{column} in percent (5 = 5%)" for column in source.percent]
    return lines

