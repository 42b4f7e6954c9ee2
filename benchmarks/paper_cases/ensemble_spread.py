"""How often an ensemble like the data is called outside the real spread, per criterion
and with every criterion at once (rvegen 0.3.8's ``ensemble.real_spread``).

    python benchmarks/paper_cases/ensemble_spread.py [CASE ...]

For each case whose run folder holds a report (``rvegen validate CASE.yaml``), and each
phase: each of the report's real ensembles (``real_ensemble.errors_draws``, as many real
samples as the case has volumes) takes the place of the generated ensemble among the
others, and is judged by both rules: "beyond the worst of the others on some criterion"
(one test per criterion, ``within_real_spread``) and "further off on its worst
standardised criterion than every other" (``rank_among_real``). The rates are false
alarms: these ensembles are real. Beside them, the case's generated ensemble as the
report judges it. Then the same two rules on 2,000 simulated draws of 21 exchangeable
ensembles with six heavy-tailed criteria of unlike scales (the setting of
``tests/test_gate.py``), where the rates are known: one in 21 for "together". Nothing is
sampled; a few seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import rvegen
from rvegen.validation.gate import rank_among_real

HERE = Path(__file__).resolve().parent
CASES = ["spheres", "grains", "nmc", "carbonate", "berea", "composite", "sofc", "separator"]


def simulated(trials: int = 2000, draws: int = 20) -> None:
    """False-alarm rates of both rules on exchangeable ensembles (Student t, 3 degrees)."""
    rng = np.random.default_rng(3)
    spreads = {"s2": 1.0, "lineal_path": 3.0, "euler_density": 0.1,
               "largest_cluster": 0.002, "volume_fraction": 0.01, "other": 50.0}

    def ensemble() -> dict[str, float]:
        return {k: float(abs(rng.standard_t(3)) * s) for k, s in spreads.items()}

    single = together = 0
    for _ in range(trials):
        real = [ensemble() for _ in range(draws)]
        own = ensemble()
        single += any(own[k] > max(r[k] for r in real) for k in spreads)
        together += not rank_among_real(own, real)["within"]
    print(f"simulated: {trials} draws, {len(spreads)} criteria, {draws} real ensembles: "
          f"per criterion {single / trials:.3f}, together {together / trials:.3f} "
          f"(1 / {draws + 1} = {1 / (draws + 1):.3f})")


def main(cases: list[str]) -> None:
    registry = rvegen.build_registry()
    resolutions = {n: registry.get("metric", n).resolution for n in registry.names("metric")}
    print("case       phase  real ensembles called outside:  per criterion  together"
          "   generated: per criterion beyond the worst | together (as far off)")
    for case in cases:
        path = rvegen.load_spec(HERE / f"{case}.yaml").run_path / "report.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        draws = report["real_ensemble"].get("errors_draws")
        if not draws:
            print(f"{case:10s} report of rvegen {report['rvegen_version']}: no errors_draws")
            continue
        for p in map(str, report["phases"]):
            real = [d[p] for d in draws]
            single = together = 0
            for j, own in enumerate(real):
                others = real[:j] + real[j + 1:]
                single += any(own[k] > max(o[k] for o in others) for k in own)
                together += not rank_among_real(own, others, resolutions)["within"]
            beyond = [k for k, ok in report["ensemble"]["within_real_spread"][p].items() if not ok]
            standing = report["ensemble"]["real_spread"][p]
            verdict = "within" if standing["within"] else "outside"
            print(f"{case:10s} {p:5s}  {len(real):2d} ensembles of {report['ensemble']['count']}:"
                  f"           {single / len(real):5.2f}     {together / len(real):5.2f}"
                  f"   {', '.join(beyond) or '-'} | {verdict} ({standing['as_far_off']} of "
                  f"{standing['real']})")
    print(f"expected 'together' for an ensemble like the data: at most 1 / draws "
          f"(1 / 20 = {1 / 20:.2f} here, each real ensemble judged among the other 19)")
    simulated()


if __name__ == "__main__":
    main(sys.argv[1:] or CASES)
