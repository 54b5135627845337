"""Live mode: NB201 cells evaluated by training NB201's network on the user's own data.

The layer under the runner: data readers (never the network), NB201's training recipe with
per-epoch callbacks and checkpoints, :class:`LiveBenchmark` behind the Benchmark protocol, and
:func:`agree` (table versus reality). See docs/live.md.
"""

from __future__ import annotations

from benchmarks.live._agree import CPU_REDUCTION, AgreeResult, agree, stratified_cells
from benchmarks.live._benchmark import LiveBenchmark, LiveQueryResult
from benchmarks.live._data import (
    LIVE_DATASETS,
    SPLIT_SEED,
    ImageSet,
    LiveData,
    load_dataset,
    load_image_folder,
    synthetic_data,
)
from benchmarks.live._options import LIVE_DATASET_NAMES, SYNTHETIC, live_options, load_named, open_live, parse_overrides
from benchmarks.live._settings import NB201_SCHEDULES, TrainSettings
from benchmarks.live._trainer import EpochRecord, TrainResult, build_live_network, resolve_device, train

__all__ = [
    "AgreeResult",
    "CPU_REDUCTION",
    "EpochRecord",
    "ImageSet",
    "LIVE_DATASETS",
    "LIVE_DATASET_NAMES",
    "LiveBenchmark",
    "LiveData",
    "LiveQueryResult",
    "NB201_SCHEDULES",
    "SPLIT_SEED",
    "SYNTHETIC",
    "TrainResult",
    "TrainSettings",
    "agree",
    "build_live_network",
    "live_options",
    "load_dataset",
    "load_named",
    "load_image_folder",
    "open_live",
    "parse_overrides",
    "resolve_device",
    "stratified_cells",
    "synthetic_data",
    "train",
]
