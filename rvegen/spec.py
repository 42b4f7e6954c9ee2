"""The build spec: one pydantic model per pipeline stage, loaded from YAML.

A spec file is YAML read with ``yaml.safe_load`` and validated against :class:`Spec`.
Relative paths in it are resolved against the spec file's own folder, so a spec and its
data can be moved together. Unknown fields are rejected (``extra="forbid"``) so that a
typo never silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from .errors import SpecError


#: Largest count of anything a spec may ask for (volumes, patches, steps, ...).
MAX_COUNT = 1_000_000
#: Seeds are 32-bit (numpy and torch generators take them as they are).
MAX_SEED = 2**32 - 1
#: An Abaqus / CalculiX identifier: a letter, then letters, digits or underscores.
IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
#: A length unit written into file headers: letters (and micro) only.
UNIT = r"^[A-Za-z\u00b5]{1,8}$"
#: The *STATIC solvers of CalculiX (and Abaqus' default).
SOLVERS = ("SPOOLES", "PARDISO", "PASTIX", "ITERATIVE SCALING", "ITERATIVE CHOLESKY")


class _Section(BaseModel):
    # inf and nan are never a valid setting (e.g. voxel_size: .inf)
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), allow_inf_nan=False)


class RawSpec(_Section):
    """Layout of a headerless binary voxel file."""

    shape: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(
        min_length=2, max_length=3, description="[z, y, x] or [y, x].")
    dtype: Literal["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                   "float64"] = "uint8"
    byte_order: Literal["little", "big"] = "little"
    header_bytes: int = Field(0, ge=0, le=2**40, description="Bytes to skip at the start.")


class SegmentationSpec(_Section):
    """How grey values become phase labels."""

    method: Literal["labelled", "otsu", "multiotsu", "thresholds"] = Field(
        "labelled",
        description="'labelled': the distinct values are the phases; 'otsu' (2 phases), "
        "'multiotsu' (K phases) or explicit 'thresholds'.",
    )
    thresholds: Optional[list[float]] = Field(None, description="K - 1 grey values.")
    denoise: Literal["none", "median", "gaussian"] = Field(
        "none", description="Filter applied before thresholding."
    )
    denoise_size: float = Field(1.0, gt=0, description="Median window or Gaussian sigma.")


class SyntheticSpec(_Section):
    """A seeded synthetic microstructure instead of a file (the paper's cases I and II)."""

    kind: str = Field(description="Registered synthetic source: spheres, grains.")
    shape: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        min_length=3, max_length=3,
        description="spheres: [z, y, x] of the volume; grains: [count, y, x] of the images.",
    )
    diameter_mean: float = Field(15.0, gt=0, description="spheres: mean diameter (voxels).")
    diameter_std: float = Field(4.0, ge=0, description="spheres: diameter std (voxels).")
    volume_fraction: float = Field(0.3, gt=0, lt=1, description="spheres: inclusion fraction.")
    overlap: bool = Field(True, description="spheres: may inclusions overlap.")
    aspect: list[Annotated[float, Field(gt=0, le=100)]] = Field(
        [1.0, 1.0, 1.0], min_length=3, max_length=3,
        description="spheres: stretch of the diameter along [z, y, x]; unequal values give "
        "axis-aligned ellipsoids (anisotropic data).",
    )
    grain_sizes: list[float] = Field(
        [6.0, 9.0, 12.0], min_length=1, description="grains: sizes (px), equal area fractions."
    )
    boundary_width: int = Field(1, ge=1, description="grains: boundary width (px).")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options for a plugin synthetic source."
    )


class PlaneSources(_Section):
    """Three orthogonal micrographs of one material, one per plane family.

    Each image's rows and columns are the plane's two axes in (z, y, x) order, which is
    how rvegen slices a volume: xy rows y / columns x, xz rows z / columns x, yz rows z /
    columns y.
    """

    xy: str = Field(description="Micrograph of the xy plane (normal to z): rows y, columns x.")
    xz: str = Field(description="Micrograph of the xz plane (normal to y): rows z, columns x.")
    yz: str = Field(description="Micrograph of the yz plane (normal to x): rows z, columns y.")


