"""Shared fixtures: a real micrograph and a tiny but complete spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def carbonate(tmp_path: Path) -> Path:
    """The carbonate micrograph shipped in examples/, copied into tmp_path."""
    dst = tmp_path / "carbonate.npy"
    shutil.copy(EXAMPLES / "carbonate.npy", dst)
    return dst


def tiny_spec_dict() -> dict:
    """A spec small enough to build end to end in seconds."""
    return {
        "run_dir": "run",
        "seed": 3,
        "data": {"source": "carbonate.npy", "patch_size": 16, "num_patches": 64},
        "model": {"preset": "tiny", "timesteps": 40},
        "train": {"steps": 6, "batch_size": 4, "checkpoint_every": 3, "warmup_steps": 2},
        "generate": {"count": 2, "steps": 8, "harmonizing_steps": 2},
        "validate": {"reference_samples": 6},
    }


@pytest.fixture
def write_spec(tmp_path: Path, carbonate: Path):
    """Write a spec (the tiny one, updated by nested overrides) and return its path."""

    def _write(overrides: dict | None = None, name: str = "spec.yaml") -> Path:
        spec = tiny_spec_dict()
        for section, values in (overrides or {}).items():
            if isinstance(values, dict) and isinstance(spec.get(section), dict):
                spec[section].update(values)
            else:
                spec[section] = values
        path = tmp_path / name
        path.write_text(yaml.safe_dump(spec))
        return path

    return _write
