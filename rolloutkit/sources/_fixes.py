"""What to write in `sources.yaml` to fix a table that breaks its contract: offered, never applied."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

import polars as pl

from rolloutkit.contracts import Column, TableContract
from rolloutkit.errors import DataError
from rolloutkit.tables import FALSE_TEXT, TRUE_TEXT, Source, cell_text, scan

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def fix(exc: DataError, source: Source, contract: TableContract) -> str | None:
    column = contract.column(exc.field) if exc.field and "," not in exc.field else None
    values = [v for v, _ in exc.values]
    if exc.check == "missing":
        return _missing_fix(exc, source, contract)
    if exc.check in ("unique", "key"):
        return "each must appear once: drop the repeated rows from the export (a day exported twice?)"
    if column is None:
        return None
    if exc.check in ("allowed", "failure_mode"):
        fix = _value_map_fix(source, column, values, column.allowed or ())
        if fix and exc.check == "failure_mode":
            fix += "\n(or, if they are failure modes of their own, add them to the charter's failure_modes)"
        return fix
    if exc.check == "parse" and column.kind == "bool":
        return _value_map_fix(source, column, values, ())
    if exc.check == "parse" and column.kind == "datetime":
        return _timestamp_fix(source, column, values)
    if exc.check in ("parse", "range") and column.share and column.name not in source.percent:
        numbers = [_number(v) for v in values]
        if numbers and all(n is not None and 1 < n <= 100 for n in numbers):
            return (f"is `{source.column_of(column.name)}` a percent (5 meaning 5%)? Then say so in sources.yaml "
                    f"beside charter.yaml:\n{_snippet(source.table, {column.name: 'percent'})}")
    if exc.check == "mixed_zones":
        return ("give every timestamp its offset (or write them all in UTC); if those without one are local times, "
                "export them all without an offset and name their zone in sources.yaml:\n"
                + _snippet(source.table, {"timestamps": {"timezone": "<their zone, e.g. America/Chicago>"}}))
    if exc.check == "local_time":
        return "export these times with their UTC offset (a format with %z) or in UTC, so each names one instant"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip().rstrip("%"))
    except ValueError:
        return None


def _snippet(table: str, body: dict[str, Any]) -> str:
    """YAML lines for sources.yaml, under the table's key."""
    lines = [f"  {table}:"]
    for key, value in body.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.append(f"    {key}:")
            lines += [f"      {_scalar(k)}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"    {key}: {_flow(value) if isinstance(value, dict) else _scalar(value)}")
    return "\n".join(lines)


def _flow(mapping: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in mapping.items()) + "}"


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith("<") and text.endswith(">"):
        return text
    return text if _PLAIN.match(text) and text.lower() not in _RESERVED else json.dumps(text)


_SYNONYMS = {
    "interaction_id": ("id", "interaction", "conversation", "ticket", "request", "trace", "case", "uuid"),
    "ts": ("time", "timestamp", "created", "date", "datetime", "at", "when", "event", "logged"),
    "reviewed_at": ("time", "timestamp", "reviewed", "date", "at", "created", "submitted"),
    "run_at": ("time", "timestamp", "run", "date", "at", "started", "executed"),
    "opened_at": ("time", "timestamp", "opened", "created", "date", "at", "reported"),
    "arm": ("variant", "group", "bucket", "cohort", "treatment", "assignment", "route", "handler", "handled"),
    "success": ("resolved", "success", "succeeded", "outcome", "ok", "passed", "result", "correct", "accurate"),
    "passed": ("pass", "passed", "success", "ok", "result", "correct", "outcome"),
    "failure_mode": ("failure", "error", "issue", "defect", "problem", "mode"),
    "traffic_share": ("rollout", "percent", "percentage", "share", "weight", "coverage", "traffic", "exposure"),
    "actor": ("user", "author", "changed", "by", "who", "member", "editor"),
    "reason": ("comment", "message", "note", "why", "description", "reason"),
    "reviewer": ("reviewer", "annotator", "author", "rater", "user", "by"),
    "verdict": ("verdict", "label", "rating", "judgement", "judgment", "score", "value"),
    "severity": ("severity", "sev", "priority", "level"),
    "segment": ("segment", "category", "queue", "type", "tier", "channel"),
}
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[0-9]+|[A-Z]+(?![a-z])")


def _tokens(name: str) -> set[str]:
    return {t.lower() for t in _TOKEN.findall(name)}


def _missing_fix(exc: DataError, source: Source, contract: TableContract) -> str | None:
    present = [str(n) for n in exc.details.get("present", [])]
    missing = [str(n) for n in exc.details.get("missing", [])]
    if len(present) == 1 and (delimiter := _delimiter_in(present[0], source.delimiter)):
        return (f"the header reads as one column: the file looks {DELIMITERS[delimiter]}-separated; say so in "
                f"sources.yaml beside charter.yaml:\n{_snippet(source.table, {'delimiter': delimiter})}")
    own = [name for name in missing if name in present and name in source.columns]
    if own:
        listed = ", ".join(f"{name}: {source.columns[name]}" for name in own)
        return (f"the file has {', '.join(f'`{n}`' for n in own)} under the contract's own name: drop `{listed}` "
                "from the columns of sources.yaml")
    taken = set(source.columns.values()) | {c.name for c in contract.columns if c.name in present}
    sample = _sample(source)
    chosen: dict[str, str] = dict(source.columns)
    closest, absent = [], []
    for name in missing:
        candidates = [p for p in present if p not in taken]
        scored = sorted(((_likeness(contract.column(name), p, sample), p) for p in candidates), reverse=True)
        if scored and scored[0][0] >= 0.5:
            chosen[name] = scored[0][1]
            taken.add(scored[0][1])
            closest.append(f"`{name}` ← `{scored[0][1]}`")
        else:
            chosen.pop(name, None)
            absent.append(name)
    lines = []
    if closest:
        lines.append(f"the closest present column{'s' if len(closest) > 1 else ''}: {', '.join(closest)}; if "
                     f"{'they are' if len(closest) > 1 else 'that is'} right, map "
                     f"{'them' if len(closest) > 1 else 'it'} in sources.yaml beside charter.yaml:\n"
                     + _snippet(source.table, {"columns": chosen}))
    if absent:
        lines.append(f"no column looks like {', '.join(f'`{a}`' for a in absent)}: add "
                     f"{'it' if len(absent) == 1 else 'them'} to the export (see docs/tables.md)")
    return "\n".join(lines) or None


def _delimiter_in(name: str, current: str) -> str | None:
    counts = {d: name.count(d) for d in DELIMITERS if d != current}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


def _sample(source: Source) -> pl.DataFrame | None:
    try:
        return scan(source).head(200).collect()
    except (DataError, pl.exceptions.PolarsError, OSError):
        return None


def _likeness(column: Column, name: str, sample: pl.DataFrame | None) -> float:
    """How much a present column looks like a missing contract column: its name (0–1) and its values (0–1)."""
    words = _tokens(name)
    synonyms = set(_SYNONYMS.get(column.name, ())) | _tokens(column.name)
    named = max(difflib.SequenceMatcher(None, column.name, name.lower()).ratio(), 0.7 if words & synonyms else 0)
    if sample is None or name not in sample.columns:
        return named
    values = [str(v).strip() for v in sample[name].drop_nulls().to_list() if str(v).strip()]
    return named + _fits(column, values, sample[name].dtype) - 0.5


def _fits(column: Column, values: list[str], dtype: pl.DataType) -> float:
    """How well sample values fit a contract column: 1 fits, 0.5 cannot tell, 0 does not fit."""
    if not values:
        return 0.5 if column.nullable else 0.3
    if column.kind == "datetime":
        if isinstance(dtype, pl.Datetime | pl.Date) or _timestamp_formats(values, iso=True):
            return 1.0
        return 0.0
    distinct = {v.lower() for v in values}
    if column.kind == "bool":
        return 1.0 if dtype == pl.Boolean or distinct <= set(TRUE_TEXT + FALSE_TEXT) else (
            0.7 if len(distinct) <= 2 else 0.0)
    if column.kind in ("int", "float"):
        return 1.0 if all(_number(v) is not None for v in values) else 0.0
    if column.allowed:
        return 1.0 if distinct <= set(column.allowed) else (0.7 if len(distinct) <= len(column.allowed) else 0.2)
    if column.unique:
        return 1.0 if len(set(values)) == len(values) else 0.2
    return 0.5


_BOOL_WORDS = {
    True: ("y", "ok", "pass", "passed", "success", "succeeded", "resolved", "correct", "accepted", "approved", "done",
           "positive", "si", "ja", "oui", "x"),
    False: ("n", "fail", "failed", "failure", "unresolved", "reopened", "incorrect", "rejected", "wrong", "negative",
            "nein", "non", "error"),
}
_NULLISH = ("none", "null", "n/a", "na", "-", "nan", "nil", "")
_SYNONYM_VALUES = {"treatment": "agent", "test": "agent", "ai": "agent", "bot": "agent", "variant": "agent",
                   "control": "human", "baseline": "human", "manual": "human", "person": "human", "people": "human"}


def _guess(value: Any, column: Column, targets: tuple[str, ...]) -> Any:
    """The contract value a user's value most likely means, or a placeholder naming the choices."""
    text = str(value).strip().lower()
    if column.kind == "bool":
        for answer, words in _BOOL_WORDS.items():
            if text in words:
                return answer
        return "<true|false>"
    if column.nullable and text in _NULLISH:
        return None
    if text in _SYNONYM_VALUES and _SYNONYM_VALUES[text] in targets:
        return _SYNONYM_VALUES[text]
    close = difflib.get_close_matches(text, targets, n=1, cutoff=0.6)
    if close:
        return close[0]
    return f"<{'|'.join(targets)}>" if targets else "<a charter failure mode, or null>"


def _value_map_fix(source: Source, column: Column, values: list[Any], targets: tuple[str, ...]) -> str | None:
    # a long text is no category: nothing to map (and no snippet to copy)
    values = [v for v in values if len(str(v)) <= 60]
    if not values:
        return None
    shown = values[:12]
    mapping = dict(source.values.get(column.name, {}))
    mapping.update({cell_text(v): _guess(v, column, targets) for v in shown})
    more = f" (and the other {len(values) - len(shown)} values)" if len(values) > len(shown) else ""
    meaning = ("true and false" if column.kind == "bool" else " or ".join(targets) if targets
               else "failure modes of the charter")
    return (f"if these values stand for {meaning}, map them in sources.yaml beside charter.yaml{more}; check each "
            "guess:\n"
            + _snippet(source.table, {"values": {column.name: mapping}}))


#: Formats tried on timestamps that do not read: day-first and month-first, with and without seconds, and more.
TIMESTAMP_FORMATS = tuple(
    f"{date}{sep}{time}" for date in ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y",
                                      "%d %b %Y", "%b %d %Y", "%b %d, %Y", "%Y%m%d")
    for sep, time in ((" ", "%H:%M:%S"), (" ", "%H:%M"), (" ", "%I:%M:%S %p"), (" ", "%I:%M %p"), ("", ""),
                      (" ", "%H:%M:%S%.f"), (" ", "%H:%M:%S %z"))
) + ("%a, %d %b %Y %H:%M:%S %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S %Z", "%Y%m%dT%H%M%S",
     "%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", "%s")