class DataSpec(_Section):
    """Where the microstructure comes from and how it becomes training patches."""

    source: Optional[str] = Field(
        None,
        description="Image, stack, folder of slices, .h5, .raw or .zip (relative to the "
        "spec file). Give this, `sources` or `synthetic`.",
    )
    synthetic: Optional[SyntheticSpec] = Field(None, description="A synthetic source instead.")
    sources: Optional[PlaneSources] = Field(
        None,
        description="Three orthogonal 2D micrographs (xy, xz, yz; relative to the spec "
        "file) instead of `source`: an equal share of the patches is cut from each, and "
        "each plane of a volume is validated against its own micrograph. With per_plane, "
        "each plane family gets its own model (anisotropic materials).",
    )
    reader: str = Field(
        "auto", description="Registered reader name; 'auto' picks one by file suffix."
    )
    reader_options: dict[str, Any] = Field(
        default_factory=dict, description="Options for a plugin reader."
    )
    dataset: Optional[str] = Field(None, description="HDF5: path of the dataset to read.")
    member: Optional[str] = Field(None, description="zip: the file inside to read.")
    raw: Optional[RawSpec] = Field(None, description="raw: shape, dtype and byte order.")
    kind: Literal["auto", "image", "images", "stack"] = Field(
        "auto",
        description="'image': one 2D micrograph; 'images': a 3D array of independent 2D "
        "images (axis 0 = image); both give random crops and per-plane 2D validation. "
        "'stack': a 3D volume (slices, 3D validation). 'auto': 2D -> image, 3D -> stack.",
    )
    phases: int = Field(2, ge=2, le=16, description="Number of phases K; labels 0..K-1.")
    segmentation: SegmentationSpec = Field(default_factory=SegmentationSpec)
    downscale: int = Field(
        1, ge=1, le=16, description="Downscaling factor applied after segmentation."
    )
    downscale_method: Literal["majority", "fractions"] = Field(
        "majority",
        description="How a block of voxels becomes one: 'majority' (its largest phase; drains "
        "a minority phase, whose thin parts and ties go to the majority) or 'fractions' (its "
        "largest phase up to per-phase offsets that keep the input's phase fractions; can cut "
        "thin ligaments of a majority phase). The ingest log shows how far the fractions moved.",
    )
    patch_size: int = Field(32, ge=8, le=1024, description="Side n of the n x n patches.")
    num_patches: int = Field(
        512, ge=1, le=MAX_COUNT, description="Random crops taken (images, and stacks larger than n)."
    )
    slice_axes: list[Literal[0, 1, 2]] = Field(
        [0, 1, 2],
        description="Axes of a 3D stack (0 = z, 1 = y, 2 = x) along which slices are taken "
        "(all three for isotropic data; the sectioning axis only for anisotropic data).",
    )
    holdout: float = Field(
        0.0, ge=0, lt=0.9,
        description="Stacks: fraction of the z extent (the top slab) kept out of training "
        "and used as the 3D reference of validation.",
    )
    train_slice: Optional[int] = Field(
        None, ge=0,
        description="Stacks: train on this ONE slice only (index along the first of "
        "slice_axes, within the part not held out), as a user with a single micrograph "
        "would, while validation stays 3D against the held-out part.",
    )
    augment: bool = Field(True, description="8-fold dihedral augmentation during training "
                          "(with per_plane: the 4 flips only).")
    per_plane: bool = Field(
        False,
        description="Anisotropic data: one model per plane family (xy, xz, yz), each "
        "trained on the slices normal to its axis (a stack) or on its own micrograph "
        "(`sources`); the sampler denoises each plane with its own model. Needs all three "
        "slice_axes; quarter turns are left out of the augmentation (they would swap the "
        "in-plane directions).",
    )
    voxel_size: float = Field(1.0, gt=0, le=1e9,
                              description="Edge length of one voxel (after downscale).")
    unit: str = Field("um", pattern=UNIT,
                      description="Unit of voxel_size (letters only, e.g. um, nm, mm), "
                      "carried to every export.")

    @model_validator(mode="after")
    def _checks(self) -> "DataSpec":
        if len(set(self.slice_axes)) != len(self.slice_axes) or not self.slice_axes:
            raise ValueError("data.slice_axes: must list distinct axes out of 0, 1, 2")
        if sum(x is not None for x in (self.source, self.synthetic, self.sources)) != 1:
            raise ValueError("data: give exactly one of `source` (a file), `sources` (three "
                             "plane micrographs) or `synthetic`")
        if self.sources is not None and (self.kind not in ("auto", "image") or self.holdout
                                         or self.train_slice is not None):
            raise ValueError("data.sources: three 2D micrographs; data.kind 'image' (or "
                             "auto), no holdout and no train_slice")
        if self.train_slice is not None and self.holdout == 0:
            raise ValueError("data.train_slice: needs data.holdout > 0 (the 3D reference)")
        all_axes = sorted(self.slice_axes) == [0, 1, 2]
        if self.per_plane and (not all_axes or self.train_slice is not None):
            raise ValueError("data.per_plane: needs slices along all three axes "
                             "(slice_axes [0, 1, 2]) and no train_slice")
        return self


