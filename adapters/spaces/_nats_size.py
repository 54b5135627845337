"""NATS-Bench's size search space (``nats-sss``): 5 layers' channel counts, 8 choices each, 32,768 networks.

NATS-Bench indexes its size-space networks in the order of ``itertools.product`` over the
5 layers' channel counts (8, 16, ..., 64), first layer most significant: index 1 is
``8:8:8:8:16`` (the order of the archive's ``meta_archs``, which the importer checks entry
by entry). Channel counts are ordinal; every configuration is its own network.
"""

from __future__ import annotations

from adapters.search_space import Config, FiniteSpace, Hyperparameter, InvalidConfigError

__all__ = ["NatsSizeSpace", "NATS_CHANNELS", "NATS_LAYERS"]

NATS_CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
NATS_LAYERS = 5


class NatsSizeSpace(FiniteSpace):
    """Row ``k`` is NATS-Bench's size-space index ``k``; its string is the source's ``c1:c2:c3:c4:c5``."""

    name = "nats-sss"
    hyperparameters = tuple(Hyperparameter(f"channels_{i}", NATS_CHANNELS, ordinal=True, default=len(NATS_CHANNELS) - 1)
                            for i in range(1, NATS_LAYERS + 1))
    size = len(NATS_CHANNELS) ** NATS_LAYERS

    def key(self, config: Config) -> int:
        key = 0
        for choice in self.check(config):
            key = key * len(NATS_CHANNELS) + choice
        return key

    def config(self, key: int) -> Config:
        key = self.check_key(key)
        digits = []
        for _ in range(NATS_LAYERS):
            key, digit = divmod(key, len(NATS_CHANNELS))
            digits.append(digit)
        return tuple(reversed(digits))

    def native_key(self, key: int) -> str:
        """NATS-Bench's own index of the network (as NB201's index is for a cell)."""
        return str(self.check_key(key))

    def arch_str(self, key: int) -> str:
        """The source's channel string, e.g. ``8:8:8:8:16``."""
        return ":".join(str(NATS_CHANNELS[c]) for c in self.config(key))

    def from_native(self, text: str) -> int:
        """The row of a channel string (``8:16:24:32:64``) or of an index."""
        text = text.strip()
        if text.isdigit():
            return self.check_key(int(text))
        parts = text.split(":")
        try:
            config = tuple(NATS_CHANNELS.index(int(p)) for p in parts)
        except ValueError:
            config = ()
        if len(parts) != NATS_LAYERS or len(config) != NATS_LAYERS:
            raise InvalidConfigError(f"not a NATS-Bench size-space network: {text!r} "
                                     f"(expected {NATS_LAYERS} channel counts from {NATS_CHANNELS} joined by ':')")
        return self.key(config)
