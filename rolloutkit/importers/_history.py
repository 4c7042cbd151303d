"""Shared by the flag importers: reading the platforms' JSON, and turning their states into `flags` rows.

Each platform module reads its entries (`Entry`), decides which concern the flag and the environment, and hands
back the agent's share after every one of them (`Parsed`). Here the shares become the `flags` table: a row where the
share changed (the first entry always gives one: the share the history starts from), `zero_at` on a change to 0.
A flag's history is a few dozen entries, so plain Python over the entries is the right tool; the rows become a
polars frame once, at the end.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rolloutkit.errors import DataError, RolloutkitError

FLAGS_SCHEMA = {"ts": pl.Datetime("us", "UTC"), "traffic_share": pl.Float64, "actor": pl.String,
                "reason": pl.String, "zero_at": pl.Datetime("us", "UTC")}
OTHER_FLAGS = "for other flags"
OTHER_ENVIRONMENTS = "for other environments"
DUPLICATES = "duplicates"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One entry of a change history, as a platform module reads it."""

    file: str
    position: int  # 1-based within its file, for messages
    key: str  # the platform's id of the entry: the same entry in two files counts once
    ts: dt.datetime
    order: int  # ties on `ts` go by the platform's version or id
    flag: str | None
    environment: str | None  # None: the entry concerns every environment (or none in particular)
    actor: str | None
    reason: str
    raw: dict[str, Any] = field(repr=False)

    def error(self, rule: str, *, column: str | None = None) -> DataError:
        """A DataError about this entry: the file, the rule and the entry's position in its file."""
        return DataError(self.file, f"entry {self.position}: {rule}", column=column)


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """What a platform module hands back: the flag's entries in time order with the agent's share after each."""

    environment: str
    entries: int
    ignored: dict[str, int]
    shares: list[tuple[Entry, float]]


def load_json(files: Sequence[str | Path]) -> list[tuple[str, Any]]:
    """Every JSON value in the files: a whole `.json` file, or one value per line of `.jsonl` / `.ndjson`."""
    if not files:
        raise RolloutkitError("no files given; pass the JSON the platform's API returned")
    documents = []
    for path in map(Path, files):
        if not path.is_file():
            raise DataError(str(path), "does not exist (or is not a file)")
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines() if path.suffix in (".jsonl", ".ndjson") else [text]
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                documents.append((path.name, json.loads(line)))
            except json.JSONDecodeError as exc:
                where = f"line {number if len(lines) > 1 else exc.lineno}"
                raise DataError(path.name, f"is not JSON ({exc.msg} at {where})") from None
    return documents


def items(file: str, value: Any, *, wrappers: tuple[str, ...], single: tuple[str, ...]) -> list[dict[str, Any]]:
    """The entries of one JSON value: a list, an API response wrapping them (`wrappers`: its list keys), or a single
    entry (recognised by holding every key of `single`)."""
    if isinstance(value, list):
        found = value
    elif isinstance(value, dict) and (key := next((k for k in wrappers if k in value), None)):
        found = value[key] if isinstance(value[key], list) else [value[key]]
    elif isinstance(value, dict) and all(k in value for k in single):
        found = [value]
    else:
        keys = ", ".join(list(value)[:8]) if isinstance(value, dict) else type(value).__name__
        raise DataError(file, f"does not look like this platform's change history (it holds: {keys}); expected a "
                        f"list of entries, an object with {' or '.join(f'`{k}`' for k in wrappers)}, or one entry")
    bad = [i for i, item in enumerate(found, start=1) if not isinstance(item, dict)]
    if bad:
        raise DataError(file, "has entries that are not JSON objects", rows=bad)
    return found


def epoch_ms(value: Any, entry_file: str, position: int, field_name: str) -> dt.datetime:
    """A timestamp in milliseconds since 1970 (LaunchDarkly's `date`) as a UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(entry_file, f"entry {position}: `{field_name}` must be milliseconds since 1970, got {value!r}")
    return _EPOCH + dt.timedelta(milliseconds=value)


def iso_time(value: Any, entry_file: str, position: int, field_name: str) -> dt.datetime:
    """An ISO 8601 timestamp (Unleash's `createdAt`, GrowthBook's `date`) as a UTC datetime; naive text is UTC."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise DataError(entry_file, f"entry {position}: `{field_name}` is not an ISO 8601 timestamp: "
                        f"{value!r}") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def whole(value: Any) -> int:
    """A platform's version or id as a tie-breaker for entries at the same time; 0 when it is not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def deduplicate(entries: Sequence[Entry]) -> tuple[list[Entry], int]:
    """The entries in time order, each platform id once (overlapping exports); and how many repeats were dropped."""
    unique: dict[str, Entry] = {}
    for entry in entries:
        unique.setdefault(entry.key, entry)
    ordered = sorted(unique.values(), key=lambda e: (e.ts, e.order))
    return ordered, len(entries) - len(ordered)


def require_flag(entries: Sequence[Entry], flag: str) -> list[Entry]:
    """The entries of `flag`; refused when there are none, naming the flags the files do hold."""
    mine = [e for e in entries if e.flag == flag]
    if not mine:
        named = sorted({e.flag for e in entries if e.flag})
        held = f"they name {', '.join(f'`{f}`' for f in named[:10])}" if named else "they name no flag"
        raise RolloutkitError(f"no entry in these files concerns flag `{flag}` ({held}); check --flag")
    return mine


def choose_environment(found: Iterable[str], environment: str | None, *, flag: str, where: str) -> str:
    """The environment to read: the one asked for, or the only one the flag's entries name."""
    if environment is not None:
        return environment
    names = sorted(set(found))
    if len(names) == 1:
        return names[0]
    if not names:
        raise RolloutkitError(f"the entries of flag `{flag}` name no environment; choose one with --environment")
    raise RolloutkitError(f"the entries of flag `{flag}` cover {len(names)} environments ({', '.join(names)}) "
                          f"in {where}; choose one with --environment")


def flags_frame(shares: Sequence[tuple[Entry, float]]) -> tuple[pl.DataFrame, int]:
    """The `flags` rows: the first share, then every change of it; and how many entries left it unchanged.

    A change from a positive share to 0 gets `zero_at`: the change history records the moment the platform applied
    the change, which is both the command and the moment it served 0% (see docs/importers.md).
    """
    rows: list[dict[str, Any]] = []
    previous: float | None = None
    for entry, share in shares:
        if previous is not None and abs(share - previous) < 1e-9:
            continue
        if entry.actor is None:
            raise entry.error("names no actor (who made the change); the `flags` table needs one")
        zero_at = entry.ts if previous is not None and previous > 0 and share == 0 else None
        rows.append({"ts": entry.ts, "traffic_share": share, "actor": entry.actor, "reason": entry.reason,
                     "zero_at": zero_at})
        previous = share
    return pl.DataFrame(rows, schema=FLAGS_SCHEMA, orient="row"), len(shares) - len(rows)


def proportion(value: Any, entry: Entry, field_name: str, *, scale: float) -> float:
    """A platform's share field as a proportion of 1: `value / scale`, refused outside [0, 1]."""
    try:
        share = float(value) / scale
    except (TypeError, ValueError):
        raise entry.error(f"`{field_name}` must be a number, got {value!r}") from None
    if not 0 <= share <= 1:
        raise entry.error(f"`{field_name}` must be between 0 and {scale:g}, got {value!r}")
    return share
