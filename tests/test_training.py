import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from rvegen.data.ingest import ingest
from rvegen.diffusion.checkpoint import load_model, read_checkpoint
from rvegen.errors import CheckpointError
from rvegen.spec import load_spec
from rvegen.training import train_to_folder


def train(ds, model, cfg, out_dir, seed, fingerprint, **kwargs):
    """Train into a folder; the path of its model.pt."""
    train_to_folder(ds, model, cfg, out_dir, seed, fingerprint, **kwargs)
    return out_dir / "model.pt"


def _setup(write_spec, **train_overrides):
    spec = load_spec(write_spec({"train": train_overrides} if train_overrides else None))
    ds = ingest(spec.data, spec.resolve("."), spec.seed)
    return spec, ds


def _weights(path):
    ckpt = read_checkpoint(path)
    return ckpt["model"], ckpt["ema"]


def test_training_learns_and_writes_outputs(write_spec, tmp_path):
    spec, ds = _setup(write_spec, steps=30, batch_size=8, checkpoint_every=10)
    out = train(ds, spec.model, spec.train, tmp_path / "m", spec.seed, "fp", progress=False)
    assert out.name == "model.pt" and (tmp_path / "m" / "loss.png").exists()
    lines = (tmp_path / "m" / "loss.csv").read_text().splitlines()
    assert lines[0] == "step,loss" and len(lines) == 31
    losses = [float(line.split(",")[1]) for line in lines[1:]]
    assert sum(losses[-10:]) < sum(losses[:10])  # predicting noise gets better
    model = load_model(out, phases=2, image_size=16)
    eps = model.net(torch.zeros(2, 1, 16, 16), torch.tensor([1, 40]))
    assert eps.shape == (2, 1, 16, 16) and torch.isfinite(eps).all()


def test_resume_equals_uninterrupted(write_spec, tmp_path):
    spec, ds = _setup(write_spec, steps=6, checkpoint_every=3)
    train(ds, spec.model, spec.train, tmp_path / "a", spec.seed, "fp", progress=False)
    short = spec.train.model_copy(update={"steps": 3})
    train(ds, spec.model, short, tmp_path / "b", spec.seed, "fp", progress=False)
    assert read_checkpoint(tmp_path / "b" / "checkpoint.pt")["step"] == 3
    train(ds, spec.model, spec.train, tmp_path / "b", spec.seed, "fp", progress=False)
    for wa, wb in zip(_weights(tmp_path / "a" / "checkpoint.pt"),
                      _weights(tmp_path / "b" / "checkpoint.pt")):
        for key in wa:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-6, atol=1e-7)


def test_sigkill_then_rerun_resumes_to_the_same_weights(write_spec, tmp_path):
    path = write_spec({"train": {"steps": 150, "checkpoint_every": 5}})
    ref_path = write_spec({"train": {"steps": 150, "checkpoint_every": 5}, "run_dir": "ref"},
                          name="ref.yaml")
    cli = [sys.executable, "-m", "rvegen"]
    for p in (path, ref_path):
        subprocess.run(cli + ["ingest", str(p), "-q"], check=True, capture_output=True)
    ckpt = tmp_path / "run" / "model" / "checkpoint.pt"
    proc = subprocess.Popen(cli + ["train", str(path), "-q"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    step_at_kill = read_checkpoint(ckpt)["step"]
    assert 0 < step_at_kill < 150, "the kill came too late to test resuming"
    subprocess.run(cli + ["train", str(path), "-q"], check=True, capture_output=True)
    subprocess.run(cli + ["train", str(ref_path), "-q"], check=True, capture_output=True)
    resumed = _weights(ckpt)
    reference = _weights(tmp_path / "ref" / "model" / "checkpoint.pt")
    for wa, wb in zip(resumed, reference):
        for key in wa:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-5, atol=1e-6)


def test_checkpoint_errors(write_spec, tmp_path):
    spec, ds = _setup(write_spec, steps=1)
    out = train(ds, spec.model, spec.train, tmp_path / "m", spec.seed, "fp", progress=False)
    with pytest.raises(CheckpointError, match="trained for 2 phases but data.phases is 3"):
        load_model(out, phases=3)
    with pytest.raises(CheckpointError, match="trained on 16x16 patches"):
        load_model(out, image_size=32)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt: not a readable checkpoint"):
        load_model(bad)
    torch.save({"hello": torch.zeros(1)}, bad)
    with pytest.raises(CheckpointError, match="not an rvegen checkpoint"):
        load_model(bad)
    small = spec.model.model_copy(update={"preset": "small"})
    with pytest.raises(CheckpointError, match="train.init_from was trained with backbone"):
        train(ds, small, spec.train, tmp_path / "n", spec.seed, "fp2", init_from=out,
              progress=False)


def test_ordinal_encoding_is_one_channel_and_kept_in_the_checkpoint(tmp_path):
    import numpy as np

    import rvegen

    image = np.zeros((48, 48), np.uint8)
    image[:, 16:32], image[:, 32:] = 1, 2
    ds = rvegen.Dataset.from_array(image, phases=3, patch_size=16, num_patches=16)
    spec = rvegen.Spec.model_validate({"data": {"source": "x", "phases": 3},
                                       "model": {"preset": "tiny", "timesteps": 40,
                                                 "encoding": "ordinal"},
                                       "train": {"steps": 2, "batch_size": 4}})
    out = train(ds, spec.model, spec.train, tmp_path / "o", 0, "fp", progress=False)
    model = load_model(out)
    assert model.encoding == "ordinal" and model.channels == 1
    assert read_checkpoint(out)["backbone_config"]["channels"] == 1
    volumes = rvegen.sample_volumes(model, 1, {"size": 16, "steps": 3}, ds.fractions)
    counts = np.bincount(volumes[0].labels.ravel(), minlength=3) / 16**3
    np.testing.assert_allclose(counts, ds.fractions, atol=0.01)  # fraction guidance
    # a one-hot run cannot start from it (the backbone's channels differ first)
    one_hot = spec.model.model_copy(update={"encoding": "one_hot"})
    with pytest.raises(CheckpointError, match="train.init_from"):
        train(ds, one_hot, spec.train, tmp_path / "h", 0, "fp2", init_from=out, progress=False)
