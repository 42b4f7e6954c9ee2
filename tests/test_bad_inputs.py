"""A corpus of bad inputs and faults: each one is answered by one line naming the field or
file, exit code 2, no traceback, before any training, with nothing half-written and
nothing written outside the run folder."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from rvegen.cli import app


def _spec(tmp_path: Path, **sections) -> dict:
    spec = {
        "run_dir": "run", "seed": 3,
        "data": {"source": "carbonate.npy", "patch_size": 16, "num_patches": 64},
        "model": {"preset": "tiny", "timesteps": 40},
        "train": {"steps": 6, "batch_size": 4},
        "generate": {"count": 1, "steps": 4},
        "validate": {"reference_samples": 6},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return spec


def _write(tmp_path: Path, spec: dict | str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    return path


def _evil_checkpoint(path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    torch.save({"format": "rvegen-checkpoint-v1", "x": Evil()}, path)


def _zip(path: Path, name: str, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, payload)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


# name -> (setup(tmp_path) -> spec path, fragments expected in the one error line)
CASES = {
    "unknown field": (lambda t: _write(t, _spec(t, generate={"stepz": 4})),
                      ["generate.stepz: unknown field"]),
    "bad value": (lambda t: _write(t, _spec(t, generate={"harmonizing_steps": 0})),
                  ["generate.harmonizing_steps: must be >= 1 or one of 'auto' (got 0)"]),
    "not yaml": (lambda t: _write(t, "data: [unclosed"), ["spec.yaml: not valid YAML"]),
    "not a mapping": (lambda t: _write(t, "- a\n- b\n"), ["must be a YAML mapping"]),
    "alias bomb": (lambda t: _write(t, "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg"))
        + "seed: *g\ndata: {source: carbonate.npy}\n"), ["expands to more than"]),
    "deep nesting": (lambda t: _write(t, "seed: " + "[" * 3000 + "]" * 3000),
                     ["nested too deeply"]),
    "missing spec": (lambda t: t / "nothing.yaml", ["nothing.yaml: spec file not found"]),
    "missing data": (lambda t: _write(t, _spec(t, data={"source": "nope.npy"})),
                     ["nope.npy: data.source file not found"]),
    "corrupt npy": (lambda t: ((t / "bad.npy").write_bytes(b"\x93NUMPY garbage"),
                               _write(t, _spec(t, data={"source": "bad.npy"})))[1],
                    ["bad.npy: not a readable numpy file"]),
    "pickled npy": (lambda t: (np.save(t / "obj.npy", np.array([{"a": 1}], dtype=object),
                                       allow_pickle=True),
                               _write(t, _spec(t, data={"source": "obj.npy"})))[1],
                    ["obj.npy: not a readable numpy file"]),
    "corrupt tiff": (lambda t: ((t / "bad.tif").write_bytes(b"II*\x00garbage"),
                                _write(t, _spec(t, data={"source": "bad.tif"})))[1],
                     ["bad.tif: not a readable TIFF file"]),
    "zip member type": (lambda t: (_zip(t / "d.zip", "notes.txt", b"hello"),
                                   _write(t, _spec(t, data={"source": "d.zip",
                                                            "member": "notes.txt"})))[1],
                        ["d.zip: member 'notes.txt' has an unsupported type '.txt'"]),
    "folder reader on a file": (lambda t: _write(t, _spec(t, data={"reader": "folder"})),
                                ["carbonate.npy: data.reader 'folder' needs a folder"]),
    "raw negative shape": (lambda t: _write(t, _spec(t, data={
        "source": "v.raw", "raw": {"shape": [-4, 16, 16]}})), ["data.raw.shape.0: must be >= 1"]),
    "raw wrong size": (lambda t: ((t / "v.raw").write_bytes(b"\x00" * 100),
                                  _write(t, _spec(t, data={"source": "v.raw",
                                                           "raw": {"shape": [4, 16, 16]}})))[1],
                       ["v.raw: 100 bytes after the header"]),
    "device file": (lambda t: _write(t, _spec(t, data={"source": "/dev/zero"})),
                    ["/dev/zero: data.source must be a regular file or a folder"]),
    "unknown exporter": (lambda t: _write(t, _spec(t, export={"formats": ["stl"]})),
                         ["export.formats: unknown exporter 'stl'"]),
    "unknown metric": (lambda t: _write(t, _spec(t, validate={"metrics": ["s3"]})),
                       ["validate.metrics: unknown metric 's3'"]),
    "meta device": (lambda t: _write(t, _spec(t, train={"device": "meta"})),
                    ["train.device: unknown device 'meta'"]),
    "count 1e9": (lambda t: _write(t, _spec(t, generate={"count": 1_000_000_000})),
                  ["generate.count: must be <= 1000000"]),
    "huge volumes": (lambda t: _write(t, _spec(t, generate={"size": 2048})),
                     ["generate.size 2048", "GiB of memory"]),
    "seed 2**70": (lambda t: _write(t, _spec(t, seed=2**70)), ["seed: must be <= 4294967295"]),
    "newline in phase name": (lambda t: _write(t, _spec(t, export={
        "phase_names": ["matrix\n*INCLUDE, INPUT=/etc/passwd", "pore"]})),
        ["export.phase_names.0: must be an identifier"]),
    "comma in phase name": (lambda t: _write(t, _spec(t, export={"phase_names": ["a,b", "c"]})),
                            ["export.phase_names.0: must be an identifier"]),
    "newline in unit": (lambda t: _write(t, _spec(t, data={"unit": "um\n*BOUNDARY"})),
                        ["data.unit: must be a unit of letters only"]),
    "newline in solver": (lambda t: _write(t, _spec(t, export={
        "solver": "SPOOLES\n*INCLUDE, INPUT=x"})), ["export.solver: must be one of"]),
    "infinite voxel size": (lambda t: _write(t, "run_dir: run\ndata: {source: carbonate.npy,"
                                                " voxel_size: .inf}\n"),
                            ["data.voxel_size: must be a finite number"]),
    "run_dir is a file": (lambda t: ((t / "afile").write_text("x"),
                                     _write(t, _spec(t, run_dir="afile")))[1],
                          ["afile: run_dir is a file, not a folder"]),
    "malicious checkpoint": (lambda t: (_evil_checkpoint(t / "evil.pt"),
                                        _write(t, _spec(t, train={"init_from": "evil.pt"})))[1],
                             ["evil.pt: refused", "would run code"]),
    "checkpoint missing keys": (lambda t: (torch.save({"format": "rvegen-checkpoint-v1"},
                                                      t / "thin.pt"),
                                           _write(t, _spec(t, train={"init_from": "thin.pt"})))[1],
                                ["thin.pt: damaged rvegen checkpoint (missing"]),
}


@pytest.fixture
def workdir(tmp_path, carbonate, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_2(case, workdir):
    setup, fragments = CASES[case]
    if case == "device file" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    spec = setup(workdir)
    before = _files(workdir)
    result = CliRunner().invoke(app, ["build", str(spec), "-q"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert len(lines[0]) < 700
    # nothing trained, nothing half-written, nothing outside the run folder
    run = workdir / "run"
    assert not (run / "model").exists()
    new = _files(workdir) - before
    assert all(run in p.parents for p in new), new
    assert not [p for p in new if ".tmp" in p.name or p.name.startswith(".export.")]


def test_disk_full_is_named(workdir, monkeypatch):
    import rvegen.data.dataset as dataset

    def full(ds, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(dataset, "save_dataset", full)
    import rvegen.pipeline as pipeline

    monkeypatch.setattr(pipeline, "save_dataset", full)
    result = CliRunner().invoke(app, ["build", str(_write(workdir, _spec(workdir))), "-q"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: no space left on the device of {workdir / 'run' / 'dataset.h5'}; free some "
        "space and rerun")


def test_zip_bomb_is_refused_before_unpacking(workdir, monkeypatch):
    import rvegen.resources as resources

    _zip(workdir / "bomb.zip", "big.npy", _npy_bytes(np.zeros((256, 256, 256), np.uint8)))
    # enough for the tiny spec (about 9 MB), not for unpacking 16.8 MB twice
    monkeypatch.setattr(resources, "available_memory", lambda: 12_000_000)
    spec = _write(workdir, _spec(workdir, data={"source": "bomb.zip"}))
    result = CliRunner().invoke(app, ["build", str(spec), "-q"])
    assert result.exit_code == 2
    assert "bomb.zip: member 'big.npy' unpacks to 16,777,344 bytes" in result.stderr


def test_missing_solver_stops_a_build_but_not_the_stages_before_it(workdir, monkeypatch):
    # CalculiX absent: `build` refuses before training, `ingest` alone still runs
    monkeypatch.setenv("PATH", str(workdir))
    materials = [{"youngs_modulus": 1.0, "poissons_ratio": 0.3}] * 2
    spec = _write(workdir, _spec(workdir, export={"materials": materials},
                                 homogenize={"max_volumes": 1}))
    result = CliRunner().invoke(app, ["build", str(spec), "-q"])
    assert result.exit_code == 2 and "homogenize.solver calculix" in result.stderr
    assert not (workdir / "run" / "dataset.h5").exists()
    result = CliRunner().invoke(app, ["ingest", str(spec), "-q"])
    assert result.exit_code == 0, result.output
    assert (workdir / "run" / "dataset.h5").exists()
    result = CliRunner().invoke(app, ["homogenize", str(spec), "-q"])
    assert result.exit_code == 2 and "homogenize.solver calculix" in result.stderr
