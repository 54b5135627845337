"""The public sources ``hpo2nas data fetch`` knows: where they are, what they hold, their pins.

A source is plain data (:class:`FetchSource`): its files with their pinned size and SHA-256
where the publisher or a third party gives one, the importer that reads it, and what a user
sees in ``data fetch --list``. Tests build their own entries (their fixtures' checksums) with
:func:`dataclasses.replace`; the registry below, the only one the CLI reads, holds the real pins.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.fetch._download import RemoteFile

__all__ = ["FetchSource", "SOURCES"]


@dataclass(frozen=True)
class FetchSource:
    """One downloadable source and how to import it."""

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    #: the importer format (``benchmarks.importers.IMPORTERS``)
    format: str
    license: str
    homepage: str
    #: what it holds: datasets and the split behind each metric
    splits: str
    fidelities: str
    seeds: str
    #: importer options a user may set (``--fidelity``, ``--search-on-test``)
    options: tuple[str, ...] = ()
    #: where the pins come from, shown with them
    pin_note: str = ""
    #: appended to the error when a host answers with a web page instead of the file
    html_hint: str = ""

    @property
    def folder(self) -> bool:
        """Whether the import reads a folder of the files (several files) rather than the one file."""
        return len(self.files) > 1

    def mirrored(self, url: str) -> tuple[RemoteFile, ...]:
        """The files at a mirror: ``url`` is the file itself, or for several files their folder."""
        if not self.folder:
            return (RemoteFile(self.files[0].name, url, self.files[0].size, self.files[0].sha256),)
        base = url.rstrip("/")
        return tuple(RemoteFile(f.name, f"{base}/{f.name}", f.size, f.sha256) for f in self.files)


_DRIVE_ID = "17_saCsj_krKjlCBLOJEpNtzPXArMCqxU"
#: NATS-Bench's README links the size space's -simple archive to this Drive file
_SSS_DRIVE_ID = "1scOMTUwcQhAMa_IMedp9lTzwmgqHLGgA"
_HF = "https://huggingface.co/datasets/synetune/blackbox-repository/resolve/b8ad7bc5ead2d9daca792340e6b83c5719f9776b/nasbench201"

SOURCES: dict[str, FetchSource] = {
    source.name: source
    for source in (
        FetchSource(
            name="nats-tss",
            title="NATS-Bench topology, simple archive (NATS-tss-v1_0-3ffb9-simple.tar)",
            files=(
                RemoteFile(
                    "NATS-tss-v1_0-3ffb9-simple.tar",
                    f"https://drive.usercontent.google.com/download?id={_DRIVE_ID}&export=download&confirm=t",
                    size=1_145_989_120,
                    sha256="580fd8f3425fed9f495640b0f12ccb7744f89dec7aff263bd75aed37ab0b8bb6",
                ),
            ),
            format="nats",
            license="MIT (NATS-Bench)",
            homepage="https://github.com/D-X-Y/NATS-Bench",
            splits="cifar10-valid: x-valid, test = the 'cifar10' run's ori-test (NB201 convention); cifar10: ori-test; "
            "cifar100, ImageNet16-120: x-valid and x-test; train times",
            fidelities="epochs 1..200 of the 200-epoch schedule (default), or --fidelity schedule: the ends of the "
            "12- and 200-epoch schedules",
            seeds="per seed: 777, 888, 999 (some cells have two)",
            options=("fidelity",),
            pin_note="size and SHA-256 reported by a third party, not by NATS-Bench's authors",
            html_hint=(
                "; Google Drive may refuse scripted downloads: download it by hand from "
                f"https://drive.google.com/file/d/{_DRIVE_ID} and run: hpo2nas data fetch nats-tss --from-file PATH"
            ),
        ),
        FetchSource(
            name="nats-sss",
            title="NATS-Bench size, simple archive (NATS-sss-v1_0-50262-simple.tar)",
            files=(
                RemoteFile(
                    "NATS-sss-v1_0-50262-simple.tar",
                    f"https://drive.usercontent.google.com/download?id={_SSS_DRIVE_ID}&export=download&confirm=t",
                ),
            ),
            format="nats",
            license="MIT (NATS-Bench)",
            homepage="https://github.com/D-X-Y/NATS-Bench",
            splits="32,768 channel configurations; cifar10-valid: x-valid, test = the 'cifar10' run's ori-test "
            "(NB201 convention); cifar10: ori-test; cifar100, ImageNet16-120: x-valid and x-test; train times",
            fidelities="epochs 1..90 of the 90-epoch schedule (default), or --fidelity schedule: the ends of the "
            "1-, 12- and 90-epoch schedules",
            seeds="per seed: 777, 888, 999 where the schedule has them (the 1- and 90-epoch schedules mostly one)",
            options=("fidelity",),
            pin_note="no published checksum: the archive's structure is checked (every meta_archs entry against the "
            "size space's index order, every record against its place) and the SHA-256 seen is recorded",
            html_hint=(
                "; Google Drive may refuse scripted downloads: download it by hand from "
                f"https://drive.google.com/file/d/{_SSS_DRIVE_ID} and run: hpo2nas data fetch nats-sss --from-file PATH"
            ),
        ),
        FetchSource(
            name="mfpbench-nb201",
            title="mf-prior-bench NB201 tables (nb201-tabular-data.zip, parquet)",
            files=(
                RemoteFile(
                    "nb201-tabular-data.zip",
                    "https://ml.informatik.uni-freiburg.de/research-artifacts/mfp-bench/nb201-tabular/v1/nb201-tabular-data.zip",
                ),
            ),
            format="mfpbench",
            license="not stated for the data (mf-prior-bench's code is Apache-2.0; the NB201 values are MIT)",
            homepage="https://github.com/automl/mf-prior-bench",
            splits="cifar10-valid: x-valid (its 'test_*' columns), test = the cifar10 table's ori-test; cifar10: "
            "ori-test; cifar100, ImageNet16-120: ori-test only (x-valid and x-test together: no split to search on)",
            fidelities="epochs 1..200 of the 200-epoch schedule (default), or --fidelity schedule: the ends of the "
            "12- and 200-epoch schedules",
            seeds="seed means only (NATS-Bench's is_random=False)",
            options=("fidelity",),
            pin_note="no published checksum: the archive's structure is checked and the SHA-256 seen is recorded",
        ),
        FetchSource(
            name="synetune-nb201",
            title="syne-tune blackbox repository, nasbench201 (Hugging Face, revision b8ad7bc)",
            files=(
                # size: the array's 787,500,000 bytes plus numpy's 128-byte header for this shape
                RemoteFile(
                    "objectives_evaluations.npy",
                    f"{_HF}/objectives_evaluations.npy",
                    size=787_500_128,
                    sha256="fec481424ae347b365c97813c957958fa0bb52a7df1d071dc6927867db5e3272",
                ),
                RemoteFile(
                    "fidelities_values.npy",
                    f"{_HF}/fidelities_values.npy",
                    size=1_728,
                    sha256="760535e400328d8878da181116b7113636d38aba52d1afc31d9ada32a9744da2",
                ),
                RemoteFile("hyperparameters.parquet", f"{_HF}/hyperparameters.parquet"),
                RemoteFile("metadata.json", f"{_HF}/metadata.json"),
            ),
            format="synetune",
            license="not stated for the data (syne-tune's code is Apache-2.0; the NB201 values are MIT)",
            homepage="https://github.com/syne-tune/syne-tune",
            splits="cifar10 (the train+valid run), cifar100, ImageNet16-120: ori-test only, imported as test_acc "
            "(syne-tune's 'metric_valid_error' is computed from ori-test); searching on it needs --search-on-test; "
            "train time includes the per-epoch ori-test evaluation",
            fidelities="epochs 1..200 of the 200-epoch schedule",
            seeds="777, 888, 999; syne-tune filled a missing seed with the mean of the others (indistinguishable)",
            options=("search_on_test",),
            pin_note="the two .npy files are pinned; the parquet and JSON files have no published checksum "
            "(structure checked, SHA-256 seen recorded)",
        ),
    )
}
