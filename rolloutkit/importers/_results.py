"""What an import produced: the table, where it went, and every entry or score it left out, counted by reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from rolloutkit.text import pct, plural

Platform = Literal["launchdarkly", "unleash", "growthbook"]
PLATFORMS: tuple[Platform, ...] = ("launchdarkly", "unleash", "growthbook")


@dataclass(frozen=True, kw_only=True)
class FlagHistory:
    """A flag platform's change history as the `flags` table: one row per change of the share routed to the agent.

    `entries` counts what the files held; `ignored` the entries left out, by reason ("other flags",
    "other environments", "duplicates", "unpublished revisions"); `unchanged` the entries of this flag and
    environment that left the agent's share as it was (a tag, a targeting rule, a strategy added while off).
    """

    platform: Platform
    flag: str
    environment: str
    files: tuple[Path, ...]
    entries: int
    ignored: Mapping[str, int]
    unchanged: int
    table: pl.DataFrame
    #: Where `import_flags` wrote the table, and the files of the table it replaced (`replace=True`).
    path: Path | None = None
    replaced: tuple[Path, ...] = ()

    def describe(self) -> str:
        lines = [f"{self.platform}: {plural(self.entries, 'entry', 'entries')} in "
                 f"{plural(len(self.files), 'file')}; flag `{self.flag}` in `{self.environment}`: "
                 f"{plural(self.table.height, 'share change')}"]
        left_out = [f"{n:,} {reason}" for reason, n in self.ignored.items() if n]
        if left_out:
            lines.append(f"  ignored: {', '.join(left_out)}")
        if self.unchanged:
            lines.append(f"  {plural(self.unchanged, 'entry', 'entries')} of this flag left the share unchanged")
        for row in self.table.iter_rows(named=True):
            zero = f"  (0% at {row['zero_at']:%H:%M:%S})" if row["zero_at"] is not None else ""
            lines.append(f"  {row['ts']:%Y-%m-%d %H:%M:%S} UTC  {pct(row['traffic_share']):>5}  "
                         f"{row['actor']}: {row['reason']}{zero}")
        lines.extend(_written(self.path, self.replaced))
        return "\n".join(lines)


@dataclass(frozen=True, kw_only=True)
class ReviewScores:
    """Langfuse annotation scores as the `reviews` table: one row per (interaction, reviewer).

    `scores` counts the rows the export held (after dropping `duplicates`, the same score exported again after an
    edit); `left_out` the scores not used, by reason: each non-human `source` ("EVAL", "API"), "other annotation
    scores" (other names), "not on a trace", "failure modes without a verdict".
    """

    files: tuple[Path, ...]
    verdict_score: str
    failure_mode_score: str
    scores: int
    duplicates: int
    left_out: Mapping[str, int]
    table: pl.DataFrame
    #: Where `import_langfuse` wrote the table, and the files of the table it replaced (`replace=True`).
    path: Path | None = None
    replaced: tuple[Path, ...] = ()

    def describe(self) -> str:
        reviewers = self.table["reviewer"].n_unique() if self.table.height else 0
        lines = [f"langfuse: {plural(self.scores, 'score')} in {plural(len(self.files), 'file')}; "
                 f"{plural(self.table.height, 'review')} by {plural(reviewers, 'reviewer')} from the "
                 f"`{self.verdict_score}` and `{self.failure_mode_score}` annotation scores"]
        left_out = [f"{reason} {n:,}" for reason, n in self.left_out.items() if n]
        if left_out:
            lines.append(f"  left out: {', '.join(left_out)}")
        if self.duplicates:
            lines.append(f"  {plural(self.duplicates, 'score')} exported again after an edit: the latest kept")
        if self.table.height:
            counts = self.table["verdict"].value_counts().sort("verdict")
            lines.append("  verdicts: " + ", ".join(f"{v} {n:,}" for v, n in counts.iter_rows()))
        lines.extend(_written(self.path, self.replaced))
        return "\n".join(lines)


def _written(path: Path | None, replaced: tuple[Path, ...]) -> list[str]:
    if path is None:
        return []
    instead = f" (replacing {', '.join(p.name for p in replaced)})" if replaced else ""
    return [f"wrote {path}{instead}"]
