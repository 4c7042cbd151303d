"""`read_flags` and `import_flags`: one flag's change history on a flag platform → the `flags` table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rolloutkit.errors import RolloutkitError
from rolloutkit.importers import _growthbook, _launchdarkly, _unleash
from rolloutkit.importers._history import Parsed, flags_frame, load_json
from rolloutkit.importers._results import PLATFORMS, FlagHistory, Platform
from rolloutkit.importers._write import write_table

_PARSERS: dict[str, Callable[..., Parsed]] = {
    "launchdarkly": _launchdarkly.parse, "unleash": _unleash.parse, "growthbook": _growthbook.parse}


def read_flags(files: Sequence[str | Path], *, platform: Platform, flag: str, environment: str | None = None,
               variation: str | None = None) -> FlagHistory:
    """Read a flag's change history from the JSON the platform's API returned; nothing is written.

    `files`: LaunchDarkly audit-log entries (`GET /api/v2/auditlog/{id}`, one entry per file or a list), Unleash
    events (`GET /api/admin/events`), GrowthBook revisions (`GET /api/v2/feature-revisions` or
    `/api/v1/features/{id}/revisions`); `.json`, or `.jsonl` with one response per line. The same entry in several
    files counts once. `environment` may be left out when the flag's entries name only one. `variation` is the
    agent's variation: LaunchDarkly's variation value, name or id (default: `true` of a boolean flag), an Unleash
    strategy variant (default: the flag being on), GrowthBook's value (default "true").

    Raises `DataError` naming the file and the entry when an entry breaks the platform's format.
    """
    if platform not in _PARSERS:
        raise RolloutkitError(f"`platform` must be one of {', '.join(PLATFORMS)}, got {platform!r}")
    documents: list[tuple[str, Any]] = load_json(files)
    parsed = _PARSERS[platform](documents, flag=flag, environment=environment, variation=variation)
    table, unchanged = flags_frame(parsed.shares)
    return FlagHistory(platform=platform, flag=flag, environment=parsed.environment,
                       files=tuple(Path(f) for f in files), entries=parsed.entries, ignored=parsed.ignored,
                       unchanged=unchanged, table=table)


def import_flags(workspace: str | Path, files: Sequence[str | Path], *, platform: Platform, flag: str,
                 environment: str | None = None, variation: str | None = None,
                 replace: bool = False) -> FlagHistory:
    """`read_flags`, then write the history as `flags.parquet` in the workspace.

    Refuses to overwrite an existing `flags` table (any format) unless `replace=True`, which removes it. The table
    is validated against the contract and read back through `load_workspace` before this returns.
    """
    history = read_flags(files, platform=platform, flag=flag, environment=environment, variation=variation)
    path, replaced = write_table(workspace, "flags", history.table, replace=replace)
    return dataclasses.replace(history, path=path, replaced=replaced)
