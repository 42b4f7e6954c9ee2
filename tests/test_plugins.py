"""Plugins: discovery from an installed package, metrics in the gate, filters, events."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import rvegen
from rvegen.errors import UnknownImplementationError
from rvegen.plugins import build_registry

EXAMPLE = Path(__file__).parent / "plugin_example"


def test_builtins_come_through_rvegens_own_entry_point():
    reg = build_registry()
    assert reg.origin("sampler", "multiplane") == "rvegen"
    assert {"s2", "lineal_path", "euler_density", "largest_cluster"} <= set(reg.names("metric"))
    with pytest.raises(UnknownImplementationError, match="export.formats: unknown exporter 'stl'"):
        reg.get("exporter", "stl", "export.formats")
    listed = {p["plugin"]: p for p in reg.plugins()}
    assert listed["rvegen"]["provides"]["backbone"] == ["compact"]


def test_a_plugin_object_registered_in_code(tmp_path):
    """From a notebook: a plugin object passed to build_registry, no installation."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import rvegen_example
    finally:
        sys.path.remove(str(EXAMPLE))
    reg = build_registry(extra_plugins=[rvegen_example], entry_points=False)
    assert reg.origin("metric", "mean_chord") == "rvegen_example"
    x = torch.ones(1, 4, 4, 4)
    # the example filter clears the last z slice; the built-in one (no smoothing or
    # matching asked) leaves the rest
    from rvegen.spec import GenerateSpec

    ctx = rvegen.GenerationContext(0, 0, 2, [0.5, 0.5], GenerateSpec(), False)
    out = reg.filter_volume(x, ctx)
    assert float(out[0, -1].max()) == -1.0 and float(out[0, :-1].min()) == 1.0


def test_installed_plugin_adds_a_metric_to_the_gate_and_a_filter(write_spec, tmp_path):
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
           "--no-index", "--target", str(site), str(EXAMPLE)]
    subprocess.run(pip, check=True, capture_output=True)
    spec = write_spec({
        "validate": {"reference_samples": 6,
                     "metrics": ["s2", "lineal_path", "euler_density", "mean_chord"],
                     "metric_options": {"mean_chord": {"scale": 2.0}}},
        "export": {"only_accepted": False},
    })
    log = tmp_path / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(site), "RVEGEN_EXAMPLE_LOG": str(log)}
    listed = subprocess.run([sys.executable, "-m", "rvegen", "plugins"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert "example (rvegen-example 0.1.0)" in listed and "mean_chord" in listed
    subprocess.run([sys.executable, "-m", "rvegen", "build", str(spec), "-q"], env=env,
                   capture_output=True, text=True)
    run = tmp_path / "run"
    report = json.loads((run / "report.json").read_text())
    # the plugin metric is scored for every phase and is a criterion of the gate
    assert "mean_chord" in report["volumes"][0]["errors"]["1"]
    assert "mean_chord/1" in report["gate"]["thresholds"]
    assert report["metrics"]["mean_chord"] == {"kind": "scalar", "unit": "voxels"}
    # the filter ran on every volume: the last z slice is phase 0 everywhere
    vols, _ = rvegen.read_volumes(run / "volumes.h5")
    assert all(not v.labels[-1].any() and v.labels[:-1].any() for v in vols)
    # the listener heard every verdict
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["name"] for e in events] == [v.name for v in vols]
    assert [e["accepted"] for e in events] == [v["accepted"] for v in report["volumes"]]
