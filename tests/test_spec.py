import json
from pathlib import Path

import pytest

from rvegen.errors import SpecError
from rvegen.spec import json_schema, load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_valid_spec_resolves_paths_against_its_folder(write_spec, tmp_path):
    spec = load_spec(write_spec())
    assert spec.data.patch_size == 16
    assert spec.resolve(spec.data.source) == tmp_path / "carbonate.npy"
    assert spec.run_path == tmp_path / "run"
    assert spec.validate_.reference_samples == 6


def test_bound_error_names_file_field_and_value(write_spec):
    with pytest.raises(SpecError) as err:
        load_spec(write_spec({"generate": {"count": 0}}))
    assert str(err.value) == "spec.yaml: generate.count: must be >= 1 (got 0)"
    # a value that fits no member of a Union: one clause naming every alternative
    with pytest.raises(SpecError) as err:
        load_spec(write_spec({"generate": {"pool_sigma": -1}}))
    assert str(err.value) == ("spec.yaml: generate.pool_sigma: must be >= 0.0 or one of "
                              "'auto' (got -1)")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec({"generate": {"harmonizing_steps": 0}}))
    assert str(err.value) == ("spec.yaml: generate.harmonizing_steps: must be >= 1 or one of "
                              "'auto' (got 0)")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec({"generate": {"harmonizing_steps": 2.5}}))
    assert str(err.value) == ("spec.yaml: generate.harmonizing_steps: must be a whole number "
                              "or one of 'auto' (got 2.5)")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec({"generate": {"pool_sigma": "wide"}}))
    assert str(err.value) == ("spec.yaml: generate.pool_sigma: must be a number or one of "
                              "'auto' (got 'wide')")


def test_unknown_field_is_rejected(write_spec):
    with pytest.raises(SpecError, match=r"spec.yaml: train.stepz: unknown field"):
        load_spec(write_spec({"train": {"stepz": 3}}))


def test_missing_section_and_several_errors_on_one_line(write_spec, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: -1\nmodel: {timesteps: 1}\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert "data: required field is missing" in msg
    assert "seed: must be >= 0 (got -1)" in msg
    assert "model.timesteps: must be >= 2 (got 1)" in msg


def test_cross_field_check(write_spec):
    with pytest.raises(SpecError, match="export.phase_names: needs one name per phase"):
        load_spec(write_spec({"export": {"phase_names": ["only_one"]}}))


def test_not_yaml_and_not_a_mapping_and_missing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)
    bad.write_text("- a list\n")
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        load_spec(bad)
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_yaml_tags_are_not_executed(tmp_path):
    bad = tmp_path / "evil.yaml"
    bad.write_text("data: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)


def test_committed_schema_is_in_sync():
    committed = json.loads((ROOT / "schemas" / "spec.schema.json").read_text())
    assert committed == json_schema(), "run `rvegen schema` and commit schemas/spec.schema.json"


def test_example_specs_validate():
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        load_spec(path)


def test_sampler_presets_fill_fields_the_spec_leaves_out():
    from rvegen.spec import GenerateSpec

    paper = GenerateSpec(preset="paper")
    assert (paper.steps, paper.harmonizing_steps, paper.pool_sigma) == (1000, 10, 0.0)
    harmonized = GenerateSpec(preset="harmonized")
    assert harmonized.harmonizing_steps == 5 and harmonized.pool_repeats is False
    assert harmonized.steps == 100 and harmonized.pool_sigma == 2.0
    assert GenerateSpec(preset="harmonized", harmonizing_steps=3).harmonizing_steps == 3
    default = GenerateSpec()
    assert default.harmonizing_steps == 1 and default.pool_repeats is True


def test_identity_hashes_survive_new_fields():
    """Fields added since run folders existed leave the hashes alone at their neutral value,
    so that upgrading rvegen does not retrain or resample finished runs."""
    from rvegen.spec import Spec

    spec = Spec.model_validate({"data": {"source": "x.npy"}})
    # the hashes from before data.sources, model.encoding, generate.plane_block
    # and generate.pool_repeats existed
    assert spec.section_hash("data") == \
        "52a67283e73b9bdbb6d1af2671f7f6871229810ccc4c8d924fe4f4537a075aa4"
    assert spec.section_hash("model") == \
        "8e4d5bcaeeab05d788833808f4555e72f6defdf4e4b1b7a14f7325cd6f1cbe1d"
    assert spec.section_hash("generate") == \
        "20d3029b555ba721fd360d073e598f57c46a32992b88228ebee332de4b4a05ef"
    # data.downscale_method: 'majority' was the only method before it existed
    majority = Spec.model_validate({"data": {"source": "x.npy", "downscale": 2,
                                             "downscale_method": "majority"}})
    assert majority.section_hash("data") == \
        "687db20630cd7e874cdcccde1b605b1c8582e1ab425da0e7603f9950848a2b27"
    fractions = Spec.model_validate({"data": {"source": "x.npy", "downscale": 2,
                                              "downscale_method": "fractions"}})
    assert fractions.section_hash("data") != majority.section_hash("data")
    ordinal = Spec.model_validate({"data": {"source": "x.npy"}, "model": {"encoding": "ordinal"}})
    assert ordinal.section_hash("model") != spec.section_hash("model")