class ModelSpec(_Section):
    """The 2D denoiser and its diffusion schedule."""

    backbone: str = Field("compact", description="Registered backbone name.")
    preset: str = Field("tiny", description="Backbone preset (compact: tiny, small, base).")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Backbone options overriding the preset."
    )
    encoding: Literal["one_hot", "ordinal"] = Field(
        "one_hot",
        description="K > 2 phases: K one-hot channels (argmax decodes), or one ordinal "
        "channel (phase k at -1 + 2k / (K - 1), nearest level decodes; an interface between "
        "phases 0 and 2 then passes through phase 1's band). Binary data: one channel.",
    )
    prediction: Literal["eps", "v", "x0"] = Field(
        "eps", description="What the network predicts: the noise (the paper), v or x0."
    )
    schedule: Literal["linear", "cosine"] = Field(
        "linear", description="Noise schedule: linear betas (the paper) or cosine."
    )
    timesteps: int = Field(1000, ge=2, le=10000, description="Diffusion steps T.")
    beta_start: float = Field(1e-4, gt=0, lt=1, description="beta_1 of the linear schedule.")
    beta_end: float = Field(1e-2, gt=0, lt=1, description="beta_T of the linear schedule.")

    @model_validator(mode="after")
    def _betas_ordered(self) -> "ModelSpec":
        if self.beta_end < self.beta_start:
            raise ValueError("beta_end: must be >= beta_start")
        return self


class TrainSpec(_Section):
    """Training of the 2D DDPM (epsilon prediction)."""

    steps: int = Field(5000, ge=0, le=100 * MAX_COUNT, description="Optimizer steps in total.")
    batch_size: int = Field(32, ge=1, le=65536)
    lr: float = Field(3e-4, gt=0, description="Adam learning rate.")
    warmup_steps: int = Field(100, ge=0, description="Linear learning-rate warm-up.")
    ema_decay: float = Field(0.999, ge=0, lt=1, description="EMA decay of sampling weights.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient-norm clip.")
    loss_weighting: Literal["none", "min_snr"] = Field(
        "none", description="Per-step loss weight: none (the paper) or min-SNR (gamma 5)."
    )
    checkpoint_every: int = Field(200, ge=1, description="Steps between checkpoints.")
    snapshot_steps: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list,
        description="Also keep the EMA weights at these steps as model/snapshots/"
        "model_<step>.pt (training curves: error against steps).",
    )
    init_from: Optional[str] = Field(
        None,
        description="Checkpoint to start from (fine-tuning), relative to the spec file.",
    )
    device: str = Field("auto", description="'auto' (cuda > mps > cpu), 'cpu', 'cuda', ...")


#: Field values of ``generate.preset: paper`` (Algorithm 1 as published) that a spec may
#: still override one by one.
PAPER_SAMPLER = {
    "steps": 1000, "harmonizing_steps": 10, "pool_sigma": 0.0, "fraction_guidance": False,
    "start_from_data_mean": False,
}
#: ``generate.preset: harmonized``: rvegen's sampler with the paper's harmonizing repeats
#: (n_h = 5), pooling on the first pass of each step only (benchmarks/sampler/README.md)
HARMONIZED_SAMPLER = {"harmonizing_steps": 5, "pool_repeats": False}
#: what ``generate.pool_sigma: auto`` chooses from, and how many trial volumes judge each
#: width (rvegen.generate.choose_pool_sigma)
AUTO_POOL_SIGMAS = (1.0, 1.5, 2.0)
AUTO_TRIALS = 8
#: what ``generate.harmonizing_steps: auto`` chooses from: candidate -> the fields it sets
#: ("5 unpooled": the paper's repeats with fraction guidance and no cross-slice pooling;
#: "8": more repeats lengthen the chords, where n_h 5 leaves them short, e.g. NMC)
AUTO_HARMONIZING = {"1": {"harmonizing_steps": 1}, "5": HARMONIZED_SAMPLER,
                    "5 unpooled": {"harmonizing_steps": 5, "pool_sigma": 0.0},
                    "8": {**HARMONIZED_SAMPLER, "harmonizing_steps": 8}}
#: what ``generate.method: auto`` chooses from, after pooling and n_h: the DDPM step or
#: DDIM with less fresh noise per step; at eta < 1 the chords of the phase of interest
#: shorten (spheres: 6.2, 5.9, 5.4 voxels at the DDPM step, eta 0.8, 0.5; the training
#: stack's 6.0), another feature-size knob beside n_h (benchmarks/sampler/README.md,
#: session 17)
AUTO_METHODS = {"ddpm": {"method": "ddpm"}, "ddim 0.8": {"method": "ddim", "eta": 0.8},
                "ddim 0.5": {"method": "ddim", "eta": 0.5}}
