"""The CLI's progress bars: silent for quick work, drawn on stderr for long work."""

from __future__ import annotations

from types import SimpleNamespace

from harness.cli import run_progress
from harness.running.progress import delayed_progress


def test_quick_work_draws_nothing(capsys):
    with delayed_progress("importing x", delay_s=60.0) as progress:
        for done in range(4):
            progress(done, 3)
    assert capsys.readouterr().err == ""


def test_counted_work_ends_with_its_count(capsys):
    with delayed_progress("importing x", delay_s=0.0) as progress:
        for done in range(4):
            progress(done, 3, "cells")
    err = capsys.readouterr().err
    assert "importing x cells" in err and "3/3" in err


def test_run_bar_shows_budget_trials_and_incumbent(capsys):
    config = SimpleNamespace(optimizer="re", dataset="cifar10-valid", budget="100evals")
    with run_progress(config) as progress:
        assert capsys.readouterr().err == ""  # nothing before the first trial
        progress(7, 0.07, None)
        progress(100, 1.0, 91.6066)
    err = capsys.readouterr().err
    assert "re on cifar10-valid" in err and "100.0% of 100evals" in err
    assert "trials 100" in err and "incumbent 91.607" in err
