"""Pure maths on counts → frozen results (see docs/statistics.md). No polars, no I/O."""

from rolloutkit.stats.control import binomial_control_limits, srm_test, trend_test
from rolloutkit.stats.kappa import cohen_kappa, fleiss_kappa
from rolloutkit.stats.paired import mcnemar_exact, paired_newcombe_interval
from rolloutkit.stats.proportions import (
    clopper_pearson_interval,
    newcombe_interval,
    noninferiority_test,
    wilson_interval,
)
from rolloutkit.stats.results import (
    NO_DATA,
    UNREACHABLE,
    ZERO_VARIANCE,
    Bounds,
    Interval,
    Kappa,
    SampleSize,
    TestResult,
    WeightedInterval,
)
from rolloutkit.stats.sample_size import trials_to_demonstrate, trials_until_diff_above, trials_until_upper_below
from rolloutkit.stats.sequential import (
    bernoulli_confidence_sequence,
    bernoulli_confidence_sequence_bounds,
    bernoulli_upper_below,
    diff_confidence_sequence,
)
from rolloutkit.stats.weighted import weighted_proportion

__all__ = [
    "NO_DATA",
    "UNREACHABLE",
    "ZERO_VARIANCE",
    "Bounds",
    "Interval",
    "Kappa",
    "SampleSize",
    "TestResult",
    "WeightedInterval",
    "bernoulli_confidence_sequence",
    "bernoulli_confidence_sequence_bounds",
    "bernoulli_upper_below",
    "binomial_control_limits",
    "clopper_pearson_interval",
    "cohen_kappa",
    "diff_confidence_sequence",
    "fleiss_kappa",
    "mcnemar_exact",
    "newcombe_interval",
    "noninferiority_test",
    "paired_newcombe_interval",
    "srm_test",
    "trend_test",
    "trials_to_demonstrate",
    "trials_until_diff_above",
    "trials_until_upper_below",
    "weighted_proportion",
    "wilson_interval",
]
