"""No customer text in HTML or JSON (issue 13): a synthetic workspace whose every column that can carry customer data
has an email, a phone number, a card number and a name planted in it renders its weekly report and its CLI JSON, and
no output holds a planted value or a raw id. Staff columns (reviewer, actor, reason), the team's own catalogue keys
(incident ids, eval task ids: a page names them so a reader can open the incident or the task), versions and run
ids, and categories (segment, kind, category, verdict, failure mode, source) stay as they are: they may appear."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

from rolloutkit import load_workspace, report, synth
from rolloutkit.cli import main

PLANTED = ("jane.doe@example.com", "+1 415 555 0134", "4111 1111 1111 1111", "Ada Lovelace")
#: Planted after every id and text, so ids stay unique and still match across tables.
SUFFIX = " <" + " | ".join(PLANTED) + ">"
#: Columns that can carry customer data, per table.
CUSTOMER_COLUMNS = {
    "canary": ("interaction_id", "session_id"),
    "shadow": ("interaction_id", "agent_action", "human_action"),
    "reviews": ("interaction_id",),
    "incidents": ("summary", "interaction_id"),
}
#: The ids as the synthetic workspace writes them: interactions (canary, shadow) and sessions.
RAW_IDS = re.compile(r"\bsr-(?:cn|sh)-\d{7}\b|\bsh-\d+\b")
AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pii") / "support-refunds"
    synth.write_workspace(folder, "supervised", seed=0)
    for table, columns in CUSTOMER_COLUMNS.items():
        file = folder / f"{table}.parquet"
        pl.read_parquet(file).with_columns(pl.col(c) + SUFFIX for c in columns).write_parquet(file)
    return folder


@pytest.fixture(scope="module")
def outputs(planted: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every text a week of the report and the CLI write: HTML pages, summary.json, the executed notebooks' outputs
    (not their code or parameters), and the JSON of `readiness`, `shadow`, `plan` and `audit`."""
    out = tmp_path_factory.mktemp("report")
    result = report.run([planted], out=out, as_of=AS_OF, jobs=2)
    assert result.ok, result
    found: dict[str, str] = {}
    for file in sorted(out.rglob("*")):
        if file.suffix in (".html", ".json"):
            found[str(file.relative_to(out))] = file.read_text(encoding="utf-8")
        elif file.suffix == ".ipynb":
            cells = json.loads(file.read_text(encoding="utf-8"))["cells"]
            found[str(file.relative_to(out))] = json.dumps([cell.get("outputs", []) for cell in cells])
    assert sum(name.endswith(".html") for name in found) >= 7  # the portfolio, the memo and the five phase pages
    assert sum(name.endswith("summary.json") for name in found) == 1
    assert sum(name.endswith(".ipynb") for name in found) == 6
    for command in ("readiness", "shadow", "plan", "audit"):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main([command, str(planted), "--as-of", AS_OF, "--json"]) == 0
        json.loads(printed.getvalue())
        found[f"rolloutkit {command} --json"] = printed.getvalue()
    return found


def _leaks(texts: dict[str, str], values: tuple[str, ...], ids: re.Pattern[str]) -> list[str]:
    found = []
    for name, text in texts.items():
        found += [f"{name}: {value!r}" for value in values if value in text]
        found += [f"{name}: raw id {match!r}" for match in sorted(set(ids.findall(text)))[:3]]
    return found


def test_the_planted_workspace_is_valid_and_carries_the_text(planted: Path) -> None:
    ws = load_workspace(planted)
    ws.validate()
    for table, columns in CUSTOMER_COLUMNS.items():
        rows = ws.table(table).select(columns).collect()
        assert all(rows[c].drop_nulls().str.ends_with(SUFFIX).all() and rows[c].drop_nulls().len() for c in columns)


@pytest.mark.slow
def test_no_page_or_json_holds_customer_text(outputs: dict[str, str]) -> None:
    leaks = _leaks(outputs, PLANTED, RAW_IDS)
    assert not leaks, "\n".join(leaks)
