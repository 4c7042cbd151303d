"""Shadow interactions and their review sample (stratified, with true inclusion probabilities)."""

from __future__ import annotations

import numpy as np
import polars as pl

from rolloutkit.synth.clock import DAY_US, HOUR_US, US, arrivals, datetimes, day_us, ids, pick
from rolloutkit.synth.scenarios import VERDICTS, Scenario

REVIEWERS = ("rev-amara", "rev-bo", "rev-chen", "rev-dana", "rev-eli")
BETTER, EQUIVALENT, WORSE, UNCLEAR = range(4)
# Chance that agent and human acted differently, given the true verdict (equivalent is solved for).
_DISAGREE = {BETTER: 0.6, WORSE: 0.85, UNCLEAR: 0.5}
# A second reviewer who disagrees picks a neighbouring verdict.
_NEIGHBOURS = np.array([[EQUIVALENT, UNCLEAR], [BETTER, WORSE], [EQUIVALENT, UNCLEAR], [EQUIVALENT, EQUIVALENT]])
# Sampling weights of the review strata: disagreements and high-risk or rare segments are oversampled.
DISAGREEMENT_WEIGHT = 3.0
RISKY_WEIGHT = 2.0
REVIEW_MARGIN = 5  # reviews drawn per week above the charter's quota, so every week meets it
WEEK_US = 7 * DAY_US


def shadow_tables(sc: Scenario, rng: np.random.Generator, end_us: int) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(shadow, reviews, realised) for the scenario's shadow weeks; `realised` holds population facts."""
    ts = arrivals(rng, sc.start, sc.shadow_days, daily=sc.daily_interactions)
    n = ts.size
    seg_share = np.array([s.share for s in sc.segments])
    seg = rng.choice(len(sc.segments), size=n, p=seg_share)
    verdict = _true_verdicts(sc, rng, seg)
    disagree = rng.random(n) < _disagreement_prob(sc)[verdict]

    k = len(sc.actions)
    action_p = 1.0 / np.arange(1, k + 1)
    agent_action = rng.choice(k, size=n, p=action_p / action_p.sum())
    human_action = np.where(disagree, (agent_action + 1 + rng.integers(0, k - 1, size=n)) % k, agent_action)
    risk_names = ("low", "medium", "high")
    seg_risk = np.array([risk_names.index(s.risk) for s in sc.segments])

    shadow = pl.DataFrame([
        ids(f"{_prefix(sc)}-sh-", n).alias("interaction_id"),
        datetimes(ts, "ts"),
        pick(tuple(s.name for s in sc.segments), seg, "segment"),
        pick(sc.actions, agent_action, "agent_action"),
        pick(sc.actions, human_action, "human_action"),
        pl.Series("agent_cost_usd", np.round(rng.lognormal(np.log(0.035), 0.5, n), 4)),
        pl.Series("agent_latency_ms", np.round(rng.lognormal(np.log(2400), 0.45, n))),
        pl.Series("human_handle_s", np.round(rng.lognormal(np.log(380), 0.6, n), 1)),
        pick(risk_names, seg_risk[seg], "risk"),
    ])

    risky = (seg_risk[seg] == 2) | (seg == int(np.argmin(seg_share)))
    weight = np.where(disagree, DISAGREEMENT_WEIGHT, 1.0) * np.where(risky, RISKY_WEIGHT, 1.0)
    week = (ts - day_us(sc.start)) // WEEK_US  # the scenario starts on a Monday: ISO weeks
    quota = sc.reviews_per_week + REVIEW_MARGIN
    inclusion = np.minimum(1.0, quota * weight / np.bincount(week, weights=weight)[week])
    chosen = systematic_sample(rng, inclusion, week)
    reviews = _reviews(sc, rng, shadow["interaction_id"].gather(chosen), ts[chosen], verdict[chosen],
                       inclusion[chosen], end_us, phase="shadow")
    realised = {
        "verdict_shares": {v: float(c) / max(n, 1) for v, c in zip(VERDICTS, np.bincount(verdict, minlength=4),
                                                                    strict=True)},
        "action_disagreement": float(disagree.mean()) if n else 0.0,
        "interactions": n,
    }
    return shadow, reviews, realised


