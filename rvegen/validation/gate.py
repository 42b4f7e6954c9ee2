"""The acceptance gate: a volume passes when it is as close to the reference as real
samples of the same size are.

Calibrated mode (default) is joint over every criterion (each metric of each phase): a
sample's error on a criterion is standardised by the real calibration samples' errors on
it, (e - median) / IQR; its score is the worst over criteria; the threshold is the chosen
quantile of the real samples' own scores, so that real samples pass at that rate whatever
the number of criteria. (Per-criterion quantiles alone would reject a real sample far
more often than 1 - q once there are many criteria.)

A criterion's IQR is not let below its metric's resolution (``Metric.resolution``): when
every real sample is alike the IQR is ~0 and invisible differences would reject volumes.

Absolute mode: fixed thresholds from the spec on the phase of interest.

:func:`rank_among_real` judges a whole ensemble the same way, among ensembles of as
many real samples: a bias every volume shares passes the gate of single volumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Gate:
    """Thresholds and how to apply them."""

    mode: str
    quantile: float
    #: per-criterion error at the joint threshold (calibrated) or as given (absolute)
    thresholds: dict[str, float]
    #: real calibration errors per criterion (calibrated mode)
    real_errors: dict[str, np.ndarray] = field(default_factory=dict)
    #: the joint score threshold (calibrated mode)
    score_threshold: float = 1.0
    #: per-criterion floor of the IQR (calibrated mode; absent: 0)
    floors: dict[str, float] = field(default_factory=dict)

    def judge(self, errors: dict[str, float]) -> tuple[bool, list[str]]:
        """(accepted, reasons) for one sample's errors by criterion."""
        if self.mode == "absolute":
            reasons = [f"{k} error {errors[k]:.3g} > {t:.3g}" for k, t in self.thresholds.items()
                       if k in errors and errors[k] > t]
            return not reasons, reasons
        reasons = []
        for key, real in self.real_errors.items():
            value = errors.get(key)
            if value is None or not np.isfinite(value):
                continue
            if standardise(real, value, self.floors.get(key, 0.0)) > self.score_threshold:
                reasons.append(f"{key} error {value:.3g} > {self.thresholds[key]:.3g} "
                               f"(real samples: median {np.median(real):.3g})")
        return not reasons, reasons

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        out: dict[str, object] = {"mode": self.mode, "quantile": self.quantile,
                                  "thresholds": self.thresholds}
        if self.mode == "calibrated":
            out["joint_score_threshold"] = self.score_threshold
            out["criteria"] = len(self.real_errors)
        return out


def scale(real: np.ndarray, floor: float = 0.0) -> tuple[float, float]:
    """(median, IQR) of the real errors of one criterion, the IQR at least ``floor``."""
    q25, q50, q75 = np.quantile(real, [0.25, 0.5, 0.75])
    return float(q50), float(max(q75 - q25, floor, 1e-12 * max(abs(q50), 1.0), 1e-15))


def standardise(real: np.ndarray, value: float, floor: float = 0.0) -> float:
    """(value - median) / interquartile range of the real errors of one criterion."""
    median, iqr = scale(real, floor)
    return float((value - median) / iqr)


def calibrate(real_errors: list[dict[str, float]], quantile: float,
              resolutions: dict[str, float] | None = None) -> Gate:
    """A calibrated gate from the errors of real samples (one dict per sample).

    ``resolutions`` maps a metric name to the floor of its criteria's IQR (criteria are
    ``"<metric>/<phase>"``; metrics not named have none).

    Criteria that are not finite for every real sample (a phase absent from the data)
    are left out.
    """
    keys = [k for k in real_errors[0]
            if all(np.isfinite(e.get(k, np.nan)) for e in real_errors)]
    table = {k: np.array([e[k] for e in real_errors], dtype=np.float64) for k in keys}
    floors = {k: (resolutions or {}).get(k.split("/")[0], 0.0) for k in keys}
    scores = [max((standardise(table[k], e[k], floors[k]) for k in keys), default=0.0)
              for e in real_errors]
    threshold = float(np.quantile(scores, quantile)) if scores else 0.0
    # the error at which each criterion reaches the joint threshold, for the report
    thresholds = {}
    for k in keys:
        median, iqr = scale(table[k], floors[k])
        thresholds[k] = median + threshold * iqr
    return Gate("calibrated", quantile, thresholds, table, threshold, floors)


def absolute(thresholds: dict[str, float]) -> Gate:
    """A gate of fixed thresholds by criterion."""
    return Gate("absolute", 1.0, dict(thresholds))


def rank_among_real(generated: dict[str, float], real: list[dict[str, float]],
                    resolutions: dict[str, float] | None = None) -> dict[str, object]:
    """Where an ensemble stands among ensembles of as many real samples, over all its
    criteria at once.

    Each criterion's errors, the generated ensemble's and the real ones' together, are
    standardised as the gate standardises single samples (minus their median, over their
    interquartile range, not below the metric's resolution); an ensemble's score is its
    worst criterion's. The generated ensemble is outside the real spread when its score
    is above every real ensemble's. Standardising by all N + 1 together keeps an ensemble
    that is like the data one of N + 1 exchangeable ones, so it is outside one time in
    N + 1 at most, however many criteria there are (one test per criterion says "outside"
    on some criterion far more often).

    Parameters
    ----------
    generated
        The generated ensemble's error per criterion (``"<metric>"`` or
        ``"<metric>/<phase>"``).
    real
        The same errors of each real ensemble.
    resolutions
        Smallest difference worth seeing per metric name (as in :func:`calibrate`).

    Returns
    -------
    dict
        ``within`` (bool), ``score`` and ``criterion`` (the generated ensemble's worst),
        ``as_far_off`` (how many real ensembles score at least as high) of ``real``
        (their number), ``real_score_max``.
    """
    keys = [k for k in generated if np.isfinite(generated[k])
            and all(np.isfinite(e.get(k, np.nan)) for e in real)]
    if not keys or not real:
        return {"within": True, "score": 0.0, "criterion": None, "as_far_off": len(real),
                "real": len(real), "real_score_max": 0.0}
    floors = {k: (resolutions or {}).get(k.split("/")[0], 0.0) for k in keys}
    table = {k: np.array([generated[k]] + [e[k] for e in real], dtype=np.float64)
             for k in keys}
    rows = []
    for k in keys:
        median, iqr = scale(table[k], floors[k])
        rows.append((table[k] - median) / iqr)
    standard = np.array(rows)  # (criteria, N + 1): the generated ensemble first
    scores = standard.max(axis=0)
    far = int(np.sum(scores[1:] >= scores[0]))
    return {"within": far > 0, "score": float(scores[0]),
            "criterion": keys[int(np.argmax(standard[:, 0]))], "as_far_off": far,
            "real": len(real), "real_score_max": float(scores[1:].max())}
