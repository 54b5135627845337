"""Runs as Optuna studies: opening any Optuna storage, and one trial record as an Optuna trial.

Public (the runner, both Optuna exports, the plots and the real workers use it), though it
lives with the Optuna adapters that write studies live.

Both the live path (an Optuna sampler's run writes its study while it runs) and ``hpo2nas
export optuna`` (any optimizer's records as a study) build their trials with
:func:`frozen_trial`, so a study looks the same whichever way it was written: the search
space's hyperparameters as categorical parameters (``SearchSpace.optuna_distributions``: NB201's
six edges by default), the observed validation
accuracy as the value of a maximizing study (with several objectives, each objective's observed
value in the run's order and direction), and the record's facts as user attributes.

Trial times are simulated: ``datetime_start``/``datetime_complete`` are the trial's simulated
start and end counted from the Unix epoch (1970-01-01 00:00 UTC), so a study is identical
however often it is written, and optuna-dashboard's durations are the simulated costs.

This module reads rows by column name only (the columns of ``trials.parquet``); it does not
import the harness that defines them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from adapters._objectives import OBJECTIVES
from adapters.nb201_space import NB201
from adapters.search_space import SearchSpace
from adapters.types import BadInputError

if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "JOURNAL_NAME",
    "USER_ATTRS",
    "directions",
    "frozen_trial",
    "check_storage",
    "open_storage",
    "rdb_url",
    "quiet_info",
    "same_trial",
    "storage_label",
    "sync_storage",
]

#: The file an Optuna sampler's run writes its study to, in the run folder, unless --storage says otherwise.
JOURNAL_NAME = "optuna.journal"
#: User attribute -> the trials.parquet column it comes from.
USER_ATTRS: dict[str, str] = {
    "cost_s": "cost_s",
    "sim_start_s": "sim_start_s",
    "sim_end_s": "sim_end_s",
    "fidelity": "fidelity",
    "data_seed": "data_seed",
    "cell_index": "index",
    "arch_str": "arch_str",
    "origin": "origin",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_URL_SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")


@contextlib.contextmanager
def quiet_info() -> Iterator[None]:
    """Raise Optuna's log level to WARNING for one call: its INFO lines ("A new study
    created", per-trial lines) would repeat in every run's log; real warnings still show."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def storage_label(url: str) -> str:
    """What to call a storage in messages (an RDB URL without its password)."""
    if "://" not in url:
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by open_storage
        return url.split("://", 1)[0] + "://..."


def check_storage(url: str) -> str:
    """``url`` if it has the form of a storage (an RDB URL of a known scheme, or a journal path
    in an existing folder), else BadInputError; nothing is opened or created.

    Specs call it at load, so a bad storage is refused before the first run, not part-way.
    """
    if "://" in url:
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        if scheme not in _URL_SCHEMES:
            raise BadInputError(f"storage {storage_label(url)}: unknown URL scheme {scheme!r} "
                                f"(an Optuna RDB URL such as sqlite:///runs.db, or a journal file path)")
        database = url.split(":///", 1)[1].split("?", 1)[0] if scheme == "sqlite" and ":///" in url else ""
        if database and database != ":memory:" and not os.path.isdir(os.path.dirname(os.path.abspath(database))):
            raise BadInputError(f"storage {url}: folder {os.path.dirname(os.path.abspath(database))} does not exist")
        return url
    path = os.path.abspath(url)
    if os.path.isdir(path):
        raise BadInputError(f"storage {url} is a folder; give a journal file path or an RDB URL")
    if not os.path.isdir(os.path.dirname(path)):
        raise BadInputError(f"storage {url}: folder {os.path.dirname(path)} does not exist")
    return url


