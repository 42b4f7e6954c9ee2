import numpy as np
import pytest
import tifffile
from PIL import Image

from rvegen.errors import InputError
from rvegen.ingest import ingest, load_dataset, save_dataset
from rvegen.spec import DataSpec


def _spec(source, **kw):
    return DataSpec(source=str(source), patch_size=16, num_patches=20, **kw)


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
        (np.zeros((8, 8)), "smaller than data.patch_size"),
        (np.arange(32 * 32).reshape(32, 32) % 3, "3 distinct values but data.phases is 2"),
        (np.full((32, 32), np.nan), "NaN"),
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
