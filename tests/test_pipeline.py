"""`rvegen build` end to end on a tiny spec, every output read back."""

import json

import h5py
import meshio
import numpy as np
import pytest
import pyvista
import yaml
from typer.testing import CliRunner

import rvegen
from rvegen.cli import app
from rvegen.errors import SpecError
from rvegen.pipeline import build
from rvegen.spec import load_spec
from rvegen.validation.report import report_outside_real_spread, report_real_spread


@pytest.fixture
def built(write_spec, tmp_path):
    path = write_spec({"export": {"only_accepted": False}, "validate": {"reference_samples": 6}})
    build(load_spec(path), progress=False)
    return path, tmp_path / "run"


def test_build_writes_every_output(built):
    _, run = built
    with h5py.File(run / "dataset.h5") as f:
        assert f["patches"].shape == (64, 16, 16) and f.attrs["kind"] == "image"
    assert (run / "model" / "model.pt").exists() and (run / "model" / "loss.png").exists()
    with h5py.File(run / "volumes.h5") as f:
        assert sorted(f) == ["images_2d", "volume_000", "volume_001"]
        # the 2D ceiling: count x size of the model's own 2D samples
        assert f["images_2d"].shape == (2 * 16, 16, 16)
        vol = f["volume_000"][()]
        assert vol.shape == (16, 16, 16) and vol.dtype == np.uint8
        # strided schedule: 8 steps, n_h = 2 (no re-noise at the last): 15 passes x 16 slices
        assert f["volume_000"].attrs["evaluations"] == 15 * 16
        assert f["volume_000"].attrs["seed"] != f["volume_001"].attrs["seed"]
    report = json.loads((run / "report.json").read_text())
    assert report["comparison"].startswith("per-plane")
    assert report["ensemble"]["count"] == 2 and len(report["volumes"]) == 2
    # every phase is scored with every metric; phase 1 (14 %) is the phase of interest
    names = {"s2", "lineal_path", "euler_density", "largest_cluster", "volume_fraction"}
    assert report["phase_of_interest"] == 1 and report["phases"] == [0, 1]
    for v in report["volumes"]:
        assert set(v["per_plane"]) == {"yz", "xz", "xy"}
        assert set(v["errors"]) == {"0", "1"} and set(v["errors"]["1"]) == names
        assert v["errors"]["1"]["s2"] >= 0
        # a verdict is its reasons: accepted exactly when none
        assert v["accepted"] == (not v["reasons"])
        assert set(v["morphology"]["1"]) >= {"euler_density", "largest_cluster_fraction"}
    assert {k.split("/")[0] for k in report["natural_spread"]} == names
    assert report["real_ensemble"]["count"] == 2
    assert set(report["real_ensemble"]["errors"]["1"]) == names
    # each criterion of the ensemble against the worst real ensemble of as many samples
    assert set(report["ensemble"]["within_real_spread"]["1"]) == names
    assert set(report["real_ensemble"]["errors_worst"]["1"]) == names
    # and with every criterion at once, among each of those real ensembles
    assert len(report["real_ensemble"]["errors_draws"]) == report["real_ensemble"]["draws"]
    standing = report["ensemble"]["real_spread"]["1"]
    assert standing["real"] == report["real_ensemble"]["draws"]
    assert standing["within"] == (standing["as_far_off"] > 0)
    assert set(report["ceiling_2d"]["ensemble"]["errors"]["1"]) == names
    # the data limit: the training patches scored as the model's samples are
    assert set(report["ceiling_2d"]["training_patches"]["errors"]["1"]) == names
    assert (run / "plots" / "curves.png").stat().st_size > 1000
    assert (run / "plots" / "slices.png").stat().st_size > 1000
    # exports carry the same phases
    grid = pyvista.read(run / "export" / "volume_000.vti")
    np.testing.assert_array_equal(np.asarray(grid.cell_data["phase"]), vol.ravel())
    xdmf = meshio.read(run / "export" / "volume_000.xdmf")
    np.testing.assert_array_equal(xdmf.cell_data["phase"][0], vol.ravel())
    inp = meshio.read(run / "export" / "volume_000.inp")
    assert sum(len(c.data) for c in inp.cells) == 16**3


