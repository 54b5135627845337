"""REINFORCE follows NB201's torch update exactly; BOHB follows HpBandSter's own schedule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adapters import Cell
from adapters.optimizers import make_optimizer
from adapters.protocols import Observation, SearchProblem
from adapters.types import FidelitySpace
from harness.running.budget import Budget
from harness.running.runner import RunConfig, execute_run

FLAT = FidelitySpace("schedule", (200,))
SCHEDULES = FidelitySpace("schedule", (12, 200))


def _torch_reinforce(logits: np.ndarray, actions_seq, rewards, lr: float, momentum: float) -> np.ndarray:
    """NB201's reinforce.py loop in torch (float64): Categorical log-prob, EMA baseline, Adam."""
    param = torch.nn.Parameter(torch.tensor(logits, dtype=torch.float64))
    optimizer = torch.optim.Adam([param], lr=lr)
    numerator = denominator = 0.0
    for actions, reward in zip(actions_seq, rewards):
        dist = torch.distributions.Categorical(torch.nn.functional.softmax(param, dim=-1))
        log_prob = dist.log_prob(torch.tensor(actions))
        numerator = momentum * numerator + (1 - momentum) * reward
        denominator = momentum * denominator + (1 - momentum)
        loss = (-log_prob * (reward - numerator / denominator)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return param.detach().numpy()


@pytest.mark.parametrize("lr", [0.5, 0.01])
def test_reinforce_update_equals_nb201_torch_loop(lr):
    """Twenty ask/tell steps move the logits exactly as NB201's torch code would."""
    opt = make_optimizer("reinforce", {"learning_rate": lr})
    opt.setup(SearchProblem(fidelity=FLAT, seed=5))
    start = opt.logits.copy()
    actions_seq, rewards = [], []
    for step in range(20):
        suggestion = opt.ask()
        reward = 60.0 + (suggestion.cell.index % 97) / 3.0
        actions_seq.append(list(suggestion.cell.ops))
        rewards.append(reward)
        opt.tell(suggestion, Observation(valid_acc=reward, fidelity=200, cost_s=1.0))
    expected = _torch_reinforce(start, actions_seq, rewards, lr, 0.9)
    np.testing.assert_allclose(opt.logits, expected, rtol=0, atol=1e-12)
    assert not np.allclose(opt.logits, start)


def test_reinforce_samples_follow_the_policy():
    """Edge e's op is drawn from softmax(logits[e]): a peaked row gives its op almost always."""
    opt = make_optimizer("reinforce")
    opt.setup(SearchProblem(fidelity=FLAT, seed=0))
    opt.logits[:] = 0.0
    opt.logits[:, 3] = 8.0  # nor_conv_3x3 with probability ~0.9987 on every edge
    ops = np.array([opt.ask().cell.ops for _ in range(400)])
    assert (ops == 3).mean() > 0.99
    opt.logits[:] = 0.0
    counts = np.bincount(np.array([opt.ask().cell.ops for _ in range(2000)]).ravel(), minlength=5)
    assert counts.min() > 0.17 * counts.sum()  # uniform policy: each op ~20% of draws
    assert opt.argmax_config() == (0,) * 6


def _drive(opt, n: int, value=lambda cell: 50.0 + cell.index % 41):
    trials = []
    for _ in range(n):
        s = opt.ask()
        acc = value(s.cell)
        opt.tell(s, Observation(valid_acc=acc, fidelity=s.fidelity or 200, cost_s=1.0))
        trials.append((s, acc))
    return trials


def test_bohb_first_bracket_is_hpbandsters():
    """min 12, max 200, eta 3: 9 configs at 22.2, the best 3 again at 66.7, the best 1 at 200."""
    opt = make_optimizer("bohb")
    opt.setup(SearchProblem(fidelity=SCHEDULES, seed=1))
    assert [round(b, 2) for b in opt.budgets] == [22.22, 66.67, 200.0]
    trials = _drive(opt, 13)
    first = trials[:9]
    assert all(s.origin != "promotion" and s.fidelity == 12 for s, _ in first)
    promoted = [s.cell for s, _ in trials[9:12]]
    assert all(s.origin == "promotion" and s.fidelity == 12 for s, _ in trials[9:12])
    best3 = [s.cell for s, _ in sorted(first, key=lambda t: -t[1])[:3]]
    assert sorted(c.index for c in promoted) == sorted(c.index for c in best3)
    last, _ = trials[12]
    assert last.origin == "promotion" and last.fidelity == 200
    assert last.cell == max(trials[9:12], key=lambda t: t[1])[0].cell
    # The next bracket (s=1) starts fresh configurations at 66.7 (run at 12).
    nxt = _drive(opt, 1)[0][0]
    assert nxt.origin != "promotion" and opt.iterations[1].budgets[0] == pytest.approx(66.67, abs=0.01)


def test_bohb_uses_its_model_and_leaves_numpy_alone():
    """After enough results BOHB picks from its KDE; numpy's global state is untouched."""
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    opt = make_optimizer("bohb")
    opt.setup(SearchProblem(fidelity=FLAT, seed=2))
    origins = [s.origin for s, _ in _drive(opt, 80)]
    assert "model-based pick (KDE)" in origins and origins[0] == "random (no model yet)"
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_bohb_runs_in_threads_keep_their_own_generators():
    """numpy.random's functions are never swapped: two BOHB runs in threads, each stepping one trial
    at a time in lock-step with the other, ask what each asks alone."""
    import threading

    funcs = (np.random.rand, np.random.randint, np.random.choice)

    def alone(seed):
        opt = make_optimizer("bohb")
        opt.setup(SearchProblem(fidelity=FLAT, seed=seed))
        return [s.config for s, _ in _drive(opt, 40)]

    expected = {seed: alone(seed) for seed in (0, 1)}
    barrier, got = threading.Barrier(2), {}

    def stepped(seed):
        opt = make_optimizer("bohb")
        opt.setup(SearchProblem(fidelity=FLAT, seed=seed))
        got[seed] = []
        for _ in range(40):
            barrier.wait()
            got[seed] += [s.config for s, _ in _drive(opt, 1)]

    threads = [threading.Thread(target=stepped, args=(seed,)) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected
    assert (np.random.rand, np.random.randint, np.random.choice) == funcs


def test_bohb_seed_matters_and_runs_through_the_runner(tmp_path):
    """Different seeds ask different cells; a run is recorded with BOHB's budgets in run.json."""
    import json

    cells = {}
    for seed in (0, 1):
        # search_fidelity=12: NB201's protocol, one schedule searched (the default store has both)
        config = RunConfig(optimizer="bohb", dataset="cifar10-valid", budget=Budget.parse("30evals"), seed=seed,
                           search_fidelity=12)
        cells[seed] = [t["index"] for t in execute_run(config, tmp_path / str(seed)).rows]
    assert cells[0] != cells[1]
    body = json.loads((tmp_path / "0" / "run.json").read_text())
    assert body["optimizer_settings"]["budgets"] == [22.2222, 66.6667, 200.0]
    assert any("every BOHB budget" in note for note in body["notes"])


def test_reinforce_final_cell_is_nb201s_best_sample_under_the_paper_protocol(tmp_path):
    """As reinforce.py's ``max(trace)`` (since January 2020): the final cell is the first sample with the best reward."""
    import json

    config = RunConfig(optimizer="reinforce", dataset="cifar10-valid", budget=Budget.parse("12000s"), seed=3,
                       search_fidelity=12, options={"learning_rate": 0.5})
    trials = execute_run(config, tmp_path / "run").rows
    assert {t["fidelity"] for t in trials} == {12} and 60 < len(trials) < 140
    rewards = [t["valid_acc"] for t in trials]
    best = trials[rewards.index(max(rewards))]["index"]
    assert trials[-1]["incumbent_index"] == best
    notes = json.loads((tmp_path / "run" / "run.json").read_text())["notes"]
    assert any("argmax cell" in note and "first reinforce.py" in note for note in notes)
