"""`import hpo2nas`: one namespace over the three layers, cheap to import, every name real."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hpo2nas
from harness.running.spec import parse_spec
from adapters.types import BadInputError


def test_every_public_name_resolves_to_its_defining_object():
    import importlib

    for name, module in hpo2nas._EXPORTS.items():
        assert getattr(hpo2nas, name) is getattr(importlib.import_module(module), name), name
    assert sorted(dir(hpo2nas)) == sorted(hpo2nas.__all__)
    with pytest.raises(AttributeError):
        hpo2nas.no_such_name  # noqa: B018


def test_import_is_cheap():
    """The heavy libraries load only when a name that needs them is used."""
    code = "import sys, hpo2nas; print(sorted(m for m in ('optuna', 'smac', 'distributed', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_uses_the_cli_defaults(tmp_path, data_root):
    result = hpo2nas.run("random", budget="5evals", seed=3, out=tmp_path / "run")
    assert len(result.rows) == 5 and result.config["dataset"] == "cifar10-valid" and result.config["seed"] == 3
    with pytest.raises(BadInputError, match="malformed budget"):
        hpo2nas.run("random", budget="lots", out=tmp_path / "bad")


def test_a_spec_built_in_code_is_checked_like_a_file():
    body = {"name": "two", "datasets": ["cifar10-valid"], "optimizers": {"re": {}, "random": {}},
            "profiles": {"tiny": {"seeds": [0, 1], "budget": "20000s"}}}
    spec = parse_spec(body)
    assert [o.label for o in spec.optimizers] == ["re", "random"] and spec.profile("tiny").seeds == (0, 1)
    with pytest.raises(BadInputError, match="needs a 'name'"):
        parse_spec({k: v for k, v in body.items() if k != "name"})
    with pytest.raises(BadInputError, match="unknown optimizer"):
        parse_spec({**body, "optimizers": {"nope": {}}})
