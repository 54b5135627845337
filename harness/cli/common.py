"""What the command modules share: JSON output, number formats, ``--option key=value`` pairs, budget help."""

from __future__ import annotations

import json

import typer

from adapters.bounds import BOUNDS
from adapters.types import BadInputError
from benchmarks.registry import RUNNABLE_BENCHMARKS

__all__ = ["BENCHMARK_HELP", "BUDGET_HELP", "echo_json", "fmt", "open_tabular", "parse_options", "print_result"]

BUDGET_HELP = "e.g. 500000s, 2h (or 30min), 100evals or 50full [" + "; ".join(
    f"{unit}: {'whole, ' if BOUNDS[kind].integer else ''}{BOUNDS[kind].text}"
    for unit, kind in (("evals", "evals"), ("full", "full"), ("s", "seconds"))) + "]"

BENCHMARK_HELP = f"What is searched: {', '.join(RUNNABLE_BENCHMARKS)} (default nb201; see docs/benchmarks.md)."


def echo_json(obj: object) -> None:
    typer.echo(json.dumps(obj, sort_keys=True))


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def parse_options(pairs: list[str]) -> dict[str, object]:
    """``key=value`` pairs; ``a.b=v`` nests into ``{'a': {'b': v}}`` (e.g. columns.valid_acc=acc)."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInputError(f"option {pair!r} is not key=value")
        head, _, sub = key.partition(".")
        if sub:
            nested = options.setdefault(head, {})
            if not isinstance(nested, dict):
                raise BadInputError(f"option {head!r} given both as a value and as {key!r}")
            nested[sub] = value
        else:
            options[key] = value
    return options

def print_result(result, as_json: bool, mean_test_acc: float | None = None) -> None:
    if as_json:
        echo_json(result.to_dict())
        return
    split = result.split
    typer.echo(f"{result.index}  {result.arch_str}")
    native = getattr(result, "native_key", None)  # a suite task's source key (NB201's is the index)
    if native is not None:
        typer.echo(f"  native key {native}; metrics {', '.join(f'{k} {v!r}' for k, v in result.metrics.items())}")
    typer.echo(f"  dataset {result.dataset}, fidelity {result.fidelity}, seed {result.seed}")
    typer.echo(f"  valid_acc    {fmt(result.valid_acc)}  [{split.get('valid_acc', 'not in source')}]")
    test = fmt(result.test_acc)
    if mean_test_acc is not None:
        test = f"n/a for seed {result.seed}; seed mean {fmt(mean_test_acc)} (the store has no per-seed value)"
    typer.echo(f"  test_acc     {test}  [{split.get('test_acc', 'not in source')}]")
    typer.echo(f"  train_time_s {fmt(result.train_time_s, 1)}  [{split.get('train_time_s', '')}]")
    sizes = [f"{name} {fmt(value, digits)} {unit}" for name, value, digits, unit in (
        ("params", result.params_m, 3, "M"), ("FLOPs", result.flops_m, 3, "M"), ("latency", result.latency_s, 5, "s"))
        if value is not None]
    typer.echo(f"  {', '.join(sizes) if sizes else 'params, FLOPs, latency: not in this store'}")


def open_tabular(benchmark: str, store: str, why: str):
    """A tabular benchmark by name for ``query``, ``data best`` and ``data pareto`` (``--store`` only for NB201);
    live training is refused in one line: it ``why``."""
    from benchmarks.registry import LIVE, NB201, open_named

    if benchmark == LIVE:
        raise BadInputError(f"live training {why}; choose a tabular benchmark")
    if benchmark != NB201 and store != "default":
        raise BadInputError(f"--store names an NB201 store; benchmark {benchmark} reads its own source")
    return open_named(benchmark, store=store)
