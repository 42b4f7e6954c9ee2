"""The imagen backbone: offline import, registry entry point, Table A1 preset, rvegen build."""

import os
import subprocess
import sys

import h5py
import pytest
import torch
import yaml

from rvegen.pipeline import build
from rvegen.plugins import registry
from rvegen.spec import load_spec
from rvegen_imagen import ImagenDenoiser


def test_imports_without_network():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    code = "from rvegen_imagen import import_unet; print(import_unet().__name__)"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "Unet"


def test_registered_through_the_entry_point():
    reg = registry()
    assert reg.get("backbone", "imagen") is ImagenDenoiser
    assert reg.origin("backbone", "imagen") == "imagen"
    listed = {p["plugin"]: p for p in reg.plugins()}
    assert listed["imagen"]["origin"].startswith("rvegen-imagen ")
    assert listed["imagen"]["provides"] == {"backbone": ["imagen"]}


def test_paper_preset_forward_and_backward():
    net = ImagenDenoiser.from_spec(1, "paper", {}, timesteps=1000)
    params = sum(p.numel() for p in net.parameters())
    assert params > 100e6  # Table A1 is a large network (about 200 M parameters here)
    x = torch.randn(1, 1, 64, 64)
    eps = net(x, torch.tensor([500]))
    assert eps.shape == x.shape
    eps.pow(2).mean().backward()
    with_grad = sum(p.numel() for p in net.parameters() if p.grad is not None)
    assert with_grad > 0.95 * params  # imagen keeps a few unused (text) layers


def test_rebuilds_from_its_config():
    net = ImagenDenoiser.from_spec(1, "small", {"dim": 16})
    again = ImagenDenoiser(**net.config)
    again.load_state_dict(net.state_dict())
    x, t = torch.randn(2, 1, 16, 16), torch.tensor([3, 700])
    torch.testing.assert_close(net(x, t), again(x, t))


def test_trains_and_samples_through_rvegen_build(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.save(tmp_path / "img.npy", (rng.random((48, 48)) < 0.3).astype(np.uint8))
    spec = {
        "run_dir": "run", "seed": 0,
        "data": {"source": "img.npy", "patch_size": 16, "num_patches": 32},
        "model": {"backbone": "imagen", "preset": "small", "options": {"dim": 16},
                  "timesteps": 20},
        "train": {"steps": 3, "batch_size": 4, "checkpoint_every": 3},
        "generate": {"count": 1, "steps": 4, "harmonizing_steps": 1},
        "validate": {"reference_samples": 4},
        "export": {"formats": ["vti"], "only_accepted": False},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    build(load_spec(tmp_path / "spec.yaml"), progress=False)
    with h5py.File(tmp_path / "run" / "volumes.h5") as f:
        assert f["volume_000"].shape == (16, 16, 16)
    assert (tmp_path / "run" / "export" / "volume_000.vti").exists()


def test_unknown_preset_is_a_spec_error():
    from rvegen.errors import SpecError

    with pytest.raises(SpecError, match="model.preset: unknown imagen preset 'huge'"):
        ImagenDenoiser.from_spec(1, "huge", {})
