"""NAS-Bench-Graph's GNN architectures as a :class:`SearchSpace`, canonicalised by the source's own code.

An architecture (``nas_bench_graph.Arch``) is a DAG of 4 computing nodes: node ``i`` reads
one earlier node (``link[i-1]``: 0 the raw input, ``j`` node ``j``) and applies one GNN op.
Node 1 always reads the input, so the free choices are the inputs of nodes 2-4 (2 x 3 x 4 =
24 link patterns) and the 4 ops: 24 x 9**4 = 157,464 configurations (24 x 5**4 on proteins).
The source trained one representative per isomorphism class and keys it by
``Arch.valid_hash()``, which maps every link pattern onto its 9 canonical ones, moves skip
ops and sorts interchangeable ops before ``hash_arch()``. This space calls ``valid_hash``
itself, so every configuration lands on exactly the row the source gives it; the 24
all-skip configurations have no row (the source never trained them) and are refused; the
runner records such a proposal as a failed trial (:attr:`NasBenchGraphSpace.untrained` says
why), and the ConfigSpace form forbids them, so SMAC and ConfigSpace's sampling never propose them.
The hash's digits are ops' indices in ``gnn_list`` on every task, proteins included
(``hash_arch(use_proteins=True)`` does not match the proteins table).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from adapters.search_space import Config, FiniteSpace, Hyperparameter, InvalidConfigError

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = ["NasBenchGraphSpace"]

_LINK_NAMES = ("input_2", "input_3", "input_4")
_BASE = 10  # hash_arch's base: len(gnn_list) + 1
_SKIP = "skip"


class NasBenchGraphSpace(FiniteSpace):
    """The architectures of one NAS-Bench-Graph table.

    Args:
        hashes: the table's keys (``valid_hash`` values); row ``k`` is the ``k``-th smallest.
        ops: the task's op names (``gnn_list``, or ``gnn_list_proteins`` on proteins).
        name: the space's name.
    """

    def __init__(self, hashes: Iterable[int], ops: Iterable[str], *, name: str = "nasbench-graph") -> None:
        from nas_bench_graph.architecture import gnn_list, link_list

        self.name = name
        self._ops = tuple(ops)
        self._gnn_index = {op: gnn_list.index(op) for op in self._ops}
        self._op_of_digit = {gnn_list.index(op): i for i, op in enumerate(self._ops)}
        self._links = tuple(tuple(link) for link in link_list)
        self.hyperparameters = (
            *(Hyperparameter(hp, tuple(range(node + 1))) for node, hp in enumerate(_LINK_NAMES, start=1)),
            *(Hyperparameter(f"op_{node}", self._ops) for node in range(1, 5)),
        )
        self._hashes = tuple(sorted(int(h) for h in hashes))
        self._row = {h: row for row, h in enumerate(self._hashes)}
        if len(self._row) != len(self._hashes):
            raise ValueError(f"{name}: repeated hashes")
        self.size = len(self._hashes)
        self._configs: dict[int, Config] = {}
        #: configuration -> row, for every configuration met so far (representatives and the source's verdicts)
        self._keys: dict[Config, int] = {}

    #: Why a configuration may have no row (the runner's reason for its failed trial).
    untrained = "not in NAS-Bench-Graph: the source trained no all-skip architecture"

    def configspace(self, seed: int | None = None, *, ordinals: bool = True, forbidden: bool = True) -> ConfigurationSpace:
        """The ConfigSpace form, with the all-skip architectures forbidden (they have no row) where ``forbidden``."""
        from ConfigSpace import ForbiddenAndConjunction, ForbiddenEqualsClause

        space = super().configspace(seed, ordinals=ordinals)
        if forbidden and _SKIP in self._ops:
            space.add(ForbiddenAndConjunction(*(ForbiddenEqualsClause(space[f"op_{node}"], _SKIP)
                                                for node in range(1, 5))))
        return space

    def _decode(self, arch_hash: int) -> Config:
        """The configuration ``hash_arch`` writes as ``arch_hash`` (a canonical representative)."""
        digits = []
        rest = arch_hash
        for _ in range(4):
            rest, digit = divmod(rest, _BASE)
            digits.append(digit)
        if not 0 <= rest < len(self._links) or any(d not in self._op_of_digit for d in digits):
            raise ValueError(f"{self.name}: {arch_hash} is not a hash of this space's architectures")
        link = self._links[rest]
        return (link[1], link[2], link[3], *(self._op_of_digit[d] for d in reversed(digits)))

    def arch(self, config: Config) -> tuple[list[int], list[str]]:
        """The source's ``(link, ops)`` of a configuration."""
        config = self.check(config)
        return [0, *config[:3]], [self._ops[c] for c in config[3:]]

    def key(self, config: Config) -> int:
        row = self._keys.get(config) if type(config) is tuple else None
        if row is not None:
            return row
        config = self.check(config)
        row = self._keys.get(config)
        if row is not None:
            return row
        from nas_bench_graph.architecture import Arch

        link, ops = self.arch(config)
        arch_hash = Arch(link, ops).valid_hash()
        row = self._row.get(arch_hash)
        if row is None:
            raise InvalidConfigError(f"{self.to_str(config)} has no NAS-Bench-Graph entry "
                                     f"(hash {arch_hash}; the source trained no all-skip architecture)")
        self._keys[config] = row
        return row

    def config(self, key: int) -> Config:
        config = self._configs.get(key) if type(key) is int else None
        if config is None:
            key = self.check_key(key)
            config = self._configs[key] = self._decode(self._hashes[key])
            self._keys[config] = key
        return config

    def native_key(self, key: int) -> str:
        """The source's own key: the architecture's ``valid_hash``, as the ``.bench`` files key it."""
        return str(self._hashes[self.check_key(key)])

    def from_native(self, text: str) -> int:
        """The row of a NAS-Bench-Graph hash."""
        row = self._row.get(int(text)) if text.strip().isdigit() else None
        if row is None:
            raise InvalidConfigError(f"{text!r} is not a hash in {self.name}")
        return row

    def neighbours(self, config: Config) -> list[Config]:
        """The distinct other architectures one choice away, each in its canonical form."""
        own = self.key(config)
        seen = {own}
        out = []
        for other in super().neighbours(self.config(own)):
            row = self.key(other)
            if row not in seen:
                seen.add(row)
                out.append(self.config(row))
        return out