#: the generate fields that can be 'auto', in the order they are chosen, and their candidates
AUTO_CANDIDATES = {"pool_sigma": AUTO_POOL_SIGMAS, "harmonizing_steps": AUTO_HARMONIZING,
                   "method": AUTO_METHODS}
#: version of these rules: part of the volumes' identity, so that volumes chosen by an
#: older rule are sampled again (bump it whenever rvegen.generate.AutoTrials or the
#: candidates change) ...
AUTO_RULE = "self-or-training-stack/4"
#: ... and of the 2D self score alone, in the identity of volumes it chooses for (session
#: 18 added the slices' topology to it; the 3D stack score did not change)
AUTO_SELF_RULE = "self-shape/1"
#: ... and of how more than two phases are scored, in the identity of their volumes alone
#: (session 20: every phase, not the phase of interest alone;
#: rvegen.validation.report.scored_phases)
AUTO_PHASES_RULE = "every-phase/1"


class GenerateSpec(_Section):
    """Multi-plane sampling of 3D volumes (the paper's Algorithm 1 and rvegen's variant)."""

    preset: Literal["rvegen", "harmonized", "paper"] = Field(
        "rvegen",
        description="'rvegen': 100 strided steps with cross-slice pooling and fraction "
        "guidance (3,200 evaluations per 32^3 volume); 'harmonized': the same with n_h = 5 "
        "harmonizing repeats, pooling on each step's first pass only (5x the evaluations); "
        "'paper': Algorithm 1 as published (T steps, n_h = 10, none of rvegen's "
        "additions). Fields given here override it.",
    )
    sampler: str = Field("multiplane", description="Registered sampler name.")
    sampler_options: dict[str, Any] = Field(
        default_factory=dict, description="Options passed to a plugin sampler."
    )
    count: int = Field(4, ge=1, le=MAX_COUNT, description="Number of volumes.")
    size: Optional[int] = Field(
        None, ge=4, le=2048, description="Edge m of the m^3 volume; default the patch size."
    )
    steps: int = Field(
        100, ge=1, description="Reverse steps (T = faithful; fewer = strided schedule)."
    )
    harmonizing_steps: Union[Annotated[int, Field(ge=1)], Literal["auto"]] = Field(
        1,
        description="n_h: denoise/re-noise repeats per step (paper: 10). 'auto': 1, the "
        "'harmonized' preset's 5 (pooling on each step's first pass only), 5 without "
        "pooling or 8 (pooling on the first pass), whichever's auto_trials (8) trial "
        "volumes score best (at the chosen pooling width): "
        "against the training part of a 3D stack in 3D (S2, L(z), Euler density, largest "
        "cluster, in units of the real spread) when the stack is the training data and "
        "not the validation reference, else their slices against the model's own "
        "2D samples (no real data): S2 and L(z) against fraction-guided ones, Euler "
        "density and largest cluster against plain ones, in units of their spread. "
        "The phase of interest's terms; with more than two phases, each term's mean "
        "over every phase.",
    )
    auto_trials: int = Field(
        AUTO_TRIALS, ge=2, le=64,
        description="Trial volumes that judge each candidate of the 'auto' settings (on "
        "2D data, also this many volumes' worth of the model's own 2D samples). More make "
        "a close choice firmer at proportional cost: on the SOFC anode the reverse step's "
        "winner moved with the trial seed at 8 (benchmarks/sampler/README.md, session 20).",
    )
    harmonize_across_planes: bool = Field(
        False, description="Move to the next plane at every harmonizing repeat."
    )
    fusion: bool = Field(
        False, description="Average the prediction made along the three planes per step."
    )
    plane_order: Literal["cycle", "palindrome", "random"] = Field(
        "cycle",
        description="Order of the planes: 'cycle' yz, xz, xy, yz, ... (the paper); "
        "'palindrome' yz, xz, xy, xy, xz, yz, ...; 'random' a new order every three steps.",
    )
    plane_block: int = Field(
        1, ge=1, le=100,
        description="Denoising passes on one plane before the next takes over (1: the "
        "paper, a new plane every step).",
    )
    pool_sigma: Union[Annotated[float, Field(ge=0, le=16)], Literal["auto"]] = Field(
        2.0,
        description="Cross-slice pooling: the model sees the slices averaged with a "
        "Gaussian of up to this width (voxels) along the plane normal, at the lower noise "
        "level that the average has; keeps neighbouring slices coherent. 0 = the paper. "
        "'auto': of 1, 1.5 and 2, the width whose auto_trials (8) trial volumes score "
        "best, by the score of harmonizing_steps 'auto'.",
    )
    pool_repeats: bool = Field(
        True,
        description="Pool the slices on the harmonizing repeats of a step too (false: on "
        "its first pass only; each pooled pass smooths once more).",
    )
    pool_taper: float = Field(
        0.8, gt=0,
        description="Noise-to-signal ratio sqrt((1 - a_t) / a_t) below which the pooling "
        "width tapers linearly to zero.",
    )
    fraction_guidance: Optional[bool] = Field(
        None,
        description="Shift the predicted clean volume at every step so that each phase "
        "holds the data's fraction of voxels. Default: on (when the fractions are known).",
    )
    start_from_data_mean: bool = Field(
        True,
        description="Start from the mean that the data keeps at step T (the paper's betas "
        "leave a_T = 0.0064 > 0) instead of zero-mean noise.",
    )
    method: Literal["ddpm", "ddim", "auto"] = Field(
        "ddpm",
        description="Reverse step: DDPM posterior (the paper) or DDIM. 'auto': the DDPM "
        "step, DDIM at eta 0.8 or at eta 0.5, whichever's auto_trials (8) trial volumes "
        "score best by the score of harmonizing_steps 'auto' (after pool_sigma and "
        "harmonizing_steps).",
    )
    eta: float = Field(1.0, ge=0, le=1, description="DDIM: 0 deterministic, 1 DDPM variance.")
    clip_x0: bool = Field(
        False, description="Clip the predicted clean volume to [-1, 1] at every step."
    )
    match_volume_fraction: bool = Field(
        False, description="Binary data: label the data's volume fraction of voxels (the "
        "largest values) as phase 1 instead of thresholding at 0 (post-processing; "
        "fraction_guidance makes it unnecessary).",
    )
    smooth_sigma: float = Field(
        0.0, ge=0, description="Gaussian filter (voxels) of the final continuous volume "
        "before labelling (post-processing; measure it with benchmarks/sampling.py).",
    )
    close_boundaries: bool = Field(
        False,
        description="Binary data whose phase 1 is a network of thin grain boundaries: close "
        "the gaps that sampling leaves in it (watershed lines of the grain phase, with as "
        "many grains per area in the sections as the training images, thickened into their "
        "face neighbours to the data's boundary fraction; sampled boundaries away from the "
        "lines are dropped). Post-processing; rvegen.boundaries.",
    )
    grain_density: Optional[float] = Field(
        None, gt=0,
        description="close_boundaries: grains per 1000 pixels of section to aim for. "
        "Default: measured on the training patches (rvegen.boundaries.grain_density).",
    )
    periodic: bool = Field(False, description="Circular padding so the volume tiles.")
    ceiling_2d: bool = Field(
        True,
        description="Also sample count x size 2D images with the model alone (same "
        "schedule): validation scores them as the 2D ceiling beside every 3D figure.",
    )
    batch_slices: int = Field(
        256, ge=1, le=65536, description="Most slices per forward pass (memory budget)."
    )
    device: str = Field("auto")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            preset = {"paper": PAPER_SAMPLER, "harmonized": HARMONIZED_SAMPLER}.get(
                data.get("preset"), {})
            return {**preset, **data}
        return data