def test_rerun_skips_up_to_date_stages(built, write_spec, capfd):
    path, run = built
    stamp = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    capfd.readouterr()
    build(load_spec(path), progress=False)
    err = capfd.readouterr().err
    assert err.count("up to date, skipped") == 5
    assert stamp == {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    # the command line says where the ensemble stands against real ensembles
    result = CliRunner().invoke(app, ["validate", str(path), "-q"])
    report = json.loads((run / "report.json").read_text())
    outside = report_outside_real_spread(report)
    assert "ensemble of 2, phase 1: " in result.output
    assert ("outside the spread" in result.output) == (not report_real_spread(report)["within"])
    assert all(f"{name} " in result.output for name in outside)
    # one more volume: training is skipped, finished volumes are kept, only one is sampled
    with h5py.File(run / "volumes.h5") as f:
        first = f["volume_000"][()]
    path = write_spec({"export": {"only_accepted": False}, "generate": {"count": 3}})
    build(load_spec(path), progress=False)
    err = capfd.readouterr().err
    assert "ingest: up to date" in err and "train: up to date" in err
    with h5py.File(run / "volumes.h5") as f:
        assert sorted(f) == ["images_2d", "volume_000", "volume_001", "volume_002"]
        assert len(f["images_2d"]) == 3 * 16
        np.testing.assert_array_equal(f["volume_000"][()], first)
    assert json.loads((run / "report.json").read_text())["ensemble"]["count"] == 3


def test_metadata_edits_rerun_no_training_or_sampling(built, write_spec, capfd):
    """Unit and voxel size are metadata: only ingest (cheap) and export run again."""
    path, run = built
    model = (run / "model" / "model.pt").stat().st_mtime_ns
    volumes = (run / "volumes.h5").stat().st_mtime_ns
    capfd.readouterr()
    edited = write_spec({"export": {"only_accepted": False},
                         "data": {"unit": "mm", "voxel_size": 2.5}})
    build(load_spec(edited), progress=False)
    err = capfd.readouterr().err
    for stage in ("train", "generate", "validate"):
        assert f"{stage}: up to date" in err
    assert (run / "model" / "model.pt").stat().st_mtime_ns == model
    assert (run / "volumes.h5").stat().st_mtime_ns == volumes
    # the export follows the spec: one source of truth for the voxel size and unit
    assert pyvista.read(run / "export" / "volume_000.vti").spacing == (2.5, 2.5, 2.5)
    assert "mm" in (run / "export" / "volume_000.inp").read_text()[:2000]


def _cli(*args):
    """The CLI in-process (Typer's runner): exit code, stdout and stderr."""
    return CliRunner().invoke(app, [str(a) for a in args])


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_cli_bad_spec_field(write_spec):
    result = _cli("build", write_spec({"generate": {"harmonizing_steps": 0}}))
    _one_line_error(result, "spec.yaml: generate.harmonizing_steps: must be >= 1 or one of "
                            "'auto' (got 0)")


def test_cli_missing_data_file(write_spec, tmp_path):
    (tmp_path / "carbonate.npy").unlink()
    _one_line_error(_cli("ingest", write_spec()), "carbonate.npy", "data.source file not found")
    assert not (tmp_path / "run" / "dataset.h5").exists()


def test_cli_unknown_backbone(write_spec, tmp_path):
    """Every name the spec gives is checked before the first stage runs."""
    path = write_spec({"model": {"backbone": "nope"}})
    _one_line_error(_cli("ingest", path), "model.backbone: unknown backbone 'nope'", "compact")
    assert not (tmp_path / "run" / "dataset.h5").exists()


def test_cli_missing_spec_and_stage_order(write_spec, tmp_path):
    _one_line_error(_cli("build", tmp_path / "none.yaml"), "spec file not found")
    _one_line_error(_cli("generate", write_spec()), "rvegen train")


def test_cli_schema_and_plugins(tmp_path):
    out = tmp_path / "s.json"
    assert _cli("schema", "-o", out).exit_code == 0
    assert json.loads(out.read_text())["title"] == "rvegen build spec"
    listing = _cli("plugins").stdout
    for line in ("backbone  compact", "sampler   multiplane", "exporter  abaqus"):
        assert line in listing


def test_validation_reference_choices(write_spec):
    from rvegen.data.ingest import ingest
    from rvegen.pipeline import reference_dataset

    spheres = {"kind": "spheres", "shape": [40, 24, 24], "diameter_mean": 6,
               "diameter_std": 1, "volume_fraction": 0.3}
    data = {"source": None, "synthetic": spheres, "patch_size": 16, "num_patches": 8, "holdout": 0.5}
    spec = load_spec(write_spec({"data": data, "validate": {"reference": "fresh"}}))
    ds = ingest(spec.data, spec.resolve("."), spec.seed)
    fresh = reference_dataset(spec, ds)
    # a whole new realization (4 x 40 slices, not the 20 held out), not a copy of the data
    assert fresh.holdout.shape == (160, 24, 24) and fresh.source is ds.source
    assert not np.array_equal(fresh.holdout[:20], ds.source)
    assert abs(fresh.holdout.mean() - 0.3) < 0.05
    training = load_spec(write_spec({"data": data, "validate": {"reference": "training"}}))
    assert reference_dataset(training, ds).holdout is None
    with pytest.raises(SpecError, match="validate.reference: 'fresh' needs a data.synthetic"):
        load_spec(write_spec({"validate": {"reference": "fresh"}}))


def test_public_validate_honours_the_reference_choice(write_spec):
    """rvegen.validate on a stack: 'training' scores against the training slices, not the
    held-out part; 'fresh' asks for the fresh dataset instead of silently using another."""
    from rvegen.data.ingest import ingest
    from rvegen.errors import InputError
    from rvegen.pipeline import reference_dataset
    from rvegen.volumes import Volume

    spheres = {"kind": "spheres", "shape": [48, 16, 16], "diameter_mean": 5,
               "diameter_std": 1, "volume_fraction": 0.3}
    data = {"source": None, "synthetic": spheres, "patch_size": 16, "num_patches": 8,
            "holdout": 0.5}
    spec = load_spec(write_spec({"data": data}))
    ds = ingest(spec.data, spec.resolve("."), spec.seed)
    vols = [Volume(f"v{i}", ds.source[i:i + 16].copy()) for i in (0, 4)]
    cfg = {"reference_samples": 4, "floor_draws": 1}
    auto = rvegen.validate(vols, ds, cfg)
    training = rvegen.validate(vols, ds, {**cfg, "reference": "training"})
    same = rvegen.validate(vols, reference_dataset(
        load_spec(write_spec({"data": data, "validate": {"reference": "training"}})), ds),
        {**cfg, "reference": "training"})
    assert auto.reference["data"] != training.reference["data"]
    assert training.reference["data"] == same.reference["data"]
    assert training.headline() == same.headline()
    with pytest.raises(InputError, match="validate.reference: 'fresh' needs a fresh"):
        rvegen.validate(vols, ds, {**cfg, "reference": "fresh"})


def test_three_phases_through_every_stage(tmp_path):
    """K = 3: one channel per phase, guidance keeps every fraction, every phase scored
    and exported."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    field = ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2)
    image = np.digitize(field, np.quantile(field, [0.5, 0.8])).astype(np.uint8)
    np.save(tmp_path / "three.npy", image)
    spec = {
        "run_dir": "run", "seed": 1,
        "data": {"source": "three.npy", "phases": 3, "patch_size": 16, "num_patches": 64},
        "model": {"preset": "tiny", "timesteps": 40},
        "train": {"steps": 6, "batch_size": 4},
        "generate": {"count": 2, "steps": 6},
        "validate": {"reference_samples": 6},
        "export": {"only_accepted": False, "formats": ["abaqus"],
                   "phase_names": ["a", "b", "c"]},
    }
    (tmp_path / "three.yaml").write_text(yaml.safe_dump(spec))
    result = build(load_spec(tmp_path / "three.yaml"), progress=False)
    vols, _ = rvegen.read_volumes(result.run_dir / "volumes.h5")
    fractions = np.bincount(image.ravel(), minlength=3) / image.size
    for v in vols:
        got = np.bincount(v.labels.ravel(), minlength=3) / v.labels.size
        np.testing.assert_allclose(got, fractions, atol=0.01)
    report = result.report
    assert report["phases"] == [0, 1, 2] and report["phase_of_interest"] == 2
    assert set(report["volumes"][0]["errors"]) == {"0", "1", "2"}
    deck = (result.run_dir / "export" / "volume_000.inp").read_text()
    assert all(f"ELSET={name}" in deck for name in ("a", "b", "c"))


def test_auto_settings_are_chosen_from_trial_volumes(write_spec, tmp_path):
    """'auto' scores each candidate width, then n_h 1, 5, 5 unpooled and 8 at the chosen
    width, on trial volumes against the model's own fraction-guided 2D samples (2D data),
    records the scores, and samples with the lowest."""
    from rvegen.generate import AUTO_HARMONIZING, AUTO_POOL_SIGMAS

    path = write_spec({"generate": {"count": 2, "steps": 6, "pool_sigma": "auto",
                                    "harmonizing_steps": "auto"}})
    result = CliRunner().invoke(app, ["build", str(path)])  # progress on, not a TTY
    # minutes of trial volumes show in a log, one count per candidate
    assert "auto trial (pool_sigma 1.0" in result.stderr and "8/8 vol (100 %)" in result.stderr
    assert "auto trial (harmonizing_steps 8" in result.stderr
    assert "generate: 'auto' chose pool_sigma " in result.stderr  # what it chose, in the log
    vols, root = rvegen.read_volumes(tmp_path / "run" / "volumes.h5")
    pool = json.loads(root["pool_sigma_auto"])
    assert pool["trials"] == 8  # the default generate.auto_trials
    assert set(pool["scores"]) == {str(s) for s in AUTO_POOL_SIGMAS}
    assert pool["scores"][str(pool["chosen"])] == min(pool["scores"].values())
    assert pool["score"] == "self S2 + L (guided) + shape (plain), spreads"
    # each trial's terms beside the sums: S2 and L(z) against the model's fraction-guided
    # 2D samples, the slices' topology against its plain ones, in units of their spread
    terms = pool["terms"]["pool_sigma 1.0, harmonizing_steps 1"]
    assert set(terms) == {"s2", "lineal_path", "euler_density", "largest_cluster", "sum"}
    assert terms["sum"] == pytest.approx(pool["scores"]["1.0"])
    assert terms["sum"] == pytest.approx(sum(v for k, v in terms.items() if k != "sum"))
    n_h = json.loads(root["harmonizing_steps_auto"])
    assert set(n_h["scores"]) == {"1", "5", "5 unpooled", "8"}
    assert n_h["scores"]["1"] == pool["scores"][str(pool["chosen"])]  # the same trials
    assert n_h["scores"][n_h["chosen"]] == min(n_h["scores"].values())
    fields = AUTO_HARMONIZING[n_h["chosen"]]
    for v in vols:
        settings = v.attrs["settings"]
        assert settings["pool_sigma"] == fields.get("pool_sigma", pool["chosen"]) == pool["used"]
        assert settings["harmonizing_steps"] == fields["harmonizing_steps"]
        # n_h 5 and 8 pooled: the harmonized preset's pooling on the first pass only
        assert settings["pool_repeats"] == (n_h["chosen"] not in ("5", "8"))
    # interrupted in the 2D ceiling, after the last volume: the rerun samples the 2D
    # images only (no trials, no 'auto' left unresolved), and keeps the volumes
    import h5py

    from rvegen.volumes import IMAGES

    with h5py.File(tmp_path / "run" / "volumes.h5", "a") as f:
        del f[IMAGES]
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    del state["generate"]  # the stage is recorded when it ends
    (tmp_path / "run" / "state.json").write_text(json.dumps(state))
    result = CliRunner().invoke(app, ["generate", str(path)])
    assert result.exit_code == 0, result.output
    assert "auto trial" not in result.stderr
    again, _ = rvegen.read_volumes(tmp_path / "run" / "volumes.h5")
    assert all(np.array_equal(a.labels, b.labels) for a, b in zip(vols, again))
    assert rvegen.volumes.read_images(tmp_path / "run" / "volumes.h5") is not None
    # 2D samples have neither pooling nor repeats: 'auto' needs no choosing there
    model = rvegen.load_model(tmp_path / "run" / "model" / "model.pt")
    auto = {"steps": 3, "pool_sigma": "auto", "harmonizing_steps": "auto", "method": "auto"}
    assert rvegen.sample_images(model, 2, auto, [0.86, 0.14], guided=True).shape[0] == 2


def test_auto_on_a_stack_scores_its_training_part_in_3d(write_spec, tmp_path, monkeypatch):
    """3D training data: 'auto' scores trial volumes against the stack's training part in
    units of the real spread (real sub-volumes score about 1 per term, speckle far more),
    never against the validation reference, and not from a single training slice."""
    from dataclasses import replace

    from rvegen.data.ingest import ingest
    from rvegen.generate import auto_stack
    from rvegen.validation.report import stack_score
    from rvegen.volumes import Volume

    spheres = {"kind": "spheres", "shape": [64, 32, 32], "diameter_mean": 6,
               "diameter_std": 1, "volume_fraction": 0.3}
    data = {"source": None, "synthetic": spheres, "patch_size": 16, "num_patches": 64,
            "holdout": 0.25}
    path = write_spec({"data": data, "generate": {"count": 1, "steps": 4,
                                                  "harmonizing_steps": "auto",
                                                  "method": "auto", "auto_trials": 3}})
    ds = ingest(load_spec(path).data, tmp_path, 3)
    stack = auto_stack(ds)
    assert stack is not None and stack.holdout is None and ds.holdout is not None
    assert auto_stack(ds, "training") is None  # that would tune on the reference
    assert auto_stack(replace(ds, holdout=None)) is None  # 'auto' = the training part then
    assert auto_stack(replace(ds, meta={**ds.meta, "train_slice": "0 along axis 0"})) is None
    assert auto_stack(replace(ds, kind="image")) is None

    real = [Volume(f"r{i}", ds.source[z:z + 16, y:y + 16, x:x + 16].copy())
            for i, (z, y, x) in enumerate([(0, 0, 0), (16, 16, 16), (32, 0, 16), (8, 16, 0)])]
    rng = np.random.default_rng(0)
    speckle = [Volume(f"s{i}", (rng.random((16, 16, 16)) < 0.3).astype(np.uint8))
               for i in range(4)]
    own, noise = stack_score(real, stack), stack_score(speckle, stack)
    assert set(own) == {"s2", "lineal_path", "euler_density", "largest_cluster", "sum"}
    assert own["sum"] < 12 < noise["sum"]
    assert noise["euler_density"] > 5 and noise["lineal_path"] > 2

    build(load_spec(path), progress=False)
    vols, root = rvegen.read_volumes(tmp_path / "run" / "volumes.h5")
    record = json.loads(root["harmonizing_steps_auto"])
    assert record["score"] == "3D vs training stack, real spreads"
    assert record["trials"] == 3  # generate.auto_trials trial volumes per candidate
    assert record["scores"][record["chosen"]] == min(record["scores"].values())
    # then the reverse step, at the chosen n_h, on the same trials (the DDPM step's score
    # is the chosen n_h's)
    from rvegen.spec import AUTO_METHODS

    step = json.loads(root["method_auto"])
    assert set(step["scores"]) == set(AUTO_METHODS)
    assert step["scores"]["ddpm"] == record["scores"][record["chosen"]]
    assert step["scores"][step["chosen"]] == min(step["scores"].values())
    settings = vols[0].attrs["settings"]
    assert settings["method"] == AUTO_METHODS[step["chosen"]]["method"]
    assert settings["eta"] == AUTO_METHODS[step["chosen"]].get("eta", 1.0)
    # a new version of the 2D self score does not make these volumes stale
    import rvegen.pipeline as pipeline

    run = pipeline.RunDir(tmp_path / "run")
    identity = pipeline.volumes_identity(load_spec(path), run)
    assert identity == root["fingerprint"]
    monkeypatch.setattr(pipeline, "AUTO_SELF_RULE", "a later self score")
    assert pipeline.volumes_identity(load_spec(path), run) == identity


def test_volumes_identity_follows_the_auto_rule(write_spec, tmp_path, monkeypatch):
    """Volumes chosen by an older 'auto' rule are not reused: the rule is in their
    identity; a numeric width's identity does not depend on it."""
    import rvegen.pipeline as pipeline

    run = pipeline.RunDir(tmp_path / "run")
    run.model.parent.mkdir(parents=True)
    run.model.write_bytes(b"the identity hashes the checkpoint's bytes")
    specs = [load_spec(write_spec({"generate": g})) for g in (
        {"pool_sigma": "auto"}, {"harmonizing_steps": "auto"}, {"pool_sigma": 1.5},
        {"method": "auto"})]
    before = [pipeline.volumes_identity(spec, run) for spec in specs]
    assert len(set(before)) == 4
    # what 'auto' scores against depends on whether the validation reference is the
    # training data (rvegen.generate.auto_stack): not with a held-out part
    held_out = load_spec(write_spec({"generate": {"pool_sigma": "auto"},
                                     "data": {"holdout": 0.25}}))
    training = load_spec(write_spec({"generate": {"pool_sigma": "auto"},
                                     "data": {"holdout": 0.25},
                                     "validate": {"reference": "training"}}))
    assert pipeline.volumes_identity(held_out, run) != before[0]
    assert pipeline.volumes_identity(training, run) == before[0]
    monkeypatch.setattr(pipeline, "AUTO_RULE", "a later rule")
    after = [pipeline.volumes_identity(spec, run) for spec in specs]
    assert after[0] != before[0] and after[1] != before[1] and after[3] != before[3]
    assert after[2] == before[2]
    # how the trials are scored (the spec's metric options, phase of interest) is part of
    # an 'auto' setting's identity, and of nothing else
    options = {"metric_options": {"euler_density": {"connectivity": "full"}}}
    scored = [load_spec(write_spec({"generate": g, "validate": options}))
              for g in ({"pool_sigma": "auto"}, {"pool_sigma": 1.5})]
    assert pipeline.volumes_identity(scored[0], run) != after[0]
    assert pipeline.volumes_identity(scored[1], run) == after[2]
    # 2D data (no stack): the self score's own version is in the identity too
    monkeypatch.setattr(pipeline, "AUTO_SELF_RULE", "a later self score")
    later = [pipeline.volumes_identity(spec, run) for spec in specs]
    assert later[0] != after[0] and later[2] == after[2]
    # more than two phases: how they are summed is in their identity, and only in theirs
    three = [load_spec(write_spec({"generate": g, "data": {"phases": 3}}))
             for g in ({"pool_sigma": "auto"}, {"pool_sigma": 1.5})]
    before = [pipeline.volumes_identity(spec, run) for spec in three + specs]
    monkeypatch.setattr(pipeline, "AUTO_PHASES_RULE", "a later phase sum")
    after = [pipeline.volumes_identity(spec, run) for spec in three + specs]
    assert after[0] != before[0] and after[1:] == before[1:]
    # how many trial volumes judge a candidate: in an 'auto' setting's identity only
    more = [load_spec(write_spec({"generate": {**g, "auto_trials": 32}})) for g in (
        {"pool_sigma": "auto"}, {"pool_sigma": 1.5})]
    assert pipeline.volumes_identity(more[0], run) != after[2]
    assert pipeline.volumes_identity(more[1], run) == after[4]


def test_volumes_identity_follows_the_closure_rule(write_spec, tmp_path, monkeypatch):
    """Volumes closed by an older close_boundaries rule are sampled again; volumes that
    are not closed keep their identity when the rule changes."""
    import rvegen.boundaries as boundaries
    import rvegen.pipeline as pipeline

    run = pipeline.RunDir(tmp_path / "run")
    run.model.parent.mkdir(parents=True)
    run.model.write_bytes(b"the identity hashes the checkpoint's bytes")
    closed, plain = (load_spec(write_spec({"generate": g})) for g in (
        {"close_boundaries": True, "grain_density": 12.0}, {}))
    before = [pipeline.volumes_identity(spec, run) for spec in (closed, plain)]
    monkeypatch.setattr(boundaries, "CLOSURE_RULE", "a later rule")
    after = [pipeline.volumes_identity(spec, run) for spec in (closed, plain)]
    assert after[0] != before[0] and after[1] == before[1]