_ISO = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def _timestamp_formats(values: list[Any], *, iso: bool = False) -> list[str]:
    """The formats (of TIMESTAMP_FORMATS, or ISO 8601 too) that read every value."""
    texts = pl.Series([str(v).strip() for v in values if v is not None and str(v).strip()], dtype=pl.String)
    if not len(texts):
        return []
    found = []
    for fmt in ((*_ISO, *TIMESTAMP_FORMATS) if iso else TIMESTAMP_FORMATS):
        subject = texts.str.replace(" ", "T", literal=True) if fmt in _ISO else texts
        try:
            parsed = subject.str.to_datetime(fmt, strict=False, time_unit="us")
        except pl.exceptions.PolarsError:
            continue
        if not parsed.null_count() and fmt.replace("%.f", "") not in found:
            found.append(fmt)
    return found


def _timestamp_fix(source: Source, column: Column, values: list[Any]) -> str:
    texts = [str(v).strip() for v in values if v is not None]
    if texts and all(t.isdigit() and len(t) == 13 for t in texts):
        return "these look like Unix epoch milliseconds: export them as ISO 8601 text (e.g. 2026-11-03T14:05:00Z)"
    if source.timestamp_format and _timestamp_formats(values, iso=True)[:1] in ([f] for f in _ISO):
        return (f"they are ISO 8601, which is read without a format: drop `format` from `{source.table}.timestamps` "
                "in sources.yaml")
    formats = _timestamp_formats(values)
    if not formats:
        return ('write them as ISO 8601 (2026-11-03T14:05:00Z), or give their format in sources.yaml, e.g. '
                f"timestamps: {{format: \"%d.%m.%Y %H:%M\"}} under `{source.table}:` (strftime codes)")
    fmt = formats[0]
    other = f" (\"{formats[1]}\" reads them too: say which is right)" if len(formats) > 1 else ""
    zone = {} if "%z" in fmt or fmt.endswith("Z") or fmt == "%s" else {
        "timezone": "<the zone they were written in, e.g. UTC>"}
    return (f"they read with the format \"{fmt}\"{other}; say so in sources.yaml beside charter.yaml:\n"
            + _snippet(source.table, {"timestamps": {"format": fmt, **zone}}))