class ThresholdSpec(_Section):
    """Acceptance thresholds (absolute mode); percentages as in eq. 24."""

    s2: float = Field(20.0, gt=0, description="Largest S2 error rate (%).")
    lineal_path: float = Field(30.0, gt=0, description="Largest L(z) error rate (%).")
    volume_fraction: float = Field(0.05, gt=0, description="Largest |vf - vf_ref|.")


class ValidateSpec(_Section):
    """Statistical validation against the training data."""

    mode: Literal["calibrated", "absolute"] = Field(
        "calibrated",
        description="'calibrated': accept a volume whose errors lie within the natural "
        "spread of real samples of the same size; 'absolute': fixed thresholds.",
    )
    quantile: float = Field(
        0.95, gt=0, le=1, description="Quantile of the real samples' errors (calibrated)."
    )
    reference_samples: int = Field(
        32, ge=2, le=100_000, description="Real crops / sub-volumes used for the reference."
    )
    floor_draws: int = Field(
        20, ge=1, le=1000,
        description="Ensembles of fresh real samples (as many as volumes) behind the floor: "
        "the median of their errors, the range of their mean scalars, and the worst of "
        "their errors, against which the ensemble is judged (a generator indistinguishable "
        "from the data is beyond the worst of 20 on a given criterion about once in 21 "
        "runs, and, taking every criterion at once, outside their spread once in 21 at "
        "most; 5 before rvegen 0.3.7).",
    )
    ensemble_gate: bool = Field(
        False,
        description="Also refuse every volume when the ensemble as a whole is outside the "
        "spread of the real ensembles behind the floor, taking every criterion of the phase "
        "of interest at once (a bias every volume shares, which the gate of single volumes "
        "cannot see; an ensemble like the data is refused once in floor_draws + 1 runs at "
        "most). Off: that verdict is reported, not acted on.",
    )
    max_r: Optional[int] = Field(
        None, ge=1, description="Largest lag r (voxels) in the curves; default n/2."
    )
    reference: Literal["auto", "training", "fresh"] = Field(
        "auto",
        description="The real data compared with: 'auto' = a stack's held-out part when "
        "there is one, else the training data; 'training' = the training data; 'fresh' "
        "(synthetic sources) = a new, independent realization of the same source with 4x "
        "the slices (stacks) or images (2D), so that the reference is not itself noisy.",
    )
    thresholds: ThresholdSpec = Field(default_factory=ThresholdSpec)
    metrics: list[str] = Field(
        ["s2", "lineal_path", "euler_density", "largest_cluster"],
        min_length=1,
        description="Registered metrics scored for every phase and used by the gate: curves "
        "(s2, lineal_path) by eq. 24, scalars (euler_density, largest_cluster, "
        "surface_density, plugins) by their absolute difference.",
    )
    metric_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Options per metric name, passed to the metric."
    )
    phase_of_interest: Optional[int] = Field(
        None, ge=0,
        description="Phase of the headline figures; default the minority phase of the data.",
    )


