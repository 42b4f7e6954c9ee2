"""Sampler settings side by side on one trained model: cost, fidelity, shape, and a
reference-free score.

    python benchmarks/sampler/sweep.py RUN_DIR [--model PATH] [--count 16]
        [--settings NAME ...] [--counts NAME=N,...] [--out FILE.jsonl]
        [--reference auto|training|fresh --spec CASE.yaml]

RUN_DIR holds dataset.h5 and model/model.pt (``rvegen ingest SPEC && rvegen train SPEC``).
Every setting samples the same seeds. Columns: network evaluations and seconds per
volume; ensemble-mean S2 / L(z) errors of the phase of interest against the real data
(and the real floor); Euler density and largest-cluster fraction (generated / real); and
``self``: the same S2 / L(z) / Euler errors of the volumes' slices against **the model's own
2D samples** (no real data involved), drawn with fraction guidance on each group of m
images as the volumes are (``--self-target unguided``: the plain 2D samples, the rule of
sessions 3-6, whose fraction bias hid the gain of harmonizing). ``self`` is how settings
are chosen: a setting whose slices look like what the 2D model draws by itself is one
that the 3D coupling does not spoil, and choosing by it cannot leak the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from rvegen.validation.report import self_headline  # noqa: E402
from fidelity import score  # noqa: E402

PAPER = {"preset": "paper"}
RVEGEN: dict[str, Any] = {}

#: name -> generate-section fields (the spec's `generate` keys)
SETTINGS: dict[str, dict[str, Any]] = {
    "rvegen s100": {**RVEGEN},
    "rvegen s50": {**RVEGEN, "steps": 50},
    "rvegen s200": {**RVEGEN, "steps": 200},
    "rvegen s100 nh2": {**RVEGEN, "harmonizing_steps": 2},
    "rvegen s100 nh5": {**RVEGEN, "harmonizing_steps": 5},
    "rvegen s100 nh10": {**RVEGEN, "harmonizing_steps": 10},
    "rvegen s100 pool0": {**RVEGEN, "pool_sigma": 0.0},
    "rvegen s100 pool1": {**RVEGEN, "pool_sigma": 1.0},
    "rvegen s100 pool1.5": {**RVEGEN, "pool_sigma": 1.5},
    "rvegen s100 pool3": {**RVEGEN, "pool_sigma": 3.0},
    "rvegen s100 random order": {**RVEGEN, "plane_order": "random"},
    "rvegen s100 block2": {**RVEGEN, "plane_block": 2},
    "rvegen s100 block4": {**RVEGEN, "plane_block": 4},
    "rvegen s100 block8": {**RVEGEN, "plane_block": 8},
    "rvegen s100 pool1 block4": {**RVEGEN, "pool_sigma": 1.0, "plane_block": 4},
    "rvegen s100 nh2 pool-first": {**RVEGEN, "harmonizing_steps": 2, "pool_repeats": False},
    "rvegen s100 nh5 pool-first": {**RVEGEN, "harmonizing_steps": 5, "pool_repeats": False},
    "rvegen s100 pool1.5 nh5 pool-first": {**RVEGEN, "harmonizing_steps": 5, "pool_sigma": 1.5,
                                           "pool_repeats": False},
    "rvegen s50 nh2 pool-first": {**RVEGEN, "steps": 50, "harmonizing_steps": 2,
                                  "pool_repeats": False},
    "rvegen s20 nh5 pool-first": {**RVEGEN, "steps": 20, "harmonizing_steps": 5,
                                  "pool_repeats": False},
    "rvegen s20 nh5 pool1 pool-first": {**RVEGEN, "steps": 20, "harmonizing_steps": 5,
                                        "pool_sigma": 1.0, "pool_repeats": False},
    "rvegen s100 nh5 pool1 pool-first": {**RVEGEN, "harmonizing_steps": 5, "pool_sigma": 1.0,
                                         "pool_repeats": False},
    "rvegen s100 no guidance": {**RVEGEN, "fraction_guidance": False},
    # session 8: three planes per step (fusion) at equal and at 3x the evaluations, and
    # each plane as often first as last (palindrome): isotropy of the coupling
    "rvegen s100 palindrome": {**RVEGEN, "plane_order": "palindrome"},
    "rvegen s33 fusion": {**RVEGEN, "steps": 33, "fusion": True},
    "rvegen s100 fusion": {**RVEGEN, "fusion": True},
    "rvegen s100 pool1.5 palindrome": {**RVEGEN, "pool_sigma": 1.5, "plane_order": "palindrome"},
    "rvegen s33 pool1.5 fusion": {**RVEGEN, "steps": 33, "pool_sigma": 1.5, "fusion": True},
    "rvegen s100 pool1.5 fusion": {**RVEGEN, "pool_sigma": 1.5, "fusion": True},
    # pooling that fades sooner (sigma = pool_sigma min(1, r / taper); default taper 0.8)
    "rvegen s100 taper2": {**RVEGEN, "pool_taper": 2.0},
    "rvegen s100 taper5": {**RVEGEN, "pool_taper": 5.0},
    "rvegen s100 pool1.5 taper2": {**RVEGEN, "pool_sigma": 1.5, "pool_taper": 2.0},
    "rvegen s100 pool1.5 taper5": {**RVEGEN, "pool_sigma": 1.5, "pool_taper": 5.0},
    "rvegen s100 pool1 taper2": {**RVEGEN, "pool_sigma": 1.0, "pool_taper": 2.0},
    "rvegen T1000": {**RVEGEN, "steps": 1000},
    "paper s100 nh1": {**PAPER, "steps": 100, "harmonizing_steps": 1},
    "paper s100 nh2": {**PAPER, "steps": 100, "harmonizing_steps": 2},
    "paper s100 nh5": {**PAPER, "steps": 100, "harmonizing_steps": 5},
    "paper s100 nh10": {**PAPER, "steps": 100, "harmonizing_steps": 10},
    "paper s100 nh1 guided": {**PAPER, "steps": 100, "harmonizing_steps": 1,
                              "fraction_guidance": True},
    "paper s100 nh5 guided": {**PAPER, "steps": 100, "harmonizing_steps": 5,
                              "fraction_guidance": True},
    "paper s100 vf s1.5 (session 2)": {**PAPER, "steps": 100, "harmonizing_steps": 1,
                                       "match_volume_fraction": True, "smooth_sigma": 1.5},
    "rvegen T1000 nh2": {**RVEGEN, "steps": 1000, "harmonizing_steps": 2},
    "paper T1000 nh1": {**PAPER, "harmonizing_steps": 1},
    "paper T1000 nh2": {**PAPER, "harmonizing_steps": 2},
    "paper T1000 nh5": {**PAPER, "harmonizing_steps": 5},
    "paper T1000 nh10 (faithful)": {**PAPER},
    # session 10: the T = 1000 sweep with the drain stopped (fraction guidance, no pooling)
    # and rvegen's harmonized sampler at full length
    "paper T1000 nh1 guided": {**PAPER, "harmonizing_steps": 1, "fraction_guidance": True},
    "paper T1000 nh5 guided": {**PAPER, "harmonizing_steps": 5, "fraction_guidance": True},
    "paper T1000 nh10 guided": {**PAPER, "fraction_guidance": True},
    "rvegen T1000 nh5 pool-first": {**RVEGEN, "steps": 1000, "harmonizing_steps": 5,
                                    "pool_repeats": False},
    # session 11: guided harmonizing without pooling, from the data's mean (the spheres
    # lead of session 10 with rvegen's start)
    "rvegen s100 pool0 nh5": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5},
    # session 12: the same with each plane as often first as last, with the paper's n_h 10,
    # and at twice the steps (where its remaining L(z) error, along z, lives)
    "rvegen s100 pool0 nh5 palindrome": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5,
                                         "plane_order": "palindrome"},
    "rvegen s100 pool0 nh10": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 10},
    "rvegen s200 pool0 nh5": {**RVEGEN, "steps": 200, "pool_sigma": 0.0,
                              "harmonizing_steps": 5},
    # the next plane at every harmonizing repeat (item 4's "across all three planes
    # within a step"): n_h 3 visits each plane once per step
    # n_h between 1 and 5: harmonizing lengthens the chords step by step (stack_rule.py)
    "rvegen s100 pool0 nh3": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 3},
    "rvegen s100 pool0 nh8": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 8},
    **{f"rvegen s100 nh{n} pool1 pool-first": {**RVEGEN, "harmonizing_steps": n, "pool_sigma": 1.0,
                                               "pool_repeats": False} for n in (3, 8, 10)},
    "rvegen s100 pool0 nh3 across": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 3,
                                     "harmonize_across_planes": True},
    "rvegen s100 pool0 nh5 across": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5,
                                     "harmonize_across_planes": True},
    # session 17: where the spheres' inclusions merge (merging.py): DDIM steps, which add
    # no fresh noise at eta 0, and the random plane order, without pooling
    "rvegen s100 pool0 nh5 ddim0": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5,
                                    "method": "ddim", "eta": 0.0},
    "rvegen s100 pool0 ddim0": {**RVEGEN, "pool_sigma": 0.0, "method": "ddim", "eta": 0.0},
    **{f"rvegen s100 pool0 nh5 ddim{eta}": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5,
                                            "method": "ddim", "eta": eta} for eta in (0.5, 0.8, 1.0)},
    # NMC's own choice (pooling 1 on each step's first pass, n_h 8) with DDIM steps
    **{f"rvegen s100 nh8 pool1 pool-first ddim{eta}": {
        **RVEGEN, "harmonizing_steps": 8, "pool_sigma": 1.0, "pool_repeats": False,
        "method": "ddim", "eta": eta} for eta in (0.8, 1.0)},
    **{f"rvegen s100 pool0 nh3 ddim{eta}": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 3,
                                            "method": "ddim", "eta": eta} for eta in (0.0, 0.5)},
    "rvegen s100 pool0 nh5 random order": {**RVEGEN, "pool_sigma": 0.0, "harmonizing_steps": 5,
                                           "plane_order": "random"},
}


def self_score(volumes: list[rvegen.Volume], images: Any, phases: int) -> dict[str, float]:
    """Errors of the volumes' slices against the model's own 2D samples (per plane)."""
    h = self_headline(volumes, images, phases)
    return {"self_s2": h["s2"], "self_lp": h["lineal_path"],
            "self_euler": h["euler_density"], "self_cluster": h["largest_cluster"]}


def run_setting(name: str, fields: dict[str, Any], model: rvegen.Model,
                ds: rvegen.Dataset, count: int, seed: int,
                ceilings: dict[int, Any], targets: dict[int, Any] | None = None,
                reference: str = "auto") -> dict[str, Any]:
    """One row; ``ceilings`` / ``targets`` keep the model's own unguided / guided 2D
    samples per step count (``targets`` None: the self score uses the unguided ones)."""
    steps = rvegen.Spec.model_validate(
        {"data": {"source": "x"}, "generate": fields}).generate.steps
    row, volumes, images = score(model, ds, fields, count, seed, images=ceilings.get(steps),
                                 details=True, validate={"reference": reference})
    ceilings[steps] = images  # the model's own 2D samples at this step count
    target = images
    if targets is not None:
        if steps not in targets:
            targets[steps] = rvegen.sample_images(model, len(images), fields, ds.fractions,
                                                  seed, guided=True)
        target = targets[steps]
    row.update(setting=name, per_axis=row["per_axis"]["generated"],
               **self_score(volumes, target, model.phases))
    v, c = volumes[0].labels, volumes[0].labels.shape[0] // 2
    row["_slices"] = [v[c], v[:, c], v[:, :, c]]
    row["_images"] = list(images[:3])
    return row


def panels(rows: list[dict[str, Any]], ds: rvegen.Dataset, path: Path) -> None:
    """Per setting: the xy, xz, yz central slices of its first volume; first row the
    training patches, last row the model's own 2D samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = [("training patches", list(ds.patches[:3]))]
    grid += [(r["setting"], r["_slices"]) for r in rows]
    grid += [("model's own 2D samples", rows[0]["_images"])]
    fig, axes = plt.subplots(len(grid), 3, figsize=(4.5, 1.6 * len(grid)), squeeze=False)
    for (title, images), row in zip(grid, axes):
        for ax, img in zip(row, images):
            ax.imshow(img, cmap="gray", vmin=0, vmax=ds.phases - 1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(title, fontsize=6, rotation=0, ha="right", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def header() -> str:
    return (f"{'setting':32s} {'n':>3s} {'evals':>7s} {'s/vol':>6s} {'S2 %':>6s} {'L %':>6s} "
            f"{'|dvf|':>6s} {'euler (real range)':>21s} {'cluster (real range)':>22s} "
            f"{'self S2/L/euler':>18s} {'acc':>4s}")


def line(r: dict[str, Any]) -> str:
    return (f"{r['setting']:32s} {r['count']:3d} {r['evaluations']:7d} {r['s_per_volume']:6.1f} "
            f"{r['s2']:6.2f} {r['lp']:6.2f} {r['dvf']:6.3f} "
            f"{r['euler']:6.2f} ({r['real_euler'][0]:5.2f}-{r['real_euler'][1]:5.2f}) "
            f"{r['cluster']:6.3f} ({r['real_cluster'][0]:5.3f}-{r['real_cluster'][1]:5.3f}) "
            f"{r['self_s2']:5.1f}/{r['self_lp']:5.1f}/{r['self_euler']:5.2f} {r['accepted']:4d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", nargs="*", default=None, help=", ".join(SETTINGS))
    parser.add_argument("--counts", default="", help="per-setting counts, NAME=N,...")
    parser.add_argument("--out", type=Path, default=None, help="append rows as JSON lines")
    parser.add_argument("--panels", type=Path, default=None, help="slice panels (PNG)")
    parser.add_argument("--reference", choices=["auto", "training", "fresh"], default="auto",
                        help="the real data scored against (validate.reference): 'auto' the "
                        "held-out part of a stack; 'fresh' a new realization of a synthetic "
                        "source (needs --spec)")
    parser.add_argument("--spec", type=Path, default=None,
                        help="the case spec whose data section makes the fresh realization")
    parser.add_argument("--self-target", choices=["guided", "unguided"], default="guided",
                        help="the 2D samples the self score compares with")
    args = parser.parse_args()
    ds = rvegen.load_dataset(args.run_dir / "dataset.h5")
    if args.reference == "fresh":
        if args.spec is None:
            parser.error("--reference fresh needs --spec (the synthetic data section)")
        from rvegen.pipeline import reference_dataset

        spec = rvegen.load_spec(args.spec).model_copy(deep=True)
        spec.validate_.reference = "fresh"
        ds = reference_dataset(spec, ds)
    model = rvegen.load_model(args.model or args.run_dir / "model" / "model.pt")
    counts = dict(item.rsplit("=", 1) for item in args.counts.split(",") if item)
    print(f"{args.run_dir}: {ds.kind} data, model {args.model or 'model/model.pt'} "
          f"({model.meta.get('step')} steps); reference {args.reference}; floor S2/L for "
          f"{args.count} volumes is in the rows")
    print(header())
    ceilings: dict[int, Any] = {}
    targets: dict[int, Any] | None = {} if args.self_target == "guided" else None
    rows = []
    for name in args.settings or list(SETTINGS):
        row = run_setting(name, SETTINGS[name], model, ds, int(counts.get(name, args.count)),
                          args.seed, ceilings, targets, args.reference)
        rows.append(row)
        print(line(row), flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(json.dumps({k: v for k, v in row.items() if not k.startswith("_")},
                                    default=float) + "\n")
    if args.panels:
        panels(rows, ds, args.panels)


if __name__ == "__main__":
    main()
