"""REINFORCE (Williams 1992) as NAS-Bench-201's baseline runs it (AutoDL-Projects ``exps/algos/reinforce.py``).

The original, step by step, and how each step is reproduced here in numpy:

- the policy is one learnable logit vector per edge (6 edges x 5 ops, NB201 edge and op
  order), initialised ``1e-3 * randn``; each edge's op is drawn from the softmax of its row
  (six independent categoricals). On any search space this is one categorical per
  hyperparameter: a row per hyperparameter, as wide as the widest one, where a narrower
  hyperparameter's missing choices hold ``-inf`` (probability 0, gradient 0). The initial
  draws fill the real entries in row order, so NB201's policy is draw for draw the same;
- the reward is the observed validation accuracy in percent, as ``train_and_eval`` returns it;
- the baseline is an exponential moving average with momentum 0.9 whose numerator and
  denominator both start at 0 (so its first value is the first reward), updated with the
  reward *before* the advantage ``reward - baseline`` is taken;
- the loss is ``-sum(log_prob(actions)) * advantage``, minimised by ``torch.optim.Adam``
  with the given learning rate and torch's defaults (betas 0.9/0.999, eps 1e-8, no weight
  decay); its gradient on row e is ``-advantage * (onehot(a_e) - softmax(row e))``.

torch is not needed for a 6x5 table: numpy does the same arithmetic (in float64, where the
original ran float32) without torch's global generator, so a run is reproducible from its
seed alone. ``tests/test_reinforce_bohb.py`` checks one Adam step against torch's.

The final cell is the best sampled cell by its reward (``max(trace)``), as the harness reports
for every optimizer; the policy's argmax cell was the script's first version (December 2019,
commented out since January 2020), and this adapter's notes name it. NB201 appends a sample to
the trace before it checks the budget, so the sample that ends its run may still be reported;
here, as for every optimizer, an evaluation that does not fit is never made.

The learning rate is an argument of NB201's script (``REINFORCE.sh``), not a constant of the
method: docs/protocols.md reports the sweep ``experiments/nb201_reinforce_lr.toml`` runs and
why the paper spec uses the rate it does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from adapters.optimizers._base import Between, Limit, OptimizerBase
from adapters.protocols import Observation, SearchProblem, Suggestion
from adapters.search_space import Config, InvalidConfigError, SearchSpace

__all__ = ["Reinforce", "AdamState", "ExponentialMovingAverage", "policy_gradient"]

#: torch.optim.Adam's defaults, which NB201's reinforce.py keeps.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: Scale of the initial logits (``1e-3 * torch.randn``).
INIT_SCALE = 1e-3


class ExponentialMovingAverage:
    """The original's EMA: numerator and denominator both decay, so no start-up bias."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.numerator = 0.0
        self.denominator = 0.0

    def update(self, value: float) -> None:
        self.numerator = self.momentum * self.numerator + (1 - self.momentum) * value
        self.denominator = self.momentum * self.denominator + (1 - self.momentum)

    def value(self) -> float:
        return self.numerator / self.denominator


