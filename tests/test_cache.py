"""The compute-once cache: off unless ROLLOUTKIT_CACHE names a folder, and never fooled by a changed workspace,
changed code, or a damaged, foreign or half-written entry."""

from __future__ import annotations

import json
import os
import shutil

import pytest

import rolloutkit as rk
from rolloutkit import cache, paths


@pytest.fixture
def ws(tmp_path):
    folder = tmp_path / "ws"
    shutil.copytree(paths.DEMO_DIR / "support-refunds", folder)
    return rk.load_workspace(folder)


@pytest.fixture
def store(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_VAR, str(where))
    return where


class Counter:
    def __init__(self, value=None):
        self.calls, self.value = 0, value if value is not None else {"decision": "hold", "days": [1, 2]}

    def __call__(self):
        self.calls += 1
        return self.value


def test_off_by_default_every_result_is_computed(ws, monkeypatch):
    monkeypatch.delenv(cache.CACHE_VAR, raising=False)
    compute = Counter()
    assert [cache.remember(ws, "headlines", compute) for _ in range(2)] == [compute.value] * 2
    assert compute.calls == 2


def test_a_second_call_reads_the_stored_result(ws, store):
    compute = Counter()
    first = cache.remember(ws, "headlines", compute, parts=("2026-11-22",))
    again = cache.remember(rk.load_workspace(ws.path), "headlines", compute, parts=("2026-11-22",))
    assert first == again == compute.value and compute.calls == 1
    assert len(list(store.glob("*.json"))) == 1


def test_other_parts_and_names_are_other_entries(ws, store):
    compute = Counter()
    cache.remember(ws, "headlines", compute, parts=("2026-11-22",))
    cache.remember(ws, "headlines", compute, parts=("2026-11-15",))
    cache.remember(ws, "changes", compute, parts=("2026-11-22",))
    assert compute.calls == 3


def test_a_cut_of_the_workspace_shares_the_uncut_workspaces_entries(ws, store):
    compute = Counter()
    cache.remember(ws, "headlines", compute, parts=("2026-10-01",))
    cache.remember(ws.cut("2026-10-01"), "headlines", compute, parts=("2026-10-01",))
    assert compute.calls == 1


@pytest.mark.parametrize("change", ["rewrite a table", "touch a table", "edit the charter", "remove a table"])
def test_a_changed_workspace_is_computed_again(ws, store, change):
    compute = Counter()
    cache.remember(ws, "headlines", compute)
    if change == "rewrite a table":
        (ws.path / "flags.parquet").write_bytes((ws.path / "flags.parquet").read_bytes())
        stat = (ws.path / "flags.parquet").stat()
        os.utime(ws.path / "flags.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    elif change == "touch a table":
        stat = (ws.path / "canary.parquet").stat()
        os.utime(ws.path / "canary.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    elif change == "edit the charter":
        charter = ws.path / "charter.yaml"
        stat = charter.stat()
        charter.write_text(charter.read_text().replace("support", "suppory", 1))
        os.utime(charter, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same time: the text itself is keyed
    else:
        (ws.path / "incidents.parquet").unlink()
    cache.remember(rk.load_workspace(ws.path), "headlines", compute)
    assert compute.calls == 2


def test_changed_code_is_computed_again(ws, store, monkeypatch):
    compute = Counter()
    cache.remember(ws, "headlines", compute)
    monkeypatch.setattr(cache, "_code_identity", lambda: "another version of rolloutkit")
    cache.remember(ws, "headlines", compute)
    assert compute.calls == 2


def _entry(store):
    (path,) = store.glob("*.json")
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("damage", ["payload edited", "checksum edited", "torn write", "not json", "foreign key",
                                    "empty file", "older format"])
def test_a_damaged_or_foreign_entry_is_computed_again_and_rewritten(ws, store, damage):
    compute = Counter()
    cache.remember(ws, "headlines", compute)
    path, entry = _entry(store)
    if damage == "payload edited":
        entry["payload"] = entry["payload"].replace("hold", "expand")
    elif damage == "checksum edited":
        entry["sha256"] = "0" * 64
    elif damage == "foreign key":  # another entry's file copied over this one
        entry["key"] = cache.entry_key(ws, "changes")
    elif damage == "older format":
        entry["format"] = cache.FORMAT - 1
    text = {"torn write": path.read_text()[:40], "not json": "{oops", "empty file": ""}.get(damage)
    path.write_text(text if text is not None else json.dumps(entry))
    assert cache.remember(ws, "headlines", compute) == {"decision": "hold", "days": [1, 2]}
    assert compute.calls == 2
    assert _entry(store)[1]["payload"] == json.dumps(compute.value, sort_keys=True)


def test_an_entry_decode_refuses_is_computed_again(ws, store):
    compute = Counter()
    cache.remember(ws, "headlines", compute)

    def strict(payload):
        raise KeyError("decision")

    assert cache.remember(ws, "headlines", compute, decode=strict) == compute.value
    assert compute.calls == 2


@pytest.mark.parametrize("value", [{"days": (1, 2)}, {"rate": float("nan")}, {1: "a"}], ids=["tuple", "nan", "int key"])
def test_a_result_json_would_not_give_back_exactly_is_never_stored(ws, store, value):
    compute = Counter(value)
    for _ in range(2):
        assert cache.remember(ws, "headlines", compute) is value
    assert compute.calls == 2 and not list(store.glob("*.json"))


def test_a_cache_that_cannot_be_written_is_no_cache(ws, tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_VAR, str(blocked))
    compute = Counter()
    assert cache.remember(ws, "headlines", compute) == compute.value
