"""The ``hpo2nas`` command: a thin typer layer over the library's functions."""

from harness.cli.app import app, main, run_progress

__all__ = ["app", "main", "run_progress"]