class MaterialSpec(_Section):
    """Isotropic linear elastic material of one phase."""

    youngs_modulus: float = Field(gt=0, le=1e30)
    poissons_ratio: float = Field(gt=-1, lt=0.5)


class ExportSpec(_Section):
    """Writers for accepted volumes."""

    formats: list[str] = Field(
        ["abaqus", "vti", "xdmf"],
        description="Registered exporter names (abaqus, vti, vtu, xdmf, damask, plugins).",
    )
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Options per exporter name (plugin exporters)."
    )
    only_accepted: bool = Field(True, description="Export only volumes that passed.")
    element_type: Literal["C3D8", "C3D8R", "C3D8I"] = Field("C3D8")
    phase_names: Optional[list[Annotated[str, Field(pattern=IDENTIFIER)]]] = Field(
        None, description="One name per phase, each an Abaqus identifier (a letter, then "
        "letters, digits or _; at most 80); default phase0, phase1, ..."
    )
    materials: Optional[list[MaterialSpec]] = Field(
        None, description="One material per phase; default clearly marked placeholders."
    )
    periodic_bc: bool = Field(
        False, description="Abaqus: periodic boundary conditions (*EQUATION via RPX/RPY/RPZ)."
    )
    load_cases: bool = Field(
        False, description="Abaqus: six unit-strain steps for homogenization (needs periodic_bc)."
    )
    solver: Optional[Literal[SOLVERS]] = Field(
        None, description="Abaqus: *STATIC SOLVER= value (CalculiX: SPOOLES, ITERATIVE "
        "SCALING, ITERATIVE CHOLESKY, PARDISO, PASTIX); none = the solver's default."
    )


