"""README's Python example runs as written (in a copy of the examples folder)."""

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- readme-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "examples").mkdir()
    for name in ("carbonate.npy", "quickstart_model.pt"):
        shutil.copy(ROOT / "examples" / name, tmp_path / "examples" / name)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    report, files = scope["report"], scope["files"]
    assert len(scope["volumes"]) == 2 and scope["volumes"][0].labels.shape == (32, 32, 32)
    assert report.phase_of_interest == 1 and "s2" in report.headline()
    assert 0 <= report.accepted <= 2
    assert {f.suffix for f in files} == {".vti", ".inp"} and all(f.exists() for f in files)
    assert all(f.resolve().parent == tmp_path / "runs" / "notebook" for f in files)
    assert "um" in files[1].read_text()[:3000] or "um" in files[0].read_text()[:3000]
