"""Networks for tests, described by hashable keys so that their modules are cached.

A key is ``(sizes, activations, loss[, bias[, reduction]])``: ``sizes`` starts
with the inputs, ``loss`` is a built-in name or ``("formula", text)``, and
``bias`` is one flag for every layer or a tuple of flags, one per layer.
Generating a module costs SymPy time, so :func:`module` and :func:`derivation`
build each architecture once per test session.
"""

from __future__ import annotations

from functools import cache

from symbp import codegen, spec
from symbp.derive import Derivation


def network(sizes, acts, loss, bias=True, reduction="mean") -> spec.Network:
    """The network a key describes."""
    biases = bias if isinstance(bias, tuple) else (bias,) * len(acts)
    layers = [
        spec.Dense(u, a, b) for u, a, b in zip(sizes[1:], acts, biases, strict=True)
    ]
    if isinstance(loss, tuple):
        loss = dict([loss])
    return spec.Network(sizes[0], layers, loss, reduction=reduction)


@cache
def module(key: tuple, dtype: str = "float64"):
    """The generated module of a key's network (loaded once), and the network."""
    net = network(*key)
    return codegen.load(codegen.generate(net, dtype=dtype), name="m"), net


@cache
def derivation(key: tuple) -> Derivation:
    """The scalar derivation of a key's network, built once."""
    return Derivation(network(*key))
