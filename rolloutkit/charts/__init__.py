"""altair builders: an aggregated tidy frame in, a chart out. One module per rollout phase."""

from rolloutkit.charts.base import threshold_rule, titled, today_rule
from rolloutkit.charts.canary import *  # noqa: F403
from rolloutkit.charts.evalset import *  # noqa: F403
from rolloutkit.charts.shadow import *  # noqa: F403
from rolloutkit.charts.summary import *  # noqa: F403
from rolloutkit.charts.supervision import *  # noqa: F403
from rolloutkit.charts.timeline import *  # noqa: F403

__all__ = ["threshold_rule", "titled", "today_rule"]
