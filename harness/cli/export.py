"""``hpo2nas export`` and the dashboards: run records as DeepCAVE runs and Optuna studies, served."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import typer.main

from harness.cli.options import bounded
from harness.cli.run import absolute_journal

export_app = typer.Typer(help="Export run records for other tools.", no_args_is_help=True)



@export_app.command("deepcave")
def export_deepcave_cmd(
    src: Path = typer.Argument(..., help="A run folder, a runs/ folder, or an experiment folder (compare's output)."),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Export folder: one DeepCAVE run folder per run (default: EXPERIMENT/deepcave for an "
        "experiment or its runs/ folder, else a sibling SRC-deepcave; an earlier export there is refreshed)."),
    force: bool = typer.Option(False, "--force", help="Replace an earlier export in --out."),
) -> None:
    """Write every run as a DeepCAVE run folder (DataFrame format; SMAC runs also as SMAC3v2)."""
    from adapters.schema import read_json
    from harness.exports.deepcave import MANIFEST, default_out, export_deepcave
    from harness.running.schemas import DEEPCAVE_EXPORT

    # The default folder belongs to these runs (compare writes it too): refreshing it loses nothing.
    target = out or default_out(src)
    written = export_deepcave(src, target, force=force or out is None)
    for item in read_json(target / MANIFEST, DEEPCAVE_EXPORT)["skipped"]:
        typer.echo(f"skipped {item['source']}: {item['reason']}")
    typer.echo(f"{len(written)} DeepCAVE runs in {target}; open them with: hpo2nas dashboard {target}")


@export_app.command("optuna")
def export_optuna_cmd(
    src: Path = typer.Argument(..., help="A run folder, a runs/ folder, or an experiment folder (compare's output)."),
    storage: str = typer.Option(..., "--storage", help="sqlite:///F.db, postgresql://..., or a journal file path."),
) -> None:
    """Write every run (any optimizer) as an Optuna study named by its run id (all or nothing)."""
    from harness.exports.optuna import export_optuna

    names = export_optuna(src, absolute_journal(storage))
    typer.echo(f"{len(names)} Optuna studies in {storage}; open them with: hpo2nas optuna-dashboard {storage}")



def dashboard_cmd(
    folder: Path = typer.Argument(..., help="An export (hpo2nas export deepcave), or a run, runs/ or experiment folder "
                                  "(exported first)."),
    port: int = bounded(8050, "--port", "port", "Port of the page on 127.0.0.1."),
) -> None:
    """Serve DeepCAVE with these runs on 127.0.0.1 until Ctrl-C."""
    from harness.dashboards.deepcave import DashboardError, serve_dashboard

    try:
        serve_dashboard(folder, port=port, echo=typer.echo)
    except DashboardError as exc:
        typer.echo(f"hpo2nas: dashboard: {exc}", err=True)
        raise typer.Exit(1) from None



def optuna_dashboard_cmd(
    target: str = typer.Argument(..., help="A run, runs/ or experiment folder (exported first), an Optuna journal "
                                 "file, or a storage URL."),
    port: int = bounded(8080, "--port", "port", "Port of the page on 127.0.0.1."),
) -> None:
    """Serve optuna-dashboard with these studies on 127.0.0.1 until Ctrl-C."""
    from harness.dashboards.optuna import serve_optuna_dashboard

    serve_optuna_dashboard(target, port=port, echo=typer.echo)


