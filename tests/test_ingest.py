import numpy as np
import pytest
import tifffile
from PIL import Image

from rvegen.errors import InputError
from rvegen.data.dataset import load_dataset, save_dataset
from rvegen.data.ingest import ingest
from rvegen.spec import DataSpec


def _spec(source, **kw):
    return DataSpec(**{"source": str(source), "patch_size": 16, "num_patches": 20, **kw})


def test_image_gives_seeded_random_crops(carbonate, tmp_path):
    a = ingest(_spec(carbonate), tmp_path, seed=1)
    b = ingest(_spec(carbonate), tmp_path, seed=1)
    c = ingest(_spec(carbonate), tmp_path, seed=2)
    assert a.kind == "image" and a.patches.shape == (20, 16, 16)
    np.testing.assert_array_equal(a.patches, b.patches)
    assert not np.array_equal(a.patches, c.patches)
    assert set(np.unique(a.source)) == {0, 1}
    assert a.meta["volume_fractions"][1] == pytest.approx(0.139, abs=1e-3)


def test_stack_slices_along_each_axis(tmp_path):
    rng = np.random.default_rng(0)
    stack = np.where(rng.random((16, 16, 16)) < 0.3, 255, 0).astype(np.uint8)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, stack)
    ds = ingest(_spec(path), tmp_path)
    assert ds.kind == "stack" and ds.patches.shape == (48, 16, 16)
    np.testing.assert_array_equal(ds.patches[0], stack[0] // 255)
    np.testing.assert_array_equal(ds.patches[16 + 3], stack[:, 3, :] // 255)
    np.testing.assert_array_equal(ds.patches[32 + 5], stack[:, :, 5] // 255)


def test_png_and_roundtrip(tmp_path):
    img = np.zeros((40, 40), dtype=np.uint8)
    img[10:30, 5:25] = 200
    Image.fromarray(img).save(tmp_path / "im.png")
    ds = ingest(_spec(tmp_path / "im.png"), tmp_path)
    save_dataset(ds, tmp_path / "d.h5")
    back = load_dataset(tmp_path / "d.h5")
    np.testing.assert_array_equal(back.patches, ds.patches)
    np.testing.assert_array_equal(back.source, (img > 0).astype(np.uint8))
    assert back.meta["label_values"] == [0.0, 200.0]


@pytest.mark.parametrize(
    "array, message",
    [
        (np.ones((32, 32)), "only one phase"),
        (np.zeros((0, 32)), "the array is empty"),
        (np.eye(8), "smaller than data.patch_size"),
        (np.arange(32 * 32).reshape(32, 32) % 3, "3 distinct values but data.phases is 2"),
        (np.full((32, 32), np.nan), "NaN or infinite"),
        (np.zeros((2, 2, 32, 32)), "expected a 2D image or a 3D stack"),
    ],
)
def test_bad_arrays(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(InputError, match=message):
        ingest(_spec(tmp_path / "bad.npy"), tmp_path)


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        ingest(_spec(tmp_path / "missing.npy"), tmp_path)
    (tmp_path / "corrupt.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(InputError, match="corrupt.tif: not a readable TIFF"):
        ingest(_spec(tmp_path / "corrupt.tif"), tmp_path)
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(InputError, match="unsupported file type '.csv'"):
        ingest(_spec(tmp_path / "x.csv"), tmp_path)
    (tmp_path / "trunc.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(InputError, match="trunc.npy: not a readable numpy file"):
        ingest(_spec(tmp_path / "trunc.npy"), tmp_path)


def test_folder_of_slices_in_natural_order(tmp_path):
    folder = tmp_path / "slices"
    folder.mkdir()
    rng = np.random.default_rng(0)
    stack = (rng.random((12, 16, 16)) < 0.4).astype(np.uint8) * 255
    for i, im in enumerate(stack):
        Image.fromarray(im).save(folder / f"slice_{i}.png")
    ds = ingest(_spec(folder, slice_axes=[0]), tmp_path)
    np.testing.assert_array_equal(ds.source, stack[:, :16, :16] // 255)  # 2 after 10 sorted right
    assert ds.meta["reader"] == "folder"


def test_hdf5_raw_and_zip(tmp_path):
    import h5py
    import zipfile

    rng = np.random.default_rng(1)
    vol = (rng.random((16, 20, 24)) < 0.3).astype(np.uint16) * 1000
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f["scan/labels"] = vol
        f["other"] = np.zeros(3)
    with pytest.raises(InputError, match="holds 2 datasets; name one with data.dataset"):
        ingest(_spec(tmp_path / "v.h5"), tmp_path)
    ds = ingest(_spec(tmp_path / "v.h5", dataset="scan/labels"), tmp_path)
    np.testing.assert_array_equal(ds.source, vol // 1000)

    vol.astype(">u2").tofile(tmp_path / "v.raw")
    raw = {"shape": [16, 20, 24], "dtype": "uint16", "byte_order": "big"}
    ds = ingest(_spec(tmp_path / "v.raw", raw=raw), tmp_path)
    np.testing.assert_array_equal(ds.source, vol // 1000)
    with pytest.raises(InputError, match="v.raw: 15360 bytes after the header, but data.raw shape"):
        ingest(_spec(tmp_path / "v.raw", raw={**raw, "shape": [16, 20, 25]}), tmp_path)

    tifffile.imwrite(tmp_path / "inner.tif", vol)
    with zipfile.ZipFile(tmp_path / "v.zip", "w") as zf:
        zf.write(tmp_path / "inner.tif", "data/inner.tif")
    ds = ingest(_spec(tmp_path / "v.zip"), tmp_path)
    np.testing.assert_array_equal(ds.source, vol // 1000)
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(InputError, match="bad.zip: not a readable zip file"):
        ingest(_spec(tmp_path / "bad.zip"), tmp_path)


def test_segmentation_methods(tmp_path):
    rng = np.random.default_rng(2)
    grey = np.where(rng.random((40, 40)) < 0.3, 180.0, 60.0) + rng.normal(0, 10, (40, 40))
    np.save(tmp_path / "g.npy", grey.astype(np.float32))
    with pytest.raises(InputError, match="distinct values but data.phases is 2"):
        ingest(_spec(tmp_path / "g.npy"), tmp_path)
    truth = (grey > 120).astype(np.uint8)
    ds = ingest(_spec(tmp_path / "g.npy", segmentation={"method": "otsu"}), tmp_path)
    assert (ds.source == truth).mean() > 0.99
    ds = ingest(_spec(tmp_path / "g.npy", segmentation={"method": "thresholds",
                                                         "thresholds": [120]}), tmp_path)
    np.testing.assert_array_equal(ds.source, truth)
    ds = ingest(_spec(tmp_path / "g.npy", segmentation={"method": "otsu", "denoise": "median",
                                                         "denoise_size": 3}), tmp_path)
    assert ds.meta["denoise"] == "median"
    three = np.choose(rng.integers(0, 3, (40, 40)), [20.0, 120.0, 220.0])
    np.save(tmp_path / "t.npy", three + rng.normal(0, 5, (40, 40)))
    ds = ingest(_spec(tmp_path / "t.npy", phases=3, segmentation={"method": "multiotsu"}), tmp_path)
    np.testing.assert_array_equal(ds.source, np.digitize(three, [70, 170]))
    with pytest.raises(InputError, match="thresholds needs 2 value"):
        ingest(_spec(tmp_path / "t.npy", phases=3, segmentation={"method": "thresholds",
                                                                  "thresholds": [1]}), tmp_path)
    # integer grey values equal to the threshold go below it (image > threshold is phase 1):
    # Otsu on a 0/1 image returns 0 and must give the image back
    binary = (rng.random((40, 40)) < 0.3).astype(np.uint8)
    np.save(tmp_path / "b.npy", binary)
    ds = ingest(_spec(tmp_path / "b.npy", segmentation={"method": "otsu"}), tmp_path)
    np.testing.assert_array_equal(ds.source, binary)


def test_downscale_and_holdout(tmp_path):
    vol = np.zeros((40, 32, 32), dtype=np.uint8)
    vol[:, :16] = 1
    np.save(tmp_path / "v.npy", vol)
    ds = ingest(_spec(tmp_path / "v.npy", downscale=2, patch_size=8, holdout=0.25), tmp_path)
    assert ds.source.shape == (15, 16, 16) and ds.holdout.shape == (5, 16, 16)
    np.testing.assert_array_equal(ds.source[0, :, 0], [1] * 8 + [0] * 8)
    save_dataset(ds, tmp_path / "d.h5")
    assert load_dataset(tmp_path / "d.h5").holdout.shape == (5, 16, 16)


def test_downscale_keeps_phase_fractions():
    """Majority voting (the default) drains a minority phase (thin parts and ties go to the
    majority); 'fractions' keeps every phase's fraction and still follows each block's
    majority."""
    from rvegen.data.segment import downscale

    # thin lines of phase 1, one pixel wide every 4 pixels: every 2 x 2 block on a line is a tie
    image = np.zeros((64, 64), dtype=np.uint8)
    image[:, ::4] = 1
    image[40:48, 40:48] = 1  # a solid square: its blocks are phase 1 by any rule
    assert downscale(image, 2, 2, "majority")[:, :20].sum() == 0  # the lines vanish
    kept = downscale(image, 2, 2, "fractions")
    assert kept.mean() == pytest.approx(image.mean(), abs=1 / kept.size)
    assert kept[20:24, 20:24].all()
    # three phases in 3D, the rarest at 10 %
    rng = np.random.default_rng(1)
    volume = rng.choice(3, size=(24, 24, 24), p=[0.6, 0.3, 0.1]).astype(np.uint8)
    for method, tolerance in (("fractions", 2e-3), ("majority", None)):
        small = downscale(volume, 2, 3, method)
        got = np.bincount(small.ravel(), minlength=3) / small.size
        want = np.bincount(volume.ravel(), minlength=3) / volume.size
        if tolerance is None:
            assert got[2] < 0.5 * want[2]
        else:
            np.testing.assert_allclose(got, want, atol=tolerance)
    # blocks with a clear majority keep it under both rules
    blocky = np.kron(rng.integers(0, 3, (6, 6, 6)), np.ones((2, 2, 2), dtype=int)).astype(np.uint8)
    for method in ("majority", "fractions"):
        np.testing.assert_array_equal(downscale(blocky, 2, 3, method), blocky[::2, ::2, ::2])


def test_synthetic_sources(tmp_path):
    spheres = {"kind": "spheres", "shape": [40, 32, 32], "diameter_mean": 8, "diameter_std": 2,
               "volume_fraction": 0.25, "overlap": False}
    a = ingest(DataSpec(synthetic=spheres, patch_size=16, num_patches=8), tmp_path, seed=4)
    b = ingest(DataSpec(synthetic=spheres, patch_size=16, num_patches=8), tmp_path, seed=4)
    np.testing.assert_array_equal(a.source, b.source)
    assert a.kind == "stack" and a.source.mean() == pytest.approx(0.25, abs=0.02)
    # periodic placement: the faces are as full as the interior (uniform centres in a
    # closed box would leave the outer layers about half as full)
    from rvegen.spec import SyntheticSpec
    from rvegen.data.synthetic import spheres as make_spheres

    big = make_spheres(SyntheticSpec(kind="spheres", shape=[64, 64, 64], diameter_mean=8,
                                     volume_fraction=0.3), np.random.default_rng(1))
    faces = np.mean([big[0].mean(), big[-1].mean(), big[:, 0].mean(), big[:, :, -1].mean()])
    assert faces == pytest.approx(big.mean(), abs=0.05)
    # a sphere crossing a face continues on the opposite one
    assert np.mean(big[0] == big[-1]) > np.mean(big[0] == big[32]) + 0.1
    grains = {"kind": "grains", "shape": [5, 64, 64]}
    ds = ingest(DataSpec(synthetic=grains, kind="images", patch_size=32, num_patches=8),
                tmp_path, seed=0)
    assert ds.kind == "image" and ds.source.shape == (5, 64, 64)
    assert 0.1 < ds.source.mean() < 0.5  # boundaries are a minority phase


def test_train_slice_trains_on_one_slice_only(tmp_path):
    vol = np.zeros((20, 16, 16), np.uint8)
    vol[3, :, :4] = 1  # only slice 3 has phase 1 in columns 0-3
    vol[10:, 8:] = 1  # the rest of the stack is different, and not trained on
    np.save(tmp_path / "v.npy", vol)
    ds = ingest(_spec(tmp_path / "v.npy", patch_size=8, num_patches=50, holdout=0.2,
                      train_slice=3), tmp_path)
    assert ds.kind == "stack" and ds.holdout.shape == (4, 16, 16)
    assert set(np.unique(ds.patches[:, :, :4])) <= {0, 1} and not ds.patches[:, :, 4:].any()
    assert ds.meta["volume_fractions"][1] == pytest.approx(0.25)  # the slice's fraction
    with pytest.raises(InputError, match="train_slice 16 is outside the 16 slices"):
        ingest(_spec(tmp_path / "v.npy", patch_size=8, holdout=0.2, train_slice=16), tmp_path)
    with pytest.raises(ValueError, match="needs data.holdout"):
        _spec(tmp_path / "v.npy", patch_size=8, train_slice=3)


def test_ingest_log_shows_what_downscaling_did_to_the_fractions(write_spec):
    from typer.testing import CliRunner

    from rvegen.cli import app

    majority = CliRunner().invoke(app, ["ingest", str(write_spec({"data": {"downscale": 2}})), "-q"])
    assert majority.exit_code == 0, majority.stderr
    assert "downscale x2 (majority) moved the phase fractions" in majority.stderr
    assert "'fractions' keeps them" in majority.stderr  # carbonate's pores drain by a fifth
    spec = write_spec({"data": {"downscale": 2, "downscale_method": "fractions"}}, "f.yaml")
    kept = CliRunner().invoke(app, ["ingest", str(spec), "-q"])
    assert kept.exit_code == 0 and "keeps them" not in kept.stderr
    line = next(s for s in kept.stderr.splitlines() if "moved the phase fractions" in s)
    before, after = line.split(" from ")[1].split(" to ")
    assert before == after
