"""Quality per CPU-minute: the compact default against the imagen plugin on one dataset.

    python benchmarks/backbones/compare.py

Reads the run directories of two specs that differ only in the backbone and in the
number of training steps (each trained for about the same wall time on the same
machine): ``benchmarks/paper_cases/carbonate.yaml`` (compact tiny) and
``benchmarks/backbones/carbonate_imagen.yaml`` (imagen small). Build them first (see
README.md here). Prints parameters, training steps and minutes, sampling time per volume
and the validation figures of the same sampler setting and seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import rvegen

ROOT = Path(__file__).resolve().parents[1]
SPECS = [ROOT / "paper_cases" / "carbonate.yaml", ROOT / "backbones" / "carbonate_imagen.yaml"]


def main() -> None:
    print(f"{'backbone':14s} {'params':>8s} {'steps':>6s} {'train min':>9s} {'s/vol':>6s} "
          f"{'S2 %':>6s} {'L %':>6s} {'|dvf|':>7s} {'vol S2':>7s} {'vol L':>6s} {'real S2':>8s} "
          f"{'real L':>7s}")
    for path in SPECS:
        spec = rvegen.load_spec(path)
        run = spec.run_path
        model = rvegen.load_model(run / "model" / "model.pt")
        params = sum(p.numel() for p in model.net.parameters())
        report = json.loads((run / "report.json").read_text())
        poi = str(report["phase_of_interest"])
        e = report["ensemble"]["errors"][poi]
        floor = report["real_ensemble"]["errors"][poi]
        vol = {k: float(np.mean([v["errors"][poi][k] for v in report["volumes"]]))
               for k in ("s2", "lineal_path")}
        secs = np.median([v["seconds"] for v in report["volumes"]])
        minutes = model.meta.get("train_seconds", float("nan")) / 60
        print(f"{spec.model.backbone + ' ' + spec.model.preset:14s} {params / 1e6:7.2f}M "
              f"{model.meta['step']:6d} {minutes:9.1f} {secs:6.1f} "
              f"{e['s2']:6.2f} {e['lineal_path']:6.2f} {e['volume_fraction']:7.4f} "
              f"{vol['s2']:7.2f} {vol['lineal_path']:6.2f} {floor['s2']:8.2f} "
              f"{floor['lineal_path']:7.2f}")
    print(f"({report['ensemble']['count']} volumes each, same seeds and sampler setting; "
          f"'real': as many real samples, the floor)")


if __name__ == "__main__":
    main()