def systematic_sample(rng: np.random.Generator, inclusion: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    """Systematic PPS within each (contiguous, sorted) stratum: a fixed-size sample in which row i is drawn with
    probability exactly `inclusion[i]` (each <= 1): a unit is drawn when a point start + k falls in its slice."""
    cum = np.cumsum(inclusion)
    first = np.searchsorted(stratum, stratum, side="left")
    before = np.where(first > 0, cum[first - 1], 0.0)
    offset = before + rng.random(int(stratum.max()) + 1 if stratum.size else 0)[stratum]
    upper = np.floor(cum - offset)
    lower = np.floor(cum - inclusion - offset)
    return np.flatnonzero(upper > lower)


def _prefix(sc: Scenario) -> str:
    return "".join(part[0] for part in sc.agent.split("-"))


def _true_verdicts(sc: Scenario, rng: np.random.Generator, seg: np.ndarray) -> np.ndarray:
    """Latent verdict per interaction: agent_worse leans to riskier segments, its population share stays true."""
    share = np.array([s.share for s in sc.segments])
    mult = np.array([s.worse_multiplier for s in sc.segments])
    p_worse = sc.agent_worse * mult / (share * mult).sum()
    u = rng.random(seg.size)
    c_worse = p_worse[seg]
    c_better = c_worse + sc.agent_better
    c_unclear = c_better + sc.unclear
    return np.where(u < c_worse, WORSE, np.where(u < c_better, BETTER, np.where(u < c_unclear, UNCLEAR, EQUIVALENT)))


def _disagreement_prob(sc: Scenario) -> np.ndarray:
    """P(agent and human acted differently | verdict), so the overall rate is `action_disagreement`."""
    shares = sc.verdict_shares
    rest = sum(_DISAGREE[VERDICTS.index(v)] * shares[v] for v in ("agent_better", "agent_worse", "unclear"))
    equivalent = np.clip((sc.action_disagreement - rest) / max(sc.equivalent, 1e-9), 0.01, 0.9)
    return np.array([_DISAGREE[BETTER], equivalent, _DISAGREE[WORSE], _DISAGREE[UNCLEAR]])


def mode_given_worse(sc: Scenario) -> np.ndarray:
    """P(mode | agent_worse) per charter mode, so each mode's share of all interactions is its true agent rate
    (scaled down when the modes add up to more than agent_worse); the rest of agent_worse names no mode."""
    rates = np.array([m.agent_rate for m in sc.failure_modes], dtype=float)
    if sc.agent_worse <= 0:
        return np.zeros_like(rates)
    return rates / max(sc.agent_worse, rates.sum())


def _modes_for(sc: Scenario, rng: np.random.Generator, verdict: np.ndarray) -> np.ndarray:
    """A failure-mode index for agent_worse verdicts (see `mode_given_worse`); len(modes) (null) elsewhere."""
    m = len(sc.failure_modes)
    cum = np.cumsum(mode_given_worse(sc))
    mode = np.searchsorted(cum, rng.random(verdict.size), side="right")
    return np.where(verdict == WORSE, mode, m)


def _reviews(sc: Scenario, rng: np.random.Generator, interaction_id: pl.Series, ts: np.ndarray,
             verdict: np.ndarray, inclusion: np.ndarray, end_us: int, *, phase: str,
             modes: np.ndarray | None = None) -> pl.DataFrame:
    """One row per (interaction, reviewer): every item once, ~double_review_share twice, a few three times."""
    r = len(REVIEWERS)
    m = verdict.size
    first = rng.integers(0, r, size=m)
    lag = rng.integers(DAY_US // 4, 4 * DAY_US, size=m) // US * US
    # Each week's sample is reviewed by the end of that week (Sunday), and never after the data ends.
    day = ts // DAY_US
    week_end = np.minimum((day - (day + 3) % 7 + 7) * DAY_US - US, end_us)  # the epoch was a Thursday
    reviewed = np.minimum(ts + lag, week_end)
    mode = _modes_for(sc, rng, verdict) if modes is None else modes

    double = np.flatnonzero(rng.random(m) < sc.double_review_share)
    second = (first[double] + 1 + rng.integers(0, r - 1, size=double.size)) % r
    pos = rng.permutation(double.size)[: sc.triple_review_items]
    triple = double[pos]
    third = (second[pos] + 1) % r
    third = np.where(third == first[triple], (third + 1) % r, third)

    rows = [np.arange(m), double, triple]
    who = [first, second, third]
    extra_verdict = [verdict]
    extra_mode = [mode]
    for idx in rows[1:]:
        flip = rng.random(idx.size) < sc.reviewer_disagreement
        other = _NEIGHBOURS[verdict[idx], rng.integers(0, 2, size=idx.size)]
        v = np.where(flip, other, verdict[idx])
        extra_verdict.append(v)
        # A failure mode is a fact: another reviewer names it only when they agree the agent did worse.
        extra_mode.append(np.where((v == WORSE) & (verdict[idx] == WORSE), mode[idx], len(sc.failure_modes)))
    item = np.concatenate(rows)
    later = np.concatenate([np.zeros(m, dtype=np.int64),
                            rng.integers(HOUR_US, 30 * HOUR_US, size=double.size + triple.size) // US * US])
    frame = pl.DataFrame([
        interaction_id.gather(item).alias("interaction_id"),
        pick(REVIEWERS, np.concatenate(who), "reviewer"),
        datetimes(np.minimum(reviewed[item] + later, week_end[item]), "reviewed_at"),
        pick(VERDICTS, np.concatenate(extra_verdict), "verdict"),
        pick(tuple(f.name for f in sc.failure_modes), np.concatenate(extra_mode), "failure_mode"),
        pl.Series("inclusion_prob", inclusion[item]),
        pl.Series("phase", np.full(item.size, phase)).cast(pl.String),
    ])
    return frame


def supervision_reviews(sc: Scenario, rng: np.random.Generator, canary: pl.DataFrame, start_us: int,
                        end_us: int) -> pl.DataFrame:
    """The review sample at 100%: each agent interaction since `start_us` with probability `sample_rate`."""
    live = canary.filter((pl.col("arm") == "agent") & (pl.col("ts") >= pl.lit(start_us).cast(pl.Datetime("us", "UTC"))))
    chosen = live.filter(pl.Series(rng.random(live.height) < sc.supervision_sample_rate))
    m = chosen.height
    names = [f.name for f in sc.failure_modes]
    failed = chosen["failure_mode"].replace_strict(names, list(range(len(names))), default=len(names),
                                                  return_dtype=pl.Int64).to_numpy()
    u = rng.random(m)
    verdict = np.where(u < 0.05, BETTER, np.where(u < 0.09, UNCLEAR, np.where(u < 0.094, WORSE, EQUIVALENT)))
    caught = (failed < len(names)) & (rng.random(m) < 0.9)  # reviewers miss a few real failures
    verdict = np.where(caught, WORSE, verdict)
    mode = np.where(caught, failed, _modes_for(sc, rng, verdict))
    ts = chosen["ts"].dt.epoch("us").to_numpy()
    inclusion = np.full(m, sc.supervision_sample_rate)
    return _reviews(sc, rng, chosen["interaction_id"], ts, verdict, inclusion, end_us, phase="supervision",
                    modes=mode)
