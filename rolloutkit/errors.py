"""One error family, so callers (the CLI, the report run) can tell bad input from bugs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

#: Characters of a value shown in a message; longer values are cut (a 10,000-character cell stays readable).
SHOWN = 60
#: How many distinct values and rows a message shows.
_VALUES, _ROWS = 12, 5


def cut(value: object, limit: int = SHOWN) -> str:
    """`repr(value)` for a message, a long one cut with its length: 'aaaa…' (10,000 characters)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        head = repr(value[:limit])[:limit - 1]
        return f"{head}…{head[0]} ({len(value):,} characters)"
    return f"{text[:limit - 1]}…"


def short(text: object, limit: int = SHOWN) -> str:
    """`str(text)` for a message, a long one cut: a name in backticks, a list of columns."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


class RolloutkitError(Exception):
    """Base of every error rolloutkit raises on purpose."""


class CharterError(RolloutkitError):
    """The charter is missing, unreadable or breaks rules; the message names every field path at fault."""


class SourcesError(RolloutkitError):
    """`sources.yaml` is unreadable or breaks rules; the message names every key path at fault."""


class DataError(RolloutkitError):
    """A table breaks its contract; names the file, the column, the rule, the offending values and rows, the fix.

    `rows` are the numbers a reader finds the rows by: file lines for CSV (the header is line 1) and NDJSON,
    1-based rows for Parquet (`unit` says which); `files` names each row's file when a table spans several.
    `values` are the distinct offending values with their counts, most frequent first. `check` names the rule
    (e.g. "allowed", "missing"), `field` the contract column and `details` what a fix needs; `fix` says what to do.
    """

    def __init__(
        self,
        file: str,
        rule: str,
        *,
        column: str | None = None,
        rows: Sequence[int] = (),
        examples: Sequence[object] = (),
        total_rows: int | None = None,
        values: Sequence[tuple[object, int]] = (),
        distinct: int | None = None,
        unit: Literal["row", "line"] = "row",
        files: Sequence[str] = (),
        mapping: str | None = None,
        check: str = "",
        field: str | None = None,
        details: Mapping[str, object] | None = None,
        also: Sequence[str] = (),
        fix: str | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.rule = rule
        self.rows = list(rows)
        self.values = list(values) or [(v, 1) for v in examples]
        self.examples = [v for v, _ in self.values]
        self.distinct = max(distinct or 0, len(self.values))
        self.total_rows = max(total_rows or 0, len(self.rows))
        self.unit = unit
        self.files = list(files)
        self.mapping = mapping
        self.check = check
        self.field = field
        self.details = dict(details or {})
        self.also = list(also)
        self.fix = fix
        super().__init__(self._message())

    def with_fix(self, fix: str | None) -> DataError:
        """The same error with `fix` added (None leaves it as it is)."""
        if not fix:
            return self
        return DataError(self.file, self.rule, column=self.column, rows=self.rows, total_rows=self.total_rows,
                         values=self.values, distinct=self.distinct, unit=self.unit, files=self.files,
                         mapping=self.mapping, check=self.check, field=self.field, details=self.details,
                         also=self.also, fix=fix)

    def _message(self) -> str:
        where = f"{self.file}: column `{self.column}`" if self.column else self.file
        if self.mapping:
            where += f" ({self.mapping})"
        text = f"{where} {self.rule}"
        if self.values:
            # all of a few distinct values; the most frequent of many (timestamps, ids)
            many = self.distinct > 2 * _VALUES
            shown = [cut(v) + (f" ×{n:,}" if n > 1 else "") for v, n in self.values[:_ROWS if many else _VALUES]]
            hidden = self.distinct - len(shown)
            text += ": " + ", ".join(shown) + (f" and {hidden:,} other value{'s' if hidden != 1 else ''}"
                                               if hidden > 0 else "")
        if self.rows:
            text += f" ({self._where_rows()})"
        lines = [text]
        if self.also:
            lines.append("  also: " + "; ".join(self.also))
        if self.fix:
            lines.append("  fix: " + self.fix.replace("\n", "\n    "))
        return "\n".join(lines)

    def _where_rows(self) -> str:
        shown = list(zip(self.files or [""] * len(self.rows), self.rows, strict=True))[:_ROWS]
        hidden = self.total_rows - len(shown)
        more = f" and {hidden:,} more" if hidden else ""
        groups: dict[str, list[int]] = {}
        for file, row in shown:
            groups.setdefault(file, []).append(row)
        parts = []
        for file, rows in groups.items():
            numbers = f"{self.unit}{'s' if len(rows) > 1 else ''} {', '.join(str(r) for r in rows)}"
            parts.append(f"{file} {numbers}" if file else numbers)
        return "; ".join(parts) + more


class MissingTableError(RolloutkitError):
    """The workspace has no file for a table; pages show the table as missing instead of failing."""

    def __init__(self, message: str, *, table: str) -> None:
        super().__init__(message)
        self.table = table
