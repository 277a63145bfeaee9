"""symbp: derive, typeset and generate backpropagation with SymPy.

The public API (see the README for a tour):

>>> import symbp
>>> net = symbp.Network(inputs=2, layers=[symbp.Dense(2, "sigmoid"),
...                     symbp.Dense(1, "sigmoid")], loss="half_sse")
>>> derivation = symbp.derive(net)
>>> derivation.gradient("W2[0][0]").expr
a1_1*delta2_1
>>> numbers = derivation.evaluate([[0.0, 1.0]], [[1.0]], net.random_params(), learning_rate=0.5)
>>> round(numbers.loss, 6) > 0
True
"""

from __future__ import annotations

__version__ = "0.1.0"

# The submodules named like the API's functions are imported first, so that the
# functions below, not the modules, are what ``symbp.derive`` and ``symbp.check``
# name.
from . import check as _check_module  # noqa: E402
from . import derive as _derive_module  # noqa: E402
from .errors import SpecError, SymbpError  # noqa: E402
from .spec import Dense, Network, example, example_names, load, loads  # noqa: E402


def derive(network: Network):
    """The chain-rule derivation of every parameter (:class:`symbp.derive.Derivation`)."""
    return _derive_module.Derivation(network)


def check(network: Network, **options):
    """Finite-difference checks of the derivation and the generated module."""
    return _check_module.check(network, **options)


def generate(network: Network, *, dtype: str = "float64") -> str:
    """The NumPy training module for ``network``, as source text."""
    from .codegen import generate as _generate

    return _generate(network, dtype=dtype)


__all__ = [
    "Dense",
    "Network",
    "SpecError",
    "SymbpError",
    "check",
    "derive",
    "example",
    "example_names",
    "generate",
    "load",
    "loads",
]
