"""The ``hpo2nas`` command: a thin layer over functions that are also the Python API.

Every user error becomes one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer
import typer.main

from adapters.types import BadInputError
from harness.cli.live import live_app
from harness.cli.zerocost import zerocost_app
from harness.cli import compare, data, export, run
from harness.cli.run import run_progress

HELP = ("Search NAS-Bench-201 with HPO optimizers (SMAC, DEHB, Optuna, RE, random, BOHB, REINFORCE) "
        "under one shared, simulated budget. Start with `hpo2nas run --help` or `hpo2nas compare --help`.")
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True, help=HELP,
                  rich_markup_mode=None)
# The commands, in the order --help lists them; each lives in the module named after its job.
app.add_typer(data.data_app, name="data")
for _name, _command in (("query", run.query), ("run", run.run), ("worker", run.worker_cmd),
                        ("compare", compare.compare_cmd), ("optimizers", compare.optimizers)):
    app.command(_name)(_command)
app.add_typer(export.export_app, name="export")
app.command("dashboard")(export.dashboard_cmd)
app.command("optuna-dashboard")(export.optuna_dashboard_cmd)
app.add_typer(zerocost_app, name="zerocost")
app.add_typer(live_app, name="live")

__all__ = ["app", "main", "run_progress"]


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        typer.echo(f"hpo2nas {version('hpo2nas')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_version),
) -> None:
    """The app's options before a command: only --version (the app's help is HELP)."""


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"hpo2nas: {message}", err=True)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line on stderr (Python's default adds the file, the line and its source)."""
    typer.echo(f"hpo2nas: warning: {str(message).splitlines()[0] if str(message) else category.__name__}", err=True)


def _empty_value(argv: list[str]) -> str:
    """The option (or "an argument") given an empty string, if any; no hpo2nas option means anything by one."""
    for i, word in enumerate(argv):
        if word == "":
            return argv[i - 1] if i and argv[i - 1].startswith("--") else "an argument"
        if word.startswith("--") and word.endswith("="):
            return word[:-1]
    return ""


def _command_path(argv: list[str]) -> str:
    """``hpo2nas run`` for ``['run', '--out']``: the commands named at the front of ``argv`` (for a
    usage error that the parser raised without its command's context)."""
    command, path = typer.main.get_command(app), ["hpo2nas"]
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return " ".join(path)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the one error path of the CLI.

    Usage errors (click's), user errors (BadInputError), the machine's errors (OSError: a
    full disk) and a library's own failure all become one line on stderr and exit code 2
    (``HPO2NAS_TRACEBACK=1`` re-raises the last kind, for its traceback); Ctrl-C (SIGINT)
    prints an "interrupted" line and exits 130, the shell's code for a SIGINT. Warnings print
    as one line. ``argv`` (default: the process's arguments) lets tests drive the CLI in-process.
    """
    import warnings

    warnings.showwarning = _one_line_warning
    args = sys.argv[1:] if argv is None else list(argv)
    empty = _empty_value(args)
    if empty:  # click reads "" as the current folder ('.'): --out "" would write a run into the working folder
        _fail(f"error: {_command_path(args)}: {empty} is given an empty value (see {_command_path(args)} --help)")
    try:
        code = app(args=args, prog_name="hpo2nas", standalone_mode=False)
    except (typer.Exit, typer.Abort) as exc:
        code = getattr(exc, "exit_code", 130)
    except typer.TyperException as exc:  # click's usage errors, which typer vendors
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if ctx is not None and message == ctx.get_help():  # a group given no command: show its help
            typer.echo(message)
            sys.exit(0)
        where = ctx.command_path if ctx is not None else _command_path(args)
        _fail(f"error: {where}: {message} (see {where} --help)")
    except BadInputError as exc:
        _fail(f"error: {exc}")
    except OSError as exc:  # the machine's, not the code's: a full disk, a folder that cannot be written
        from adapters.files import os_error_text

        _fail(f"error: {os_error_text(exc)}")
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - a library's own failure: one line; the traceback on request
        if os.environ.get("HPO2NAS_TRACEBACK"):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else ""
        _fail(f"error: {type(exc).__name__}: {reason} (HPO2NAS_TRACEBACK=1 shows where)")
    if code == 130:  # typer turns a KeyboardInterrupt in a command into a silent Exit(130)
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)
