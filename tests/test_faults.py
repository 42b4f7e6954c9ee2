"""Faults around the run folder: another file system, two builds at once, a killed export."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rvegen.cli import app


def test_run_folder_on_another_file_system(write_spec, tmp_path):
    """Temporary files are written beside their target: no rename across devices."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system (/dev/shm) to put the run folder on")
    run = Path(tempfile.mkdtemp(prefix="rvegen-test-", dir=shm))
    try:
        spec = write_spec({"run_dir": str(run), "export": {"only_accepted": False}})
        result = CliRunner().invoke(app, ["build", str(spec), "-q"])
        assert result.exit_code in (0, 1), result.output  # 1: no volume passed the gate
        assert (run / "report.json").is_file() and (run / "plots" / "curves.png").is_file()
        assert (run / "export").is_dir() and not list(run.glob(".export.*"))
    finally:
        shutil.rmtree(run, ignore_errors=True)


HOLD = """
import sys, time
from pathlib import Path
from rvegen.pipeline import RunDir, locked
with locked(RunDir(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_build_on_the_same_run_folder_is_refused(write_spec, tmp_path):
    spec = write_spec()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(app, ["build", str(spec), "-q"])
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"error: {tmp_path / 'run'}: another rvegen run (PID {holder.pid}) is using this "
            "run folder; wait for it to finish or use another run_dir")
        assert not (tmp_path / "run" / "dataset.h5").exists()
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its holder: the next build runs
    assert CliRunner().invoke(app, ["ingest", str(spec), "-q"]).exit_code == 0


def test_leftovers_of_a_killed_export_are_removed(write_spec, tmp_path):
    spec = write_spec({"export": {"only_accepted": False}})
    assert CliRunner().invoke(app, ["build", str(spec), "-q"]).exit_code == 0
    run = tmp_path / "run"
    # what SIGKILL in the middle of an export leaves: a temporary folder and temp files
    stale = run / ".export.k1ll3d"
    stale.mkdir()
    (stale / "volume_000.vti").write_bytes(b"\0" * 1000)
    (run / ".report.abc.tmp.json").write_text("{")
    edited = yaml.safe_load(spec.read_text())
    edited["export"]["formats"] = ["vti"]
    spec.write_text(yaml.safe_dump(edited))
    assert CliRunner().invoke(app, ["export", str(spec), "-q"]).exit_code == 0
    assert not stale.exists() and not (run / ".report.abc.tmp.json").exists()
    assert sorted(p.name for p in (run / "export").iterdir()) == ["volume_000.vti",
                                                                  "volume_001.vti"]


def test_sigkill_during_export_leaves_nothing_after_the_rerun(write_spec, tmp_path):
    spec = write_spec({"export": {"only_accepted": False, "formats": ["vtu", "abaqus"]},
                       "generate": {"count": 2, "size": 32}, "validate": {"reference_samples": 4}})
    assert CliRunner().invoke(app, ["build", str(spec), "-q"]).exit_code == 0
    run = tmp_path / "run"
    shutil.rmtree(run / "export")
    (run / "state.json").write_text("{}")  # every stage is out of date; export reruns
    proc = subprocess.Popen([sys.executable, "-m", "rvegen", "export", str(spec), "-q"],
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list(run.glob(".export.*")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    assert list(run.glob(".export.*")), "the kill came too late to leave a half export"
    assert CliRunner().invoke(app, ["export", str(spec), "-q"]).exit_code == 0
    assert not list(run.glob(".export.*")) and not list(run.rglob(".*.tmp*"))
    assert len(list((run / "export").iterdir())) == 4


def test_a_damaged_output_is_rebuilt_not_trusted(write_spec, tmp_path):
    spec = write_spec({"export": {"only_accepted": False}})
    assert CliRunner().invoke(app, ["build", str(spec), "-q"]).exit_code == 0
    dataset = tmp_path / "run" / "dataset.h5"
    dataset.write_bytes(dataset.read_bytes()[:200])  # truncated: unreadable
    result = CliRunner().invoke(app, ["ingest", str(spec), "-q"])
    assert result.exit_code == 0 and "up to date" not in result.stderr
    assert "ingest: image" in result.stderr


def test_output_hygiene(write_spec, tmp_path):
    """Files follow the umask, logs get plain lines (no bars), the schema goes to stdout."""
    old = os.umask(0o022)
    try:
        spec = write_spec({"export": {"only_accepted": False}})
        result = CliRunner().invoke(app, ["build", str(spec)])  # progress on, not a TTY
    finally:
        os.umask(old)
    assert result.exit_code == 0
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr
    assert "volumes: 2/2 vol (100 %)" in result.stderr and "train: 6/6 step" in result.stderr
    assert "generate: 2 volume(s) of 16^3" in result.stderr  # a closing summary per stage
    run = tmp_path / "run"
    for path in [run / "report.json", run / "dataset.h5", run / "model" / "model.pt",
                 run / "export" / "volume_000.vti"]:
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert (run / "export").stat().st_mode & 0o777 == 0o755
    schema = CliRunner().invoke(app, ["schema"])
    assert schema.exit_code == 0 and '"title": "rvegen build spec"' in schema.stdout
    assert not (tmp_path / "schemas").exists()
