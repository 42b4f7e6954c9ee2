"""How far the training patches' phase fractions are from the data they were cut from.

    python benchmarks/paper_cases/patch_bias.py [CASE ...]   (default: every case)

Random crops over-weight the middle of a small image or block (a 32-pixel crop of a
64-pixel side always holds the middle, an edge pixel in one position of 33), so the
patches a model learns from can hold another fraction of the phase of interest than the
training data; fraction guidance then asks the volumes for the data's fraction (the
dataset's ``volume_fractions``). Prints both per case (run ``run.py CASE`` first, for its
dataset.h5). Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import rvegen

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import CASES  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=CASES)
    a = p.parse_args()
    print(f"{'case':10s} {'phase':>5s} {'data':>7s} {'patches':>8s} {'relative':>9s}  training data")
    for case in a.cases:
        run = rvegen.load_spec(HERE / f"{case}.yaml").run_path
        phase = int(json.loads((run / "report.json").read_text())["phase_of_interest"])
        ds = rvegen.load_dataset(run / "dataset.h5")
        data = ds.fractions[phase]
        patches = float(np.mean(ds.patches == phase))
        where = ds.meta.get("train_slice", f"source {'x'.join(map(str, ds.source.shape))}")
        print(f"{case:10s} {phase:5d} {data:7.3f} {patches:8.3f} {100 * (patches / data - 1):+8.1f} %"
              f"  {where}")


if __name__ == "__main__":
    main()