class HomogenizeSpec(_Section):
    """FE homogenization of the accepted RVEs (and of real sub-volumes, for stacks)."""

    solver: str = Field("calculix", description="Registered solver name.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Solver options (calculix: solver [ITERATIVE SCALING], element_type "
        "[C3D8], timeout [s]).",
    )
    workers: int = Field(2, ge=1, le=1024, description="Volumes solved at once.")
    max_volumes: Optional[int] = Field(
        None, ge=1, le=1_000_000,
        description="Solve at most this many accepted RVEs (the first ones, in volume "
        "order); none solves all. FE solves cost minutes per RVE on a CPU.",
    )
    real_samples: int = Field(
        8, ge=0, le=10_000,
        description="Real sub-volumes of the generated size solved as the reference "
        "(stacks only; 2D data have no 3D reference).",
    )
    transport: bool = Field(
        False, description="Also the effective diffusivity and tortuosity factor per axis "
        "(taufactor) of transport_phase.",
    )
    transport_phase: Optional[int] = Field(
        None, ge=0, description="Phase that conducts; default the phase of interest."
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Level of the intervals.")


class ExecutionSpec(_Section):
    """Where per-volume work runs: this process, or a Dask cluster."""

    backend: Literal["local", "dask"] = Field(
        "local", description="'dask': generate, validate and homogenize volumes as tasks "
        "on a dask.distributed cluster.",
    )
    address: Optional[str] = Field(
        None, description="Scheduler address (tcp://host:8786); none starts a LocalCluster."
    )
    workers: int = Field(2, ge=1, le=4096, description="LocalCluster workers.")
    threads_per_worker: int = Field(1, ge=1, le=256, description="LocalCluster threads.")


class Spec(_Section):
    """A complete rvegen build."""

    run_dir: str = Field("runs/default", description="Run directory (relative to the spec).")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of every random draw.")
    data: DataSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)
    generate: GenerateSpec = Field(default_factory=GenerateSpec)
    validate_: ValidateSpec = Field(default_factory=ValidateSpec, alias="validate")
    export: ExportSpec = Field(default_factory=ExportSpec)
    homogenize: Optional[HomogenizeSpec] = Field(
        None, description="FE homogenization after export (runs when the section is given)."
    )
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    # Set by load_spec: the folder relative paths are resolved against, and the file name
    # that error messages start with.
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _name: str = PrivateAttr(default="spec")

    @model_validator(mode="after")
    def _cross_checks(self) -> "Spec":
        names, mats = self.export.phase_names, self.export.materials
        if names is not None and len(names) != self.data.phases:
            raise ValueError(
                f"export.phase_names: needs one name per phase ({self.data.phases}), "
                f"got {len(names)}"
            )
        if self.validate_.reference == "fresh" and self.data.synthetic is None:
            raise ValueError("validate.reference: 'fresh' needs a data.synthetic source")
        for metric in ("euler_density", "largest_cluster"):
            used = self.validate_.metric_options.get(metric, {}).get("connectivity", "face")
            values = [used] if isinstance(used, str) else used
            if not isinstance(values, list) or any(v not in ("face", "full") for v in values) \
                    or (not isinstance(used, str) and len(values) != self.data.phases):
                raise ValueError(f"validate.metric_options.{metric}.connectivity: 'face' or "
                                 f"'full', or a list of one of them per phase "
                                 f"({self.data.phases}), got {used!r}")
        if self.generate.close_boundaries and self.data.phases != 2:
            raise ValueError("generate.close_boundaries: only for binary data (data.phases: 2)")
        if self.generate.close_boundaries and self.generate.periodic:
            raise ValueError("generate.close_boundaries: the watershed is not periodic; "
                             "set generate.periodic: false")
        if self.export.load_cases and not self.export.periodic_bc:
            raise ValueError("export.load_cases: needs export.periodic_bc: true")
        if self.export.periodic_bc and not self.export.load_cases:
            raise ValueError("export.periodic_bc: a periodic deck without steps computes "
                             "nothing in CalculiX; set export.load_cases: true")
        if self.homogenize is not None and not mats:
            raise ValueError("export.materials: homogenize needs one material "
                             "(youngs_modulus, poissons_ratio) per phase")
        if mats is not None and len(mats) != self.data.phases:
            raise ValueError(
                f"export.materials: needs one material per phase ({self.data.phases}), "
                f"got {len(mats)}"
            )
        return self

    def resolve(self, path: str) -> Path:
        """Resolve a path written in the spec against the spec file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self._base_dir / p)

    @property
    def name(self) -> str:
        """File name of the spec, used at the start of error messages."""
        return self._name

    @property
    def run_path(self) -> Path:
        """Absolute run directory."""
        return self.resolve(self.run_dir)

    def section_hash(self, *sections: str) -> str:
        """Content hash of the named sections (and the seed), for up-to-date checks."""
        dump = self.model_dump(mode="json", by_alias=True)
        payload = {name: identity_fields(name, dump[name]) for name in sections}
        payload["seed"] = self.seed
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


#: Fields added after run folders already existed, at the value that reproduces the
#: behaviour from before they existed. Identity hashes leave them out at that value, so
#: that upgrading rvegen does not rerun finished stages (retraining takes hours).
NEUTRAL_FIELDS: dict[str, dict[str, Any]] = {
    "data": {"sources": None, "downscale_method": "majority"},
    "model": {"encoding": "one_hot"},
    "generate": {"plane_block": 1, "pool_repeats": True, "close_boundaries": False,
                 "grain_density": None, "auto_trials": AUTO_TRIALS},
    "validate": {"ensemble_gate": False},
}


def identity_fields(section: str, fields: Any) -> Any:
    """A section's dumped fields as identity hashes see them (neutral new fields left out)."""
    if not isinstance(fields, dict):
        return fields
    neutral = NEUTRAL_FIELDS.get(section, {})
    return {k: v for k, v in fields.items() if not (k in neutral and v == neutral[k])}


