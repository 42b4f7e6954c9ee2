"""What a K-phase encoding does to real microstructure when the model's output is smooth.

    python benchmarks/encoding/roundtrip.py

A denoiser's clean-image prediction is never a step function: across an interface it
rises over a pixel or two. The encoding decides what that ramp decodes to. This script
encodes the real labelled 3-phase data two ways, blurs it with a Gaussian of width sigma
(the ramp; sigma 0.5-1.5 px) and decodes it:

* **one-hot** (rvegen's): K channels at -1/+1, each blurred, argmax;
* **ordinal**: one channel, phase k at -1 + 2k / (K - 1), blurred, nearest level.

Printed per dataset, encoding and sigma: the fraction of pixels whose phase changes; the
fraction of the (unchanged) 0|2 interfaces that come back with phase 1 between them
(an ordinal ramp from phase 0 to 2 must pass through phase 1's band); and the eq. 24 S2
error of each phase of the decoded image against the real one. Data: the composite
micrograph and the SOFC anode stack (slices), as rvegen ingests them. Writes
benchmarks/results/encoding_roundtrip.txt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

import rvegen
from rvegen.validation.metrics import error_rate, two_point_correlation_axis

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def one_hot(labels: np.ndarray, k: int, sigma: float) -> np.ndarray:
    channels = [ndimage.gaussian_filter(np.where(labels == p, 1.0, -1.0), sigma, axes=(-2, -1))
                for p in range(k)]
    return np.argmax(channels, axis=0).astype(np.uint8)


def ordinal(labels: np.ndarray, k: int, sigma: float) -> np.ndarray:
    x = ndimage.gaussian_filter(-1.0 + 2.0 * labels / (k - 1), sigma, axes=(-2, -1))
    return np.clip(np.rint((x + 1.0) * (k - 1) / 2.0), 0, k - 1).astype(np.uint8)


def bridged(orig: np.ndarray, decoded: np.ndarray) -> float:
    """Of the horizontally adjacent 0|2 pixel pairs, the share decoded with phase 1 on
    either side."""
    a, b = orig[..., :, :-1], orig[..., :, 1:]
    pair = ((a == 0) & (b == 2)) | ((a == 2) & (b == 0))
    if not pair.any():
        return float("nan")
    da, db = decoded[..., :, :-1], decoded[..., :, 1:]
    return float(((da == 1) | (db == 1))[pair].mean())


def s2_errors(orig: np.ndarray, decoded: np.ndarray, k: int) -> list[float]:
    out = []
    for p in range(k):
        ref = np.mean([two_point_correlation_axis(orig, p, a, 16) for a in (1, 2)], axis=0)
        got = np.mean([two_point_correlation_axis(decoded, p, a, 16) for a in (1, 2)], axis=0)
        out.append(error_rate(ref, got))
    return out


def main() -> None:
    cases = {
        "composite (2D, 256^2)": rvegen.Dataset.from_file(DATA / "composite_resized.npy",
                                                          phases=3, num_patches=1).images,
        "SOFC anode (62 xy slices)": rvegen.Dataset.from_file(DATA / "SOFC_lr_input.tif",
                                                               phases=3, num_patches=1).source,
    }
    lines = [f"{'data':28s} {'encoding':9s} {'sigma':>5s} {'changed %':>9s} "
             f"{'0|2 bridged by 1 %':>19s}   S2 error % phase 0 / 1 / 2"]
    for name, labels in cases.items():
        labels = labels.astype(np.uint8)
        fr = np.bincount(labels.ravel(), minlength=3) / labels.size
        lines.append(f"# {name}: fractions {' / '.join(f'{f:.3f}' for f in fr)}; 0|2 "
                     f"share of unlike neighbours "
                     f"{_share02(labels):.1%}")
        for sigma in (0.5, 1.0, 1.5):
            for enc, fn in (("one-hot", one_hot), ("ordinal", ordinal)):
                dec = fn(labels, 3, sigma)
                errs = s2_errors(labels, dec, 3)
                lines.append(f"{name:28s} {enc:9s} {sigma:5.1f} {100 * (dec != labels).mean():9.2f} "
                             f"{100 * bridged(labels, dec):19.1f}   "
                             + " / ".join(f"{e:5.2f}" for e in errs))
    text = "\n".join(lines)
    print(text)
    (ROOT / "benchmarks" / "results" / "encoding_roundtrip.txt").write_text(
        "# python benchmarks/encoding/roundtrip.py\n" + text + "\n")


def _share02(labels: np.ndarray) -> float:
    a, b = labels[..., :, :-1], labels[..., :, 1:]
    unlike = a != b
    return float((((a == 0) & (b == 2)) | ((a == 2) & (b == 0)))[unlike].mean())


if __name__ == "__main__":
    main()