class AdamState:
    """``torch.optim.Adam`` (single tensor, no weight decay, no amsgrad) for one array."""

    def __init__(self, shape: tuple[int, ...], lr: float) -> None:
        self.lr = lr
        self.step_count = 0
        self.exp_avg = np.zeros(shape)
        self.exp_avg_sq = np.zeros(shape)

    def step(self, param: np.ndarray, grad: np.ndarray) -> None:
        """Update ``param`` in place, in torch's order of operations."""
        beta1, beta2 = ADAM_BETAS
        self.step_count += 1
        self.exp_avg = beta1 * self.exp_avg + (1 - beta1) * grad
        self.exp_avg_sq = beta2 * self.exp_avg_sq + (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2_sqrt = np.sqrt(1 - beta2**self.step_count)
        denom = np.sqrt(self.exp_avg_sq) / bias_correction2_sqrt + ADAM_EPS
        param -= (self.lr / bias_correction1) * self.exp_avg / denom


def initial_logits(space: SearchSpace, rng: np.random.Generator) -> np.ndarray:
    """``INIT_SCALE * randn`` for each hyperparameter's choices, ``-inf`` where a row is wider than its choices."""
    widths = np.array([len(hp.choices) for hp in space.hyperparameters])
    real = np.arange(widths.max()) < widths[:, None]
    logits = np.full(real.shape, -np.inf)
    logits[real] = INIT_SCALE * rng.standard_normal(int(real.sum()))
    return logits


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def policy_gradient(probs: np.ndarray, actions: np.ndarray, advantage: float) -> np.ndarray:
    """Gradient of ``-sum_e log softmax(logits_e)[a_e] * advantage`` with respect to the logits."""
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(actions)), actions] = 1.0
    return -advantage * (onehot - probs)


class Reinforce(OptimizerBase):
    """REINFORCE over independent categoricals (one per hyperparameter) with an EMA baseline and Adam.

    ``learning_rate`` defaults to 0.1: the rate NB201's own tuning procedure picks (GRID-RL.sh's
    grid 0.01-0.5, 500 runs each, compared by mean final cifar10-valid x-valid) when rerun
    under its protocol here. 0.5, its docs' example call, collapses the policy within a few
    dozen steps; NATS-Bench's ``run-all.sh`` uses 0.01. ``ema_momentum`` is 0.9 in both.
    """

    name = "reinforce"
    #: Asynchronous REINFORCE: a free worker samples from the current policy; each result
    #: steps it with the gradient of the policy its cell was drawn from (stale by the trials
    #: that ran meanwhile), as in asynchronous policy-gradient training.
    pending_trials = True
    defaults: ClassVar[dict[str, Any]] = {"learning_rate": 0.1, "ema_momentum": 0.9}
    limits: ClassVar[dict[str, Limit]] = {"learning_rate": Between(0, low_open=True),
                                          "ema_momentum": Between(0, 1, high_open=True)}

    def setup(self, problem: SearchProblem) -> None:
        super().setup(problem)
        self._rng = np.random.default_rng(problem.seed)
        self.logits = initial_logits(problem.space, self._rng)
        self._last_choice = np.array([len(hp.choices) - 1 for hp in problem.space.hyperparameters])
        self._adam = AdamState(self.logits.shape, self.options["learning_rate"])
        self._baseline = ExponentialMovingAverage(self.options["ema_momentum"])

    def ask(self) -> Suggestion:
        probs = softmax(self.logits)
        # One inverse-CDF draw per hyperparameter: independent categoricals.
        draws = self._rng.random(len(probs))
        actions = np.minimum((probs.cumsum(axis=1) < draws[:, None]).sum(axis=1), self._last_choice)
        return Suggestion(tuple(actions.tolist()), origin="policy sample", token=(probs, actions))

    def tell(self, suggestion: Suggestion, observation: Observation) -> None:
        probs, actions = suggestion.token
        reward = observation.valid_acc
        self._baseline.update(reward)
        grad = policy_gradient(probs, actions, reward - self._baseline.value())
        self._adam.step(self.logits, grad)

    def argmax_config(self) -> Config:
        """Each hyperparameter's most likely value: what NB201's reinforce.py reported in its first version."""
        return tuple(self.logits.argmax(axis=1).tolist())

    def notes(self) -> list[str]:
        if not hasattr(self, "logits"):
            return []
        space, config = self.problem.space, self.argmax_config()
        try:
            where = f"index {space.key(config)}"
        except InvalidConfigError:  # a configuration the source never trained (NAS-Bench-Graph's all-skip cells)
            where = f"{space.to_str(config)}, which has no row"
        return [f"the policy's argmax cell at the end (what NB201's first reinforce.py reported) is "
                f"{where}; the final cell is the best observed, as NB201's reinforce.py reports since January 2020"]
