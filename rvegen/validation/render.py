"""Off-screen 3D render of one phase of a volume (pyvista), run in a child process.

OpenGL may be missing or broken on a headless machine, and a crash there would take the
whole process with it, so :func:`render_3d` runs this module as ``python -m
rvegen.validation.render VOLUME.npy OUT.png PHASE`` and reports failure instead of
crashing. The picture is written beside its target and renamed into place (a rename
never crosses file systems).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_path


class _NoPicture(Exception):
    pass


def render_3d(labels: np.ndarray, path: Path, phase: int, timeout: float = 120) -> str | None:
    """Render ``phase`` of a (z, y, x) volume to ``path``; None on success, else why not."""
    try:
        with tempfile.TemporaryDirectory() as tmp, atomic_path(path) as out:
            vol = Path(tmp) / "volume.npy"
            np.save(vol, labels)
            try:
                run = subprocess.run(
                    [sys.executable, "-m", "rvegen.validation.render", str(vol), str(out),
                     str(phase)],
                    capture_output=True, text=True, timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                raise _NoPicture(f"3D render skipped: no picture within {timeout:.0f} s")
            if run.returncode != 0 or not out.stat().st_size:
                last = (run.stderr.strip().splitlines() or ["no OpenGL found"])[-1]
                raise _NoPicture(f"3D render skipped ({last[:160]}); install libgl1 and "
                                 "libegl1 for it")
    except _NoPicture as why:  # atomic_path has removed the unfinished file
        return str(why)
    return None


def _render(volume: Path, out: Path, phase: int) -> None:
    import pyvista

    pyvista.OFF_SCREEN = True
    labels = np.load(volume)
    nz, ny, nx = labels.shape
    grid = pyvista.ImageData(dimensions=(nx + 1, ny + 1, nz + 1))
    grid.cell_data["phase"] = (labels == phase).astype(np.uint8).ravel()
    plotter = pyvista.Plotter(off_screen=True, window_size=(800, 800))
    plotter.add_mesh(grid.threshold(0.5, scalars="phase"), color="#c8a165", show_edges=False)
    plotter.add_mesh(grid.outline(), color="black")
    plotter.add_axes()
    plotter.camera_position = "iso"
    plotter.screenshot(str(out))
    plotter.close()


if __name__ == "__main__":
    _render(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