def rdb_url(url: str) -> str:
    """The URL SQLAlchemy is given: a plain ``postgresql://`` names the installed driver.

    Why: SQLAlchemy 2.1 maps a plain ``postgresql://`` to psycopg 3, while the locked driver is
    psycopg2 (``psycopg2-binary``); the plain form is what users write and the docs show. A URL
    that names its driver (``postgresql+psycopg://``) is left as written.
    """
    return "postgresql+psycopg2://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def open_storage(url: str, *, create: bool = True, **rdb_options: Any) -> BaseStorage:
    """An Optuna storage: an RDB URL (``sqlite:///runs.db``, ``postgresql://...``) or a journal file path.

    A journal path gets Optuna's ``JournalStorage`` over a ``JournalFileBackend``
    (``adapters.optimizers._journal.SyncedLater``: an flock, and an fsync at the end). A line cut short at the end of a journal can only be a write that a
    kill interrupted; it is dropped first (under the lock), because the next append would
    otherwise glue onto it and leave a line that no reader can parse. ``rdb_options`` go to
    ``RDBStorage`` (the heartbeat of real workers, ``harness.running.real_workers``).

    Every other line must be a UTF-8 JSON record: Optuna's own reader stops with a
    ``UnicodeDecodeError`` or ``JSONDecodeError`` at a damaged line in the middle, so such a
    journal is refused with one line naming the file and the line (nothing is cut from it).
    ``create=False`` (a worker joining a study, a dashboard) refuses a journal that does not exist
    rather than making an empty one.
    """
    import optuna
    from optuna.storages.journal import JournalStorage

    from adapters.optimizers._journal import SyncedLater

    if "://" in check_storage(url):
        try:
            return optuna.storages.RDBStorage(rdb_url(url), **rdb_options)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy and drivers raise many types
            raise BadInputError(f"cannot open storage {storage_label(url)}: {str(exc).splitlines()[0]}") from None
    path = os.path.abspath(url)
    if os.path.exists(path):
        _drop_torn_tail(path)
        _check_journal(path)
    elif not create:
        raise BadInputError(f"storage {url}: no such journal file")
    try:
        return JournalStorage(SyncedLater(path))  # replays every record of the file
    except _REPLAY_ERRORS as exc:  # a line that is no JSON, or a JSON object that is no record Optuna knows
        raise BadInputError(f"corrupt Optuna journal {path}: a record Optuna cannot replay "
                            f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None


def sync_storage(storage: BaseStorage) -> None:
    """Make what was written durable: a journal opened by :func:`open_storage` is fsynced here
    (its appends are not, one by one); an RDB storage commits every write already."""
    backend = getattr(storage, "_backend", None)  # JournalStorage keeps its backend here
    if hasattr(backend, "sync"):
        backend.sync()


def _drop_torn_tail(path: str) -> None:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
    from adapters.optimizers._journal import FlockLock

    lock = FlockLock(path)
    lock.acquire()
    try:
        with open(path, "r+b") as fh:
            data = fh.read()
            fh.truncate(data.rfind(b"\n") + 1)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        lock.release()


#: What Optuna's journal replay raises on a damaged record (a missing key, a wrong type, bad JSON).
_REPLAY_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError)


def _check_journal(path: str) -> None:
    """Refuse a journal with a line that is not UTF-8 JSON-object text (Optuna would raise mid-replay)."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                ok = line.decode("utf-8").lstrip().startswith("{")
            except UnicodeDecodeError:
                ok = False
            if not ok:
                raise BadInputError(f"corrupt Optuna journal {path}: line {number} is not a journal record "
                                    "(binary or foreign data); restore the file or start the study anew")


def directions(objectives: tuple[str, ...] = ("valid_acc",)) -> list[Any]:
    """Optuna's study directions for these objectives (``adapters.OBJECTIVES``)."""
    from optuna.study import StudyDirection

    return [StudyDirection.MAXIMIZE if OBJECTIVES[name].maximize else StudyDirection.MINIMIZE for name in objectives]


def _sim_time(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=float(seconds))


def frozen_trial(
    row: Mapping[str, Any],
    number: int,
    *,
    intermediate_values: Mapping[int, float] | None = None,
    system_attrs: Mapping[str, Any] | None = None,
    objectives: tuple[str, ...] = ("valid_acc",),
    space: SearchSpace = NB201,
) -> FrozenTrial:
    """One trial record (a trials.parquet row) as an Optuna trial of a maximizing study.

    A pruned record is a PRUNED trial whose value is its last observed accuracy (what
    ``study.tell(trial, state=PRUNED)`` stores). ``intermediate_values`` are what the live
    study holds (the per-epoch values an Optuna pruner saw, or none); when they are not
    given (an export from records), the trial's one observation stands as the intermediate
    value at its fidelity, so the dashboard's intermediate-value plot shows every
    optimizer's fidelities. With several ``objectives`` the trial's values are the row's
    observed objective columns in that order (the accuracy is ``valid_acc``). The row's
    ``arch_str`` is a configuration of ``space``, whose hyperparameter names the trial's params carry.
    """
    from optuna.trial import FrozenTrial, TrialState

    status = row["status"]
    if status not in _STATES:
        raise BadInputError(f"trial {number}: unknown status {status!r}")
    failed = status == "failed"  # a training that failed (NaN loss, out of memory): a FAIL trial, no value
    value = None if failed else float(row["valid_acc"])
    # the configuration the optimizer proposed (its string form), not its row's canonical one: a sampler restored
    # from these trials must see what it sampled (NAS-Bench-Graph maps many configurations onto one row), and a
    # configuration without a row (index -1, a failed trial) has no canonical form
    params = space.to_params(space.from_str(str(row["arch_str"])))
    user_attrs = {attr: _plain(row[column]) for attr, column in USER_ATTRS.items()}
    user_attrs["data_seed"] = str(row["data_seed"])  # trials.parquet stores it as text ("0", "mean")
    if failed and row.get("reason"):
        user_attrs["fail_reason"] = str(row["reason"])
    steps = ({} if failed else {int(row["fidelity"]): value}) if intermediate_values is None else dict(intermediate_values)
    trial = FrozenTrial(
        number=number,
        state=getattr(TrialState, _STATES[status]),
        value=value if len(objectives) == 1 else None,
        values=None if len(objectives) == 1 or failed else [float(row[name]) for name in objectives],
        datetime_start=_sim_time(row["sim_start_s"]),
        datetime_complete=_sim_time(row["sim_end_s"]),
        params=params,
        distributions=space.optuna_distributions(),
        user_attrs=user_attrs,
        system_attrs=dict(system_attrs or {}),
        intermediate_values=steps,
        trial_id=number,
    )
    trial._validate()
    return trial


