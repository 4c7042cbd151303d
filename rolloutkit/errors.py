"""One error family, so callers (the CLI, the report run) can tell bad input from bugs."""

from __future__ import annotations

from collections.abc import Sequence


class RolloutkitError(Exception):
    """Base of every error rolloutkit raises on purpose."""


class CharterError(RolloutkitError):
    """The charter is missing, unreadable or breaks a rule; the message names the field path."""


class DataError(RolloutkitError):
    """A table breaks its contract; names the file, the column, the rule and a few offending rows."""

    def __init__(
        self,
        file: str,
        rule: str,
        *,
        column: str | None = None,
        rows: Sequence[int] = (),
        examples: Sequence[object] = (),
        total_rows: int | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.rule = rule
        self.rows = list(rows)
        self.examples = list(examples)
        self.total_rows = max(total_rows or 0, len(self.rows))
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.file}: column `{self.column}`" if self.column else self.file
        text = f"{where} {self.rule}"
        if self.examples:
            text += ": " + ", ".join(repr(v) for v in self.examples)
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            hidden = self.total_rows - min(len(self.rows), 5)
            more = f" and {hidden} more" if hidden else ""
            text += f" (rows {shown}{more})"
        return text


class MissingTableError(RolloutkitError):
    """The workspace has no file for a table; pages show the table as missing instead of failing."""

    def __init__(self, message: str, *, table: str) -> None:
        super().__init__(message)
        self.table = table
