"""Schemas of the harness's records, checked whenever they are read back (see :mod:`adapters.schema`).

``run.json`` (:data:`RUN_RECORD`): its ``config`` is what ``--resume`` rebuilds the run from,
so it is checked strictly (every key known, every type and range); the facts written at
the end of a run are checked where present. The checkpoint journal's frames
(:func:`journal_rows`): each frame is a list of rows of exactly the run's trial columns.
"""

from __future__ import annotations

from adapters.schema import Anything, Bool, Int, ListOf, MapOf, Node, Nullable, Num, Obj, OneOf, Row, Str

__all__ = ["RUN_CONFIG", "RUN_RECORD", "journal_rows", "TRIAL_NODES", "DEEPCAVE_EXPORT", "SMAC_HISTORY"]

#: ``run.json``'s ``config``: exactly what ``harness.running.runner.RunConfig.to_dict`` writes.
RUN_CONFIG = Obj(
    {
        "optimizer": Str(),
        "label": Str(),
        "options": MapOf(Anything()),
        "dataset": Str(),
        "budget": Obj({"kind": OneOf(("seconds", "evals", "full")), "amount": Num(min=0, finite=True),
                       "include_overhead": Bool()}, optional={"text": Str(empty=True)}),
        "seed": Int(min=0, max=2**32 - 1),
        "store": Str(),
        "data_seeds": OneOf(("random", "mean")),
        "continue_promotions": Bool(),
        "checkpoint_every": Int(min=1),
    },
    optional={
        "objectives": ListOf(Str(), min_len=2),
        "search_fidelity": Int(min=1),
        "workers": Int(min=1),
        "storage": Str(),
        "benchmark": Str(),
        "benchmark_options": MapOf(Anything()),
    },
)

#: The whole ``run.json``. Keys beyond those listed are kept (facts a later hpo2nas may add).
RUN_RECORD = Obj(
    {"schema_version": OneOf((1,)), "run_id": Str(), "config": RUN_CONFIG, "status": OneOf(("running", "complete"))},
    optional={
        "written": Str(), "command_line": ListOf(Str(empty=True)), "versions": MapOf(Str(empty=True)),
        "store": Obj({"name": Str(), "checksum": Str()}, extra=True), "optimizer_settings": MapOf(Anything()),
        "multi_fidelity": Bool(), "notes": ListOf(Str(empty=True)), "n_trials": Int(min=0),
        "budget_used": Num(min=0), "expected_trials": Nullable(MapOf(Anything())), "workers": Int(min=1),
        "wall_clock_s": Num(min=0), "compute_s": Num(min=0), "utilisation": Num(min=0),
    },
    extra=True,
)

_INDEX = Int(min=0)
_COUNT = Int(min=0)
_FID = Int(min=0)
_SECONDS = Num(min=0)
_ACC = Nullable(Num(nan=True))
#: The type of every trial column a journal row carries (see ``harness.running.records.TRIAL_COLUMNS``);
#: columns of a multi-objective run (``objective_columns``) are numbers or None.
TRIAL_NODES: dict[str, Node] = {
    "trial": _COUNT, "worker": _COUNT, "index": _INDEX, "native_key": Str(), "arch_str": Str(), "canonical_id": _INDEX,
    "fidelity": _FID, "fidelity_asked": _FID, "continued_from": Nullable(_FID),
    "valid_acc": _ACC, "test_acc": _ACC, "data_seed": Anything(),
    "cost_s": _SECONDS, "budget_charged": Num(min=0), "sim_start_s": _SECONDS, "sim_end_s": _SECONDS,
    "sim_compute_s": _SECONDS, "wall_s": _SECONDS, "overhead_s": _SECONDS,
    "status": Str(), "origin": Str(empty=True),
    "incumbent_index": Nullable(_INDEX), "incumbent_valid_acc": _ACC, "incumbent_test_acc": _ACC,
    "regret_valid": _ACC,
    # a live run's measurements (harness.running.live_pricing.LIVE_COLUMNS)
    "train_wall_s": _SECONDS, "device": Str(empty=True), "images_per_s": Num(min=0), "reason": Str(empty=True),
}


def journal_rows(columns: tuple[str, ...]) -> Node:
    """The schema of one journal frame: a list of rows of ``columns``, in order."""
    return ListOf(Row(tuple((name, TRIAL_NODES.get(name, Nullable(Num(nan=True)))) for name in columns)))


#: The one subfolder of a DeepCAVE export: SMAC's own copies of its runs (DeepCAVE's SMAC3v2 format),
#: kept apart because their objective is named ``cost`` and DeepCAVE cannot merge them with the others.
SMAC3V2_FOLDER = "smac3v2"


def _plain_names(body: dict) -> tuple[str, str] | None:
    """Run names become folder names under the export: no path separators (but SMAC's own subfolder), nothing hidden."""
    for i, entry in enumerate(body["runs"]):
        parts = entry["name"].split("/")
        nested_ok = len(parts) == 2 and parts[0] == SMAC3V2_FOLDER and entry.get("format") == "SMAC3v2"
        if (len(parts) > 1 and not nested_ok) or any(not p or p.startswith(".") for p in parts):
            return f"runs[{i}].name", f"must be a plain folder name, got {entry['name']!r}"
    return None


#: ``export.json`` of a DeepCAVE export (``harness.exports.deepcave``), read by the dashboard.
DEEPCAVE_EXPORT = Obj(
    {"runs": ListOf(Obj({"name": Str(), "format": Str()}, extra=True)), "skipped": ListOf(Anything())},
    extra=True, rule=_plain_names,
)

#: SMAC's ``runhistory.json`` in a run's optimizer folder, as far as the DeepCAVE export relies on it.
SMAC_HISTORY = Obj({"data": ListOf(Anything())}, extra=True)
