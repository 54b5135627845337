"""``hpo2nas export optuna``: any optimizer's runs as Optuna studies, one study per run.

Only run records are read (``run.json`` + ``trials.parquet``, through ``harness.running.records.read_run``
as every exporter reads them), so SMAC, DEHB, RE, random search and every other optimizer export the same way.
Each study is named by its run's id and built with the same function as an Optuna run's live
study (``adapters.optimizers.optuna_study.frozen_trial``): the same distributions
(``adapters.optuna_distributions``), values, states and user attributes.

All or nothing: every run is read and every trial built before anything is written; a new
journal file is written beside its place and renamed into it; in an existing storage no
study of these names may exist yet, and the studies written so far are deleted if a write fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from adapters.optimizers.optuna_study import (
    directions, frozen_trial, open_storage, quiet_info, storage_label, sync_storage,
)
from adapters.files import atomic_write
from adapters.types import BadInputError
from harness.running.records import find_runs, read_run, study_attrs

__all__ = ["export_optuna"]


def _studies(src: Path) -> dict[str, tuple[list[Any], dict[str, Any], list[Any]]]:
    """Study name -> (directions, user attributes, trials), for every run under ``src``."""
    studies: dict[str, tuple[list[Any], dict[str, Any], list[Any]]] = {}
    sources: dict[str, Path] = {}
    for folder in find_runs(src):
        run = read_run(folder)
        run_id, config = run.run_id, run.config
        if run_id in sources:
            raise BadInputError(f"{sources[run_id]} and {folder} hold the same run {run_id}")
        sources[run_id] = folder
        objectives = tuple(config.get("objectives") or ("valid_acc",))
        missing = [name for name in objectives if name not in run.trials.columns]
        if missing:
            raise BadInputError(f"corrupt trials file {folder / 'trials.parquet'}: missing objective columns "
                                f"{', '.join(missing)}")
        trials = [frozen_trial(row, number, objectives=objectives, space=run.space)
                  for number, row in enumerate(run.trials.to_dict("records"))]
        study_directions = directions(objectives)
        if run.record.get("store", {}).get("objective", {}).get("direction") == "min":  # e.g. HPOLib's val_loss
            from optuna.study import StudyDirection

            study_directions[objectives.index("valid_acc")] = StudyDirection.MINIMIZE
        studies[run_id] = (study_directions, study_attrs(run_id, config), trials)
    if not studies:
        raise BadInputError(f"no run folders (run.json + trials.parquet) in {src}")
    return studies


def export_optuna(src: Path, storage: str) -> list[str]:
    """Write every run under ``src`` (or the run ``src``) as an Optuna study into ``storage``; return the names.

    ``storage`` is an RDB URL (``sqlite:///studies.db``, ``postgresql://...``) or a journal path.
    """
    studies = _studies(Path(src))
    journal = "://" not in storage
    if journal and not os.path.exists(storage):
        path = Path(storage).resolve()
        if not path.parent.is_dir():
            raise BadInputError(f"storage {storage}: folder {path.parent} does not exist")
        atomic_write(path, lambda tmp: _write(studies, str(tmp)))
    else:
        _write(studies, storage)
    return list(studies)


def _write(studies: dict[str, tuple[list[Any], dict[str, Any], list[Any]]], url: str) -> None:
    """Create each study and its trials; on any failure delete the studies this call created."""
    with quiet_info():  # "A new study created in ..." once per study
        _write_quietly(studies, url)


def _write_quietly(studies: dict[str, tuple[list[Any], dict[str, Any], list[Any]]], url: str) -> None:
    storage = open_storage(url)
    taken = sorted({study.study_name for study in storage.get_all_studies()} & set(studies))
    if taken:
        raise BadInputError(f"storage {storage_label(url)} already holds {len(taken)} of these studies "
                            f"({', '.join(taken[:3])}{', ...' if len(taken) > 3 else ''}); delete them or choose "
                            "another storage")
    created: list[int] = []
    try:
        for name, (study_directions, attrs, trials) in studies.items():
            study_id = storage.create_new_study(study_directions, name)
            created.append(study_id)
            for key, value in attrs.items():
                storage.set_study_user_attr(study_id, key, value)
            for trial in trials:
                storage.create_new_trial(study_id, template_trial=trial)
        sync_storage(storage)  # a new journal is durable before it is renamed into place
    except BaseException:
        for study_id in created:
            storage.delete_study(study_id)
        raise
