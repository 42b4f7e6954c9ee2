"""Figures of the validation report (matplotlib, Agg backend, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path

LABELS = {"s2": "two-point correlation S2(r)", "lineal_path": "lineal path L(z)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:  # noqa: ANN001
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)


def plot_curves(report: dict[str, Any], path: Path) -> None:
    """S2 and L(z) of every phase: reference (+- spread of real samples) against the
    generated ensemble; titles give the phase of interest's errors."""
    plt = _pyplot()
    curves = report["curves"]
    r = np.array(curves["r"])
    phases = curves["phases"]
    poi = str(report["phase_of_interest"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, name in zip(axes, LABELS):
        if name not in curves["reference"]:
            ax.axis("off")
            continue
        for i, phase in enumerate(phases):
            ref = np.array(curves["reference"][name][i])
            ref_sd = np.array(curves["reference_std"][name][i])
            gen = np.array(curves["generated_mean"][name][i])
            gen_sd = np.array(curves["generated_std"][name][i])
            line = ax.plot(r, ref, "-", lw=2, label=f"real, phase {phase}")[0]
            ax.fill_between(r, ref - ref_sd, ref + ref_sd, color=line.get_color(), alpha=0.15)
            g = ax.plot(r, gen, "--", lw=2, label=f"generated, phase {phase}")[0]
            ax.fill_between(r, gen - gen_sd, gen + gen_sd, color=g.get_color(), alpha=0.15)
        err = report["ensemble"]["errors"][poi][name]
        floor = report["real_ensemble"]["errors"][poi][name]
        ax.set_title(f"{LABELS[name]}, phase {poi}: ensemble error {err:.2f} % "
                     f"(real: {floor:.2f} %)", fontsize=9)
        ax.set_xlabel("r (voxels)")
        ax.legend(fontsize=7)
    fig.suptitle(
        f"{report['comparison']}; {report['ensemble']['count']} volumes vs "
        f"{report['reference']['samples']} real samples (bands: +-1 std)",
        fontsize=9,
    )
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_slices(volume: np.ndarray, patches: np.ndarray, path: Path, title: str = "") -> None:
    """Central xy, xz and yz slices of a volume above four training patches."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(10, 5.4))
    m = volume.shape[0] // 2
    vmax = max(int(volume.max()), int(patches.max()), 1)
    views = [("xy (z = %d)" % m, volume[m]), ("xz (y = %d)" % m, volume[:, m]),
             ("yz (x = %d)" % m, volume[:, :, m])]
    for ax, (name, img) in zip(axes[0], views):
        ax.imshow(img, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"generated {name}", fontsize=9)
    axes[0, 3].axis("off")
    idx = np.linspace(0, len(patches) - 1, 4).astype(int)
    for ax, i in zip(axes[1], idx):
        ax.imshow(patches[i], cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"training patch {i}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