#: A record's status -> the Optuna trial state it is stored as.
_STATES = {"ok": "COMPLETE", "pruned": "PRUNED", "failed": "FAIL"}


def _plain(value: Any) -> Any:
    """A JSON-ready Python value (numpy scalars from parquet rows become int/float/str)."""
    return value.item() if hasattr(value, "item") else value


def same_trial(a: FrozenTrial, b: FrozenTrial) -> bool:
    """Equal as a study records them: number, state, value, parameters, intermediate values, user attributes."""
    return (a.number, a.state, a.values, a.params, a.intermediate_values, a.user_attrs) == (
        b.number, b.state, b.values, b.params, b.intermediate_values, b.user_attrs
    )


class StoredStudy:
    """The study a run keeps in an Optuna storage: created once, one trial appended per finished trial.

    Each appended trial is complete (parameters, value, state, intermediate values, user
    attributes) and carries the sampler's state after it, so every trial in the storage is a
    point a resume can restart from. A resumed run re-asks the trials that the storage holds
    beyond the runner's last checkpoint; they are compared with the stored ones (a sampler
    that is not deterministic is caught there) instead of being appended twice.
    """

    #: System attribute holding the sampler's state after this trial (base64 of a zlib-compressed pickle).
    STATE_ATTR = "hpo2nas:state"

    def __init__(self, storage: str, name: str, attrs: Mapping[str, Any], objectives: tuple[str, ...]) -> None:
        self.url, self.name = storage, name
        self.storage = open_storage(storage)
        try:
            self.study_id = self.storage.get_study_id_from_name(name)
        except KeyError:
            self.study_id = self.storage.create_new_study(directions(objectives), name)
            for key, value in attrs.items():
                self.storage.set_study_user_attr(self.study_id, key, value)
        self.stored = self.storage.get_all_trials(self.study_id, deepcopy=False)
        self.stored.sort(key=lambda trial: trial.number)

    def close(self) -> None:
        """Make the study durable (one fsync of a journal)."""
        sync_storage(self.storage)

    def refuse_existing(self) -> None:
        """A fresh run must not add to a study that already holds trials."""
        if self.stored:
            raise BadInputError(
                f"storage {storage_label(self.url)} already holds study {self.name!r} with {len(self.stored)} "
                "trials; resume the run (--resume) or delete the study (optuna.delete_study)"
            )

    def append(self, trial: FrozenTrial, state: bytes) -> None:
        """Store a finished trial with the sampler state after it, or check it against the stored one."""
        import base64
        import zlib

        if trial.number < len(self.stored):
            if not same_trial(trial, self.stored[trial.number]):
                raise BadInputError(
                    f"resume diverged at trial {trial.number}: the sampler produced {trial.params} "
                    f"(value {trial.value}), study {self.name!r} holds {self.stored[trial.number].params} "
                    f"(value {self.stored[trial.number].value}); the sampler is not deterministic"
                )
            return
        trial.system_attrs[self.STATE_ATTR] = base64.b64encode(zlib.compress(state, 1)).decode("ascii")
        self.storage.create_new_trial(self.study_id, template_trial=trial)

    def restore_point(self, n: int) -> tuple[list[FrozenTrial], bytes | None]:
        """The first ``min(n, stored)`` trials without the saved states, and the state after the last of them."""
        import base64
        import copy
        import zlib

        trials = []
        for trial in self.stored[:n]:
            trial = copy.deepcopy(trial)
            state = trial.system_attrs.pop(self.STATE_ATTR, None)
            if state is None:
                raise BadInputError(f"study {self.name!r}: trial {trial.number} has no saved sampler state; "
                                    "it was not written by an hpo2nas run")
            trials.append(trial)
        return trials, zlib.decompress(base64.b64decode(state)) if trials else None
