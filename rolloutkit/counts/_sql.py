"""The definition compiled to SQL with sqlglot: one syntax tree, generated in each dialect.

The tree uses only portable pieces — CASE, integer division, sums and counts, a LEFT JOIN — plus two functions that
sqlglot spells per dialect: microseconds since the epoch (`UnixMicros`) and a date from a day number
(`DateFromUnixDate`). Where a dialect has no exact spelling in sqlglot, `_REWRITES` gives it one:

- microseconds: Snowflake `DATE_PART(EPOCH_MICROSECOND, ts)`, Trino `TO_UNIXTIME(ts)` (seconds as a double,
  rounded back to whole microseconds), Postgres `EXTRACT(EPOCH FROM ts)` (exact numeric);
- integer division of the (non-negative) local microseconds by a day: Snowflake's `/` keeps only 6 decimals, which
  rounds 1 µs before midnight up to the next day, so it divides the exact multiple `a - MOD(a, b)`; Trino's `/`
  on two BIGINTs is already integer division;
- DuckDB and Postgres would materialize the rows' CTE, read twice (for the daily and the session counts), with all
  its columns: `NOT MATERIALIZED` has them scan the source twice instead, which is cheaper than holding it.

The column `ts` must be an instant (TIMESTAMP in BigQuery and Spark, TIMESTAMPTZ/TIMESTAMP WITH TIME ZONE,
TIMESTAMP_TZ/LTZ) or a timestamp without a zone that holds UTC; timestamp literals carry `+00:00`, so no session
zone takes part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from rolloutkit.counts._definition import Check, Condition, Definition, Measure
from rolloutkit.counts._zones import DAY_US, US
from rolloutkit.errors import RolloutkitError

DIALECTS = ("duckdb", "spark", "bigquery", "snowflake", "trino", "postgres")
_US, _DAY, _SEG, _SESSION = "rk_us", "rk_day", "rk_seg", "rk_session"


def _lit(value: int | float | str) -> exp.Expression:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _out(expression: exp.Expression, name: str) -> exp.Alias:
    # quoted, so the counts keep lower-case names where unquoted names fold to upper case (Snowflake)
    return exp.alias_(expression, exp.to_identifier(name, quoted=True))


def _int(expression: exp.Expression) -> exp.Cast:
    return exp.cast(expression, exp.DataType.Type.BIGINT)


def _float(expression: exp.Expression) -> exp.Cast:
    return exp.cast(expression, exp.DataType.Type.DOUBLE)


def condition(c: Condition) -> exp.Expression:
    col = _col(c.column)
    if c.op == "true":
        return col
    if c.op == "equals":
        return exp.EQ(this=col, expression=_lit(c.value))
    if c.op == "above":
        return exp.GT(this=col, expression=_lit(c.value))
    if c.op == "same":
        return exp.EQ(this=col, expression=_col(str(c.value)))
    if c.op == "null":
        return exp.Is(this=col, expression=exp.Null())
    return exp.and_(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())),
                    exp.Not(this=exp.In(this=col, expressions=[_lit(v) for v in c.values])))


def _count_if(c: Condition) -> exp.Expression:
    return _int(exp.Sum(this=exp.Case().when(condition(c), _lit(1)).else_(_lit(0))))


def _measure(m: Measure) -> exp.Expression:
    if m.agg == "rows":
        return _int(exp.Count(this=exp.Star()))
    if m.agg == "count_if":
        return _count_if(m.when)
    if m.agg == "count":
        return _int(exp.Count(this=_col(m.column)))
    value = _float(_col(m.column))
    summed = exp.Sum(this=exp.Mul(this=value, expression=value.copy()) if m.agg == "sum_squares" else value)
    return _float(exp.Coalesce(this=summed, expressions=[_lit(0)]))


def _offset(defn: Definition) -> exp.Expression:
    w = defn.window
    if not w.changes:
        return _lit(w.first)
    case = exp.Case()
    for instant, offset in reversed(w.changes):  # latest first: recent rows stop at the first branch
        case = case.when(exp.GTE(this=_col(_US), expression=_lit(instant)), _lit(offset))
    return case.else_(_lit(w.first))


def _segment(defn: Definition) -> exp.Expression:
    if not defn.flags_us:
        return _lit(0)
    case = exp.Case()
    for k in range(len(defn.flags_us), 0, -1):
        case = case.when(exp.GTE(this=_col(_US), expression=_lit(defn.flags_us[k - 1])), _lit(k))
    return case.else_(_lit(0))


def _timestamp(us: int) -> exp.Expression:
    seconds, micro = divmod(us, US)
    text = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=micro).strftime("%Y-%m-%d %H:%M:%S.%f")
    return exp.cast(_lit(f"{text}+00:00"), exp.DataType.Type.TIMESTAMPTZ)


def _segment_start(defn: Definition) -> exp.Expression:
    if not defn.flags_us:
        return exp.cast(exp.Null(), exp.DataType.Type.TIMESTAMPTZ)
    case = exp.Case(this=_col(_SEG, "d"))
    for k, us in enumerate(defn.flags_us, start=1):
        case = case.when(_lit(k), _timestamp(us))
    return case


def counts_query(defn: Definition, table: exp.Table, *, stamp: bool) -> exp.Select:
    """The counts of `table` as one SELECT (with CTEs); `stamp` adds `computed_at` = CURRENT_TIMESTAMP."""
    w = defn.window
    segmented = defn.flags_us is not None
    timed = exp.select(*(_col(c) for c in defn.columns), exp.alias_(exp.UnixMicros(this=_col("ts")), _US)).from_(table)
    local = exp.Paren(this=exp.Add(this=_col(_US), expression=_offset(defn)))
    rows = (exp.select(*(_col(c) for c in defn.columns),
                       exp.alias_(exp.IntDiv(this=local, expression=_lit(DAY_US)), _DAY),
                       *([exp.alias_(_segment(defn), _SEG)] if segmented else []))
            .from_("rk_timed").where(exp.GTE(this=_col(_US), expression=_lit(w.start_us))))
    kept = exp.LTE(this=_col(_DAY), expression=_lit(defn.last_day))
    keys = [_DAY, _SEG, defn.group] if segmented else [_DAY, defn.group]
    daily = (exp.select(*(_col(k) for k in keys), *(exp.alias_(_measure(m), m.name) for m in defn.measures))
             .from_("rk_rows").where(kept.copy()).group_by(*(_col(k) for k in keys)))
    query = exp.select().with_("rk_timed", as_=timed).with_("rk_rows", as_=rows).with_("rk_daily", as_=daily)
    if defn.sessions:
        session_id, fallback = defn.session_key
        key = exp.Coalesce(this=_col(session_id), expressions=[_col(fallback)])
        sessions = (exp.select(exp.alias_(key, _SESSION), exp.alias_(exp.Min(this=_col(_DAY)), _DAY),
                               exp.alias_(exp.Min(this=_col(_SEG)), _SEG),
                               *(exp.alias_(exp.Sum(this=_col(s.column)), s.column) for s in defn.sessions))
                    .from_("rk_rows").where(exp.and_(kept.copy(), exp.EQ(this=_col("arm"), expression=_lit("agent"))))
                    .group_by(key.copy()))
        over = (exp.select(_col(_DAY), _col(_SEG),
                           *(exp.alias_(_count_if(Condition("above", s.column, s.limit)), s.name)
                             for s in defn.sessions))
                .from_("rk_sessions").group_by(_col(_DAY), _col(_SEG)))
        query = query.with_("rk_sessions", as_=sessions).with_("rk_session_daily", as_=over)
    values: dict[str, exp.Expression] = {
        "day": exp.cast(exp.DateFromUnixDate(this=exp.cast(_col(_DAY, "d"), exp.DataType.Type.INT)),
                        exp.DataType.Type.DATE),
        defn.group: _col(defn.group, "d"),
    }
    if segmented:
        values["segment_start"] = _segment_start(defn)
    values |= {m.name: _col(m.name, "d") for m in defn.measures}
    values |= {s.name: _int(exp.Coalesce(this=_col(s.name, "s"), expressions=[_lit(0)])) for s in defn.sessions}
    columns = [_out(values[name], name) for name in defn.output]
    if stamp:
        columns.append(_out(exp.CurrentTimestamp(), "computed_at"))
    query = query.select(*columns).from_(exp.alias_(exp.to_table("rk_daily"), "d", table=True))
    if defn.sessions:
        on = exp.and_(*(exp.EQ(this=_col(k, "d"), expression=_col(k, "s")) for k in (_DAY, _SEG)),
                      exp.EQ(this=_col("arm", "d"), expression=_lit("agent")))
        query = query.join(exp.alias_(exp.to_table("rk_session_daily"), "s", table=True), on=on, join_type="left")
    return query.order_by(*(_col(k, "d") for k in keys))


def profile_query(checks: tuple[Check, ...], table: exp.Table) -> exp.Select:
    """Rows, first and last instant (µs) and the rows breaking each check, in one pass."""
    us = exp.UnixMicros(this=_col("ts"))
    return exp.select(exp.alias_(_int(exp.Count(this=exp.Star())), "rows"),
                      exp.alias_(_int(exp.Min(this=us)), "first_us"), exp.alias_(_int(exp.Max(this=us.copy())),
                                                                                 "last_us"),
                      *(exp.alias_(_count_if(c.offending), f"c{i}") for i, c in enumerate(checks))).from_(table)


def examples_query(check: Check, table: exp.Table, limit: int = 5) -> exp.Select:
    return exp.select(_col(check.column)).from_(table).where(condition(check.offending)).limit(limit)


def _micros_as(spelling: Callable[[exp.Expression], exp.Expression]) -> Callable[[exp.Expression], exp.Expression]:
    return lambda node: spelling(node.this) if isinstance(node, exp.UnixMicros) else node


def _exact_division(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.IntDiv):
        return node
    a, b = node.this, node.expression
    whole = exp.Paren(this=exp.Sub(this=a, expression=exp.Mod(this=a.copy(), expression=b.copy())))
    return _int(exp.Div(this=whole, expression=b.copy()))


def _integer_division(node: exp.Expression) -> exp.Expression:
    return exp.Div(this=node.this, expression=node.expression, typed=True) if isinstance(node, exp.IntDiv) else node


def _inlined(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE):
        node.set("materialized", False)
    return node


def _scaled(seconds: exp.Expression) -> exp.Expression:
    return _int(exp.Round(this=exp.Mul(this=seconds, expression=_lit(US))))


_REWRITES: dict[str, tuple[Callable[[exp.Expression], exp.Expression], ...]] = {
    "snowflake": (_micros_as(lambda ts: exp.Anonymous(this="DATE_PART", expressions=[exp.var("EPOCH_MICROSECOND"),
                                                                                     ts])),
                  _exact_division),
    "trino": (_micros_as(lambda ts: _scaled(exp.Anonymous(this="TO_UNIXTIME", expressions=[ts]))),
              _integer_division),
    "postgres": (_micros_as(lambda ts: _scaled(exp.Extract(this=exp.var("EPOCH"), expression=ts))), _inlined),
    "duckdb": (_inlined,),
}


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise RolloutkitError(f"`--dialect` must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    return dialect


def table_name(name: str, dialect: str) -> exp.Table:
    """A (possibly qualified: `project.dataset.table`) table name, read in the dialect's syntax."""
    try:
        return exp.to_table(name, dialect=dialect)
    except sqlglot.errors.ParseError as exc:
        raise RolloutkitError(f"`--table` {name!r} is not a table name in {dialect}: {exc}") from None


def generate(query: exp.Expression, dialect: str, *, pretty: bool = True) -> str:
    """The query in `dialect`, with the dialect's rewrites applied."""
    check_dialect(dialect)
    for rewrite in _REWRITES.get(dialect, ()):
        query = query.transform(rewrite)
    return query.sql(dialect=dialect, pretty=pretty)
