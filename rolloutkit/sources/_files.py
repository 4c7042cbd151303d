"""Looking at a file polars cannot read (or would read quietly wrong) to say what is wrong with it, and where."""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

from rolloutkit.errors import DataError, short
from rolloutkit.tables import Source


def check_headers(source: Source) -> None:
    """CSV headers, read directly: not UTF-8, or a name given twice (polars would rename it quietly)."""
    for file in source.files:
        try:
            with open(file, "rb") as handle:
                first = handle.readline(1 << 20)
        except OSError as exc:
            raise DataError(source.name(file), f"cannot be read: {exc.strerror}", check="unreadable") from None
        try:
            header = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise not_utf8(source, file, 1, first[exc.start]) from None
        names = next(csv.reader([header], delimiter=source.delimiter), [])
        seen: dict[str, int] = {}
        for i, name in enumerate(names, start=1):
            if name in seen:
                raise DataError(source.name(file), f"names column `{short(name, 40)}` twice in its header "
                                f"(columns {seen[name]} and {i}); rename or drop one", check="duplicate_columns",
                                rows=[1], unit="line")
            seen[name] = i


def not_utf8(source: Source, file: Path, line: int, byte: int) -> DataError:
    return DataError(source.name(file), f"is not UTF-8 text: byte 0x{byte:02x}; save it as UTF-8 (e.g. "
                     "`iconv -f latin1 -t utf-8`)", rows=[line], unit="line", check="encoding")


def diagnose(source: Source, file: Path) -> DataError | None:
    """What is wrong with a file polars cannot read, found by looking at it; None when nothing is found."""
    name = source.name(file)
    try:
        size = file.stat().st_size
        if size == 0:
            return DataError(name, "is empty (0 bytes); leave the table out until it has data, or export it again",
                             check="empty_file")
        if source.format == "parquet":
            with open(file, "rb") as handle:
                head = handle.read(64)
                handle.seek(max(size - 4, 0))
                tail = handle.read(4)
            if head[:4] != b"PAR1" or tail != b"PAR1":
                text = head.decode("utf-8", "replace")
                shown = repr(short(text.splitlines()[0] if text.strip() else text, 40))
                return DataError(name, f"is not a Parquet file (it starts with {shown}); write it as Parquet, or "
                                 "name it by its format", check="not_parquet")
            return None
        return diagnose_text(source, file, name)
    except OSError as exc:
        return DataError(name, f"cannot be read: {exc.strerror}", check="unreadable")


def diagnose_text(source: Source, file: Path, name: str) -> DataError | None:
    """The first line of a CSV or NDJSON file that is not UTF-8, has more fields than its header, or is not JSON."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    with open(file, "rb") as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return not_utf8(source, file, lines + chunk[:exc.start].count(b"\n") + 1, chunk[exc.start])
            lines += chunk.count(b"\n")
    with open(file, encoding="utf-8-sig", newline="") as handle:
        if source.format == "csv":
            reader = csv.reader(handle, delimiter=source.delimiter)
            width = len(next(reader, []))
            for row in reader:
                if len(row) > width:
                    return DataError(name, f"has a line with {len(row)} fields where the header has {width} (a "
                                     f"`{source.delimiter}` inside a value needs quotes)", rows=[reader.line_num],
                                     unit="line", check="ragged")
            return None
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                return DataError(name, f"is not JSON on this line ({exc.msg}); NDJSON is one JSON object a line",
                                 rows=[number], unit="line", check="not_json")
            if not isinstance(record, dict):
                return DataError(name, f"has a line that is not a JSON object (a {type(record).__name__})",
                                 rows=[number], unit="line", check="not_json")
    return None

