"""docs/live.md's Python example runs as shown (on the synthetic data it makes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "live.md"


def test_the_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_bench, capsys) -> None:
    """The page's one python block runs end to end: a pruned Optuna search over live training, then agree."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "docs_live"})
    out = capsys.readouterr().out
    assert "REDUCED setting" in out and "Spearman" in out
    assert list((tmp_path / "results" / "live").glob("*/*-seed0.pt"))
