"""altair builders: an aggregated tidy frame (or a page's `Missing` part) in, a chart (or the note) out.

One module per rollout phase; each lists its builders in `__all__`, and this package re-exports them all.
"""

from rolloutkit.charts import canary, evalset, shadow, summary, supervision, timeline
from rolloutkit.charts.base import no_data, passes_missing, threshold_rule, titled, today_rule  # noqa: F401
from rolloutkit.charts.canary import *  # noqa: F403
from rolloutkit.charts.evalset import *  # noqa: F403
from rolloutkit.charts.shadow import *  # noqa: F403
from rolloutkit.charts.summary import *  # noqa: F403
from rolloutkit.charts.supervision import *  # noqa: F403
from rolloutkit.charts.timeline import *  # noqa: F403

__all__ = sorted([
    "no_data", "passes_missing", "threshold_rule", "titled", "today_rule",
    *canary.__all__, *evalset.__all__, *shadow.__all__, *summary.__all__, *supervision.__all__, *timeline.__all__,
])