def _quote(value: Any, limit: int = 60) -> str:
    """repr of a user's value, cut so that an error line stays readable."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


#: What a string field must look like, in words (for pattern errors).
PATTERNS = {
    IDENTIFIER: "an identifier (a letter, then letters, digits or _; at most 80 characters)",
    UNIT: "a unit of letters only (e.g. um, nm, mm)",
}


#: loc parts that name a member of a Union (e.g. ``constrained-int``, ``literal['auto']``)
#: rather than a field
_UNION_MEMBER = re.compile(r"^(constrained-\w+|literal\[.*\]|float|int|str|bool)$")


def _describe(err: dict[str, Any]) -> str:
    """One clause for one pydantic error: 'field.path: what is wrong (got X)'."""
    parts = [str(p) for p in err["loc"] if p != "validate_"]
    loc = ".".join(p for p in parts if not _UNION_MEMBER.match(p)) or "<top level>"
    kind, ctx, given = err["type"], err.get("ctx", {}), err.get("input")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"{loc}: must be {op} {bound} (got {_quote(given)})"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{loc}: must be a whole number (got {_quote(given)})"
    if kind in ("float_parsing", "float_type"):
        return f"{loc}: must be a number (got {_quote(given)})"
    if kind == "finite_number":
        return f"{loc}: must be a finite number (got {_quote(given)})"
    if kind == "string_pattern_mismatch":
        what = PATTERNS.get(ctx.get("pattern"), f"match {ctx.get('pattern')}")
        return f"{loc}: must be {what} (got {_quote(given)})"
    if kind == "literal_error":
        return f"{loc}: must be one of {ctx.get('expected')} (got {_quote(given)})"
    if kind == "extra_forbidden":
        return f"{loc}: unknown field (check its spelling; see `rvegen schema`)"
    if kind == "missing":
        return f"{loc}: required field is missing"
    if kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
        return msg if ":" in msg else f"{loc}: {msg}"
    return f"{loc}: {err['msg'].rstrip('.').lower()} (got {_quote(given)})"


def _merge_alternatives(clauses: list[str]) -> list[str]:
    """One clause per field: a value that fits no member of a Union ('>= 1' or 'auto')
    gets 'field: must be >= 1 or one of 'auto' (got 0)', not one clause per member."""
    by_loc: dict[str, list[str]] = {}
    for clause in clauses:
        loc, _, what = clause.partition(": ")
        by_loc.setdefault(loc, []).append(what)
    merged = []
    for loc, whats in by_loc.items():
        got = re.search(r" \(got .*\)$", whats[-1])
        if len(whats) > 1 and got:
            bare = [re.sub(r" \(got .*\)$", "", w) for w in whats]
            bare = [bare[0]] + [re.sub(r"^must be ", "", w) for w in bare[1:]]
            merged.append(f"{loc}: {' or '.join(bare)}{got.group(0)}")
        else:
            merged += [f"{loc}: {w}" for w in whats]
    return merged


#: Most YAML nodes a spec may expand to (anchors and aliases counted as often as used):
#: a real spec has a few hundred; an alias bomb has billions.
MAX_NODES = 100_000


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """Number of nodes of a composed YAML graph with every alias expanded, up to ``limit``."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) in memo:
            return memo[id(n)]
        if isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(c) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        else:
            total = 1
        memo[id(n)] = min(total, limit + 1)
        return memo[id(n)]

    return size(node)


def read_yaml(text: str, name: str) -> Any:
    """``yaml.safe_load`` that refuses alias bombs and absurd nesting with a clear error."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, MAX_NODES) > MAX_NODES:
            raise SpecError(f"{name}: expands to more than {MAX_NODES:,} YAML nodes (aliases "
                            "repeated too often); write the spec out plainly")
        return yaml.safe_load(text)
    except RecursionError:
        raise SpecError(f"{name}: nested too deeply to be a spec") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(f"{name}: not valid YAML ({first})") from None


def parse_spec(raw: Any, base_dir: Path, name: str = "spec") -> Spec:
    """Validate an already-parsed mapping into a :class:`Spec`.

    Raises
    ------
    SpecError
        One line naming the spec, every bad field and the fix.
    """
    if not isinstance(raw, dict):
        raise SpecError(f"{name}: must be a YAML mapping of sections (data, model, ...)")
    try:
        spec = Spec.model_validate(raw)
    except RecursionError:
        raise SpecError(f"{name}: nested too deeply to be a spec") from None
    except ValidationError as exc:
        clauses = _merge_alternatives([_describe(e) for e in exc.errors()])
        raise SpecError(f"{name}: " + "; ".join(clauses)) from None
    spec._base_dir = base_dir
    spec._name = name
    return spec


def load_spec(path: str | Path) -> Spec:
    """Read and validate a YAML spec file.

    Parameters
    ----------
    path
        Path to the YAML file.

    Returns
    -------
    Spec
        The validated spec; relative paths resolve against the file's folder.

    Raises
    ------
    SpecError
        If the file is missing, is not YAML, or does not validate.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    if path.stat().st_size > 1_000_000:
        raise SpecError(f"{path}: {path.stat().st_size:,} bytes is too large for a spec")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a text file") from None
    return parse_spec(read_yaml(text, str(path)), path.resolve().parent, path.name)


def json_schema() -> dict[str, Any]:
    """JSON Schema of the spec (what `rvegen schema` writes)."""
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rvegen build spec"
    return schema
