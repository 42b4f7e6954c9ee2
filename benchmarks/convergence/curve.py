"""Fidelity against training steps: every snapshot of a run scored by benchmarks/fidelity.py.

    python benchmarks/convergence/curve.py SPEC [--count 16] [--out FILE]
    python benchmarks/convergence/curve.py --table FILE.jsonl     # a markdown table of rows
    python benchmarks/convergence/curve.py SPEC --generate '{"pool_sigma": 1.0}'  # another sampler

SPEC is one of the specs here, trained with ``rvegen ingest SPEC && rvegen train SPEC``
(it keeps the EMA weights at each of ``train.snapshot_steps``). For each snapshot: the
3D ensemble errors, the real floor, the 2D ceiling and the morphology (rvegen's default
sampler, or the spec's generate section with ``--generate`` on top: e.g. a paper case's
own choice), with the cumulative training CPU minutes the snapshot carries.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pydantic
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from fidelity import HEADER, line, score  # noqa: E402


def table(path: Path) -> str:
    """The rows of a JSON-lines file written by ``--out``, as a markdown table."""
    rows = sorted((json.loads(line) for line in path.read_text().splitlines() if line.strip()),
                  key=lambda r: r["steps"])
    out = ["| steps | minutes | S2 % | L % | floor S2 / L | 2D ceiling S2 / L "
           "| Euler gen (real) | cluster gen (real) | accepted |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['steps']} | {r['train_minutes']:.0f} | {r['s2']:.2f} | {r['lp']:.2f} "
            f"| {r['floor_s2']:.2f} / {r['floor_lp']:.2f} | {r['ceil_s2']:.2f} / {r['ceil_lp']:.2f} "
            f"| {r['gen']['euler']:.2f} ({r['real']['euler']:.2f}) "
            f"| {r['gen']['cluster']:.3f} ({r['real']['cluster']:.3f}) | {r['accepted']}/{r['count']} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path, nargs="?")
    parser.add_argument("--table", type=Path, default=None,
                        help="print the rows of this JSON-lines file as markdown and stop")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--steps", type=int, nargs="*", default=None,
                        help="only these snapshots")
    parser.add_argument("--out", type=Path, default=None, help="append rows as JSON lines")
    parser.add_argument("--generate", type=json.loads, default={},
                        help="JSON object of generate fields over the spec's (kept in each row)")
    args = parser.parse_args()
    if args.table is not None:
        print(table(args.table))
        return
    if args.spec is None:
        parser.error("give a SPEC (or --table FILE)")
    spec = rvegen.load_spec(args.spec)
    if not isinstance(args.generate, dict):
        parser.error("--generate: give a JSON object of generate fields")
    # Through the spec's own model, so a misspelt field or a bad value is one line, exit 2.
    try:
        generate = type(spec.generate).model_validate(
            {**spec.generate.model_dump(), **args.generate}).model_dump(exclude={"count"})
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        parser.error(f"--generate: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    run = spec.run_path
    ds = rvegen.load_dataset(run / "dataset.h5")
    snaps = sorted((run / "model" / "snapshots").glob("model_*.pt"),
                   key=lambda p: int(p.stem.split("_")[1]))
    print(f"{args.spec.name}: {ds.kind} data, {len(snaps)} snapshots, {args.count} volumes "
          f"each, {torch.get_num_threads()} thread(s)")
    print(f"{'steps':>6s} {'CPU min':>8s} " + HEADER)
    for path in snaps:
        step = int(path.stem.split("_")[1])
        if args.steps and step not in args.steps:
            continue
        model = rvegen.load_model(path)
        minutes = model.meta.get("train_seconds", float("nan")) / 60
        row = score(model, ds, generate, args.count, spec.seed)
        row.update(steps=step, train_minutes=minutes, spec=str(args.spec),
                   generate_override=args.generate)
        label = "override" if args.generate else "rvegen default"
        print(f"{step:6d} {minutes:8.1f} " + line(label, row), flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row, default=float) + "\n")


if __name__ == "__main__":
    main()
