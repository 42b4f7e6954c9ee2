"""Example plugin: a mean-chord metric, a filter and a listener, through rvegen's hooks."""

import json
import os

import numpy as np

from rvegen import GenerationContext, Metric, hookimpl


def mean_chord(labels, phase, plane_axis=None, scale=1.0):
    """Mean run length of ``phase`` along the axes (in-plane axes with plane_axis)."""
    axes = [a for a in range(labels.ndim) if a != plane_axis]
    lengths = []
    for axis in axes:
        line = np.moveaxis(labels == phase, axis, -1).reshape(-1, labels.shape[axis])
        padded = np.pad(line.astype(np.int8), ((0, 0), (1, 1)))
        edges = np.diff(padded, axis=1)
        runs = np.nonzero(edges == -1)[1] - np.nonzero(edges == 1)[1]
        lengths.append(runs.mean() if len(runs) else 0.0)
    return scale * float(np.mean(lengths))


@hookimpl
def rvegen_metrics():
    return {"mean_chord": Metric(mean_chord, "scalar", "voxels")}


@hookimpl
def rvegen_on_volume_generated(volume, context: GenerationContext):
    """Clear the last z slice (phase 0 everywhere): visible in every volume."""
    out = volume.clone()
    out[:, -1] = -1.0
    return out


@hookimpl
def rvegen_on_volume_validated(name, result, labels):
    log = os.environ.get("RVEGEN_EXAMPLE_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"name": name, "accepted": result["accepted"]}) + "\n")
