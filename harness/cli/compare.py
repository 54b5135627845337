"""``hpo2nas compare`` (a spec's runs and their report) and ``hpo2nas optimizers`` (what can run)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from adapters.protocols import capabilities

def compare_cmd(
    spec: Path = typer.Argument(..., help="An experiment spec (TOML), e.g. experiments/nb201_cifar10.toml."),
    profile: str = typer.Option("quick", "--profile", help="A profile of the spec (quick, full, ...)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the spec's output/PROFILE)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="tcp://HOST:PORT of an existing Dask cluster."),
    store_path: Optional[Path] = typer.Option(None, "--store-path", help="A data root every worker can read."),
    skip: list[str] = typer.Option([], "--skip", help="Leave an optimizer out this time: LABEL or LABEL=reason."),
) -> None:
    """Run every optimizer of a spec on the same seeds (on Dask) and write the report."""
    from harness.compare import compare
    from harness.running.progress import counted_progress
    from harness.running.spec import load_spec

    loaded = load_spec(spec)
    with counted_progress(f"{loaded.name} [{profile}] runs") as progress:
        skipped = {label: reason or "left out on the command line (--skip)"
                   for label, _, reason in (item.partition("=") for item in skip)}
        result = compare(loaded, profile, out=out, scheduler=scheduler, shared_store_path=store_path,
                         skip=skipped, progress=lambda done, total: progress(done, total, ""),
                         notice=lambda line: typer.echo(line, err=True))
    for message, runs in result.warnings.items():
        typer.echo(f"hpo2nas: warning: {message} ({runs} of the runs)", err=True)
    for label, reason in result.excluded:
        typer.echo(f"left out {label}: {reason}")
    typer.echo(f"{result.trials['run_id'].nunique()} runs, {len(result.trials)} trials in {result.wall_s:.0f} s")
    typer.echo(f"report: {result.report}")
    if result.paper_table:
        typer.echo(result.paper_table)
        typer.echo(f"every run's final cell: {result.out / 'finals.csv'}")


def _fidelity_use(cls: type) -> str:
    if cls.multi_fidelity:
        return "multi-fidelity (needs an axis)"
    if "pruner" in cls.defaults:
        return "single; pruner= needs an axis"
    if capabilities(cls).uses_fidelity:
        return "uses a fidelity axis if any"
    return "single-fidelity"


def optimizers() -> None:
    """One optimizer per line: name, defaults, and whether it needs a fidelity axis."""
    from adapters.optimizers import OPTIMIZERS

    for name, cls in OPTIMIZERS.items():
        defaults = " ".join(f"{k}={v}" for k, v in cls.defaults.items()) or "-"
        typer.echo(f"{name:<16} {_fidelity_use(cls):<30} {defaults}")
