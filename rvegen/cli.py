"""The `rvegen` command line: `build` and one subcommand per stage, over the public API.

User errors print one line on stderr and exit with code 2 (a bad spec, a missing or
corrupt file, a full or read-only disk, a run folder in use); `validate` exits 1 when a
volume fails the gate and `build` when none passes; an interrupt exits 130 and a rerun
resumes.
"""

from __future__ import annotations

import errno
import functools
import json
import sys
from pathlib import Path
from typing import Callable, Optional

import typer

from .errors import RvegenError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Validated, FEA-ready 3D RVEs from 2D micrographs (multi-plane diffusion).",
)

SpecArg = typer.Argument(..., help="YAML spec file.", show_default=False)
ForceOpt = typer.Option(False, "--force", help="Rerun even when up to date.")
RunDirOpt = typer.Option(None, "--run-dir", help="Override the spec's run_dir.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


#: Longest error line printed (a message quoting hostile input stays readable).
MAX_MESSAGE = 600


def one_line(message: str) -> str:
    """A message on one line, cut to :data:`MAX_MESSAGE` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 15] + " ... (cut)"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def os_error_message(exc: OSError) -> str:
    """What an operating-system error means for the user, naming the file."""
    where = exc.filename or "the run folder"
    reasons = {
        errno.ENOSPC: f"no space left on the device of {where}; free some space and rerun",
        errno.EDQUOT: f"disk quota exceeded writing {where}; free some space and rerun",
        errno.EROFS: f"{where}: read-only file system; choose a writable run_dir",
        errno.EACCES: f"{where}: permission denied",
        errno.EPERM: f"{where}: operation not permitted",
        errno.ENOTDIR: f"{where}: a path component is a file, not a folder",
        errno.EISDIR: f"{where}: is a folder, a file was expected",
    }
    return reasons.get(exc.errno, f"{where}: {exc.strerror or exc}")


def user_errors(fn: Callable) -> Callable:
    """Turn user errors into one line + exit 2, and Ctrl-C into a resumable exit 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except RvegenError as exc:
            _fail(str(exc))
        except OSError as exc:  # disk full, read-only folder, permission
            _fail(os_error_message(exc))
        except MemoryError:
            _fail("out of memory; lower generate.size, generate.batch_slices or "
                  "train.batch_size")
        except KeyboardInterrupt:
            typer.echo("interrupted; rerun the same command to resume", err=True)
            raise typer.Exit(130)

    return wrapper


def _stage(stage: str, spec_path: Path, force: bool, run_dir: Optional[Path], quiet: bool) -> None:
    from .pipeline import run_stage
    from .spec import load_spec

    spec = load_spec(spec_path)
    run_stage(spec, stage, force=force, progress=not quiet, run_dir=run_dir)


def _ensemble_note(report: dict) -> None:
    """Say whether the ensemble as a whole is within the spread of real ensembles of as
    many samples (the gate judges single volumes and cannot see a bias they share)."""
    from .validation.report import report_outside_real_spread, report_real_spread

    if "within_real_spread" not in report.get("ensemble", {}):
        return  # no volumes, or a report of rvegen < 0.3.7
    count, phase = report["ensemble"]["count"], report["phase_of_interest"]
    outside = report_outside_real_spread(report)
    standing = report_real_spread(report)
    kinds = {name: m["kind"] for name, m in report.get("metrics", {}).items()}
    unit = {name: " %" if kind == "curve" else "" for name, kind in kinds.items()}
    beyond = ", ".join(f"{name} {err:.3g}{unit.get(name, '')} off (real at most "
                       f"{worst:.3g}{unit.get(name, '')})"
                       for name, (err, worst) in outside.items())
    head = f"ensemble of {count}, phase {phase}:"
    if standing is None:  # a report of rvegen 0.3.7: one statement per criterion
        within = not outside
    else:
        within = bool(standing["within"])
    if within and not outside:
        typer.echo(f"{head} within the spread of real ensembles of as many samples", err=True)
    elif within:
        typer.echo(f"{head} within the spread of real ensembles of as many samples, taking "
                   f"its criteria together (at least as far off on their worst criterion: "
                   f"{standing['as_far_off']} of {standing['real']}); on one criterion alone, "
                   f"beyond the worst of them: {beyond}", err=True)
    else:
        real = (f" (further off, taking its criteria together, than each of "
                f"{standing['real']})" if standing else "")
        typer.echo(f"{head} outside the spread of real ensembles of as many samples{real}: "
                   + beyond, err=True)


@app.command()
@user_errors
def build(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
          quiet: bool = QuietOpt) -> None:
    """Run the whole pipeline (ingest, train, generate, validate, export[, homogenize])."""
    from .pipeline import build as run_build
    from .spec import load_spec

    result = run_build(load_spec(spec), force=force, progress=not quiet, run_dir=run_dir)
    report = result.report or {}
    total = len(report.get("volumes", []))
    _ensemble_note(report)
    typer.echo(f"done: {len(result.accepted)}/{total} volume(s) accepted, "
               f"{len(result.exported)} file(s) exported in {result.run_dir}", err=True)
    if not result.accepted and not result.exported:
        typer.echo("no volume passed the gate; nothing was exported (see report.json)",
                   err=True)
        raise typer.Exit(1)


@app.command()
@user_errors
def ingest(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
           quiet: bool = QuietOpt) -> None:
    """Read the data, label its phases and cut training patches -> dataset.h5."""
    _stage("ingest", spec, force, run_dir, quiet)


@app.command()
@user_errors
def train(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
          quiet: bool = QuietOpt) -> None:
    """Train the 2D denoiser (resumes from model/checkpoint.pt) -> model/."""
    _stage("train", spec, force, run_dir, quiet)


@app.command()
@user_errors
def generate(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
             quiet: bool = QuietOpt) -> None:
    """Sample 3D volumes by multi-plane harmonized diffusion -> volumes.h5."""
    _stage("generate", spec, force, run_dir, quiet)


@app.command()
@user_errors
def validate(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
             quiet: bool = QuietOpt) -> None:
    """Compare volumes with the data (S2, L(z), morphology) -> report.json, plots/.

    Exits 0 when every volume passes the gate, 1 when any fails.
    """
    from .pipeline import RunDir
    from .spec import load_spec

    _stage("validate", spec, force, run_dir, quiet)
    report = json.loads(RunDir(run_dir or load_spec(spec).run_path).report.read_text())
    _ensemble_note(report)
    if not report["all_passed"]:
        typer.echo(f"{len(report['volumes']) - report['accepted']} volume(s) failed the gate; "
                   "see report.json", err=True)
        raise typer.Exit(1)


@app.command()
@user_errors
def export(spec: Path = SpecArg, force: bool = ForceOpt, run_dir: Optional[Path] = RunDirOpt,
           quiet: bool = QuietOpt) -> None:
    """Write accepted volumes as meshes (Abaqus .inp, .vti, .xdmf) -> export/."""
    _stage("export", spec, force, run_dir, quiet)


@app.command()
@user_errors
def homogenize(spec: Path = SpecArg, force: bool = ForceOpt,
               run_dir: Optional[Path] = RunDirOpt, quiet: bool = QuietOpt) -> None:
    """Effective stiffness (CalculiX) of accepted RVEs and real sub-volumes -> homogenization.json."""
    _stage("homogenize", spec, force, run_dir, quiet)


@app.command()
@user_errors
def schema(output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="Write the JSON Schema to this file (default: stdout).")
) -> None:
    """Print (or write) the JSON Schema of the spec."""
    from .atomic import write_text
    from .spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        write_text(output, text)
        typer.echo(f"wrote {output}", err=True)


@app.command()
@user_errors
def plugins() -> None:
    """List the installed plugins, where each comes from and what it provides."""
    from .plugins import registry

    for entry in registry().plugins():
        typer.echo(f"{entry['plugin']} ({entry['origin']})")
        for kind, names in entry["provides"].items():
            typer.echo(f"  {kind:9s} {', '.join(names)}")
        if entry["events"]:
            typer.echo(f"  events    {', '.join(entry['events'])}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
