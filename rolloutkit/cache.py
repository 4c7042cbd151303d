"""Compute once per run: results kept on disk, keyed by everything they are computed from, never trusted blindly.

The weekly run renders several pages of one workspace, in several processes, and the run itself writes the week's
`summary.json`; each would otherwise compute the same results again (every phase's headline for the memo, and the
previous week's for what changed). With `ROLLOUTKIT_CACHE` set to a folder, `remember` keeps a JSON-able result
there; unset (the default: JupyterLab, the CLI, tests), nothing is stored and every result is computed.

A stale or damaged entry can never be returned:
- the key covers the workspace's identity (the path, size and modification time in ns of every file of every table
  it finds, sources.yaml's included, and the text of `charter.yaml` and `sources.yaml`), the identity of rolloutkit's
  own code (each module's path, size and mtime, so a changed contract or rule is a new key), the library versions
  results depend on, and the caller's own parts (the result's name, the day);
- an entry repeats its key and carries the SHA-256 of its payload; one whose key, checksum or JSON does not match,
  or that cannot be read or decoded, is computed again and rewritten;
- entries are written to a temporary file and renamed into place, so a reader sees a whole entry or none.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from rolloutkit import __version__
from rolloutkit.paths import PACKAGE_DIR
from rolloutkit.workspace import Workspace, load_workspace

T = TypeVar("T")
#: The folder entries live in; unset or empty means no cache.
CACHE_VAR = "ROLLOUTKIT_CACHE"
#: The layout of an entry; a change makes older entries unreadable, hence recomputed.
FORMAT = 1
#: Libraries whose version can change a result.
LIBRARIES = ("polars", "numpy", "scipy", "pyarrow")


def folder() -> Path | None:
    """The cache folder `ROLLOUTKIT_CACHE` names, or None when caching is off."""
    value = os.environ.get(CACHE_VAR, "").strip()
    return Path(value) if value else None


def remember(ws: Workspace, name: str, compute: Callable[[], T], *, parts: Iterable[object] = (),
             encode: Callable[[T], Any] = lambda value: value,
             decode: Callable[[Any], T] = lambda payload: payload) -> T:
    """`compute()`, or its result as stored for this workspace, code and `name`/`parts` when the cache is on.

    `encode` turns the result into JSON values and `decode` turns them back; a stored entry is used only if its
    key and checksum match and `decode` accepts it. A result JSON does not give back exactly (a date, a tuple, a
    NaN) is not stored: it is computed every time rather than come back different.
    """
    where = folder()
    if where is None:
        return compute()
    key = entry_key(ws, name, parts)
    path = where / f"{key}.json"
    found = _read(path, key)
    if found is not None:
        try:
            return decode(found)
        except Exception:  # noqa: BLE001 — an entry decode cannot read is recomputed, whatever it raised
            pass
    value = compute()
    _write(path, key, encode(value))
    return value


def entry_key(ws: Workspace, name: str, parts: Iterable[object] = ()) -> str:
    """The hex SHA-256 naming `name`'s entry for this workspace (as its files stand now) and this code."""
    digest = hashlib.sha256()
    for piece in (FORMAT, __version__, _libraries(), _code_identity(), *workspace_identity(ws), name,
                  *map(str, parts)):
        digest.update(repr(piece).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def workspace_identity(ws: Workspace) -> list[tuple[object, ...]]:
    """What a workspace's results are computed from: the charter's and sources.yaml's text, and (path, size,
    mtime_ns) of every file of every table found in the folder, even those a day's cut leaves out."""
    root = ws.path.resolve()
    found = [("text", name, _text(root / name)) for name in ("charter.yaml", "sources.yaml")]
    for table, source in sorted(load_workspace(root).sources.items()):
        found += [("file", table, *_stat(Path(f))) for f in sorted(source.files)]
    return found


def _text(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _stat(path: Path) -> tuple[str, int, int]:
    info = path.stat()
    return str(path.resolve()), info.st_size, info.st_mtime_ns


@functools.cache
def _libraries() -> tuple[tuple[str, str], ...]:
    return tuple((name, metadata.version(name)) for name in LIBRARIES)


@functools.cache
def _code_identity() -> str:
    """rolloutkit's modules and templates as they are on disk (once per process: code does not change under it)."""
    files = sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return hashlib.sha256(repr([(str(p.relative_to(PACKAGE_DIR)), *_stat(p)[1:]) for p in files]).encode()).hexdigest()


def _read(path: Path, key: str) -> Any | None:
    """The payload of a whole, matching entry; None for anything else (absent, torn, foreign, altered)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        text = entry["payload"]
        if entry.get("format") != FORMAT or entry.get("key") != key or not isinstance(text, str):
            return None
        if hashlib.sha256(text.encode()).hexdigest() != entry.get("sha256"):
            return None
        return json.loads(text)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, key: str, payload: Any) -> None:
    """Store an entry atomically; a cache that cannot be written is no cache, never an error."""
    try:
        text = json.dumps(payload, sort_keys=True, allow_nan=False)
        if json.loads(text) != payload:  # tuples would come back as lists
            return
        entry = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                            "payload": text})
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem[:16]}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(entry)
        os.replace(temporary, path)
    except (OSError, TypeError, ValueError):
        pass
