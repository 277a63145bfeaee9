"""symbp: derive, typeset and generate backpropagation with SymPy.

The public API (see the README for a tour):

>>> import symbp
>>> net = symbp.Network(inputs=2, layers=[symbp.Dense(2, "sigmoid"),
...                     symbp.Dense(1, "sigmoid")], loss="half_sse")
>>> derivation = symbp.derive(net)
>>> derivation.gradient("W2[0][0]").expr
a1_1*delta2_1
>>> numbers = derivation.evaluate(
...     [[0.0, 1.0]], [[1.0]], net.random_params(), learning_rate=0.5
... )
>>> round(numbers.loss, 6) > 0
True
"""

from __future__ import annotations

__version__ = "0.1.0"

import os
import sys
import types

from .errors import SpecError, SymbpError
from .spec import Dense, Network, example, example_names, load, loads


class _Package(types.ModuleType):
    """The package module, keeping ``symbp.derive`` and ``symbp.check`` the API's
    functions: importing the submodules of the same names would otherwise set
    the modules as these attributes. Nothing heavy is imported with the package,
    so a spec is validated before SymPy is loaded."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("derive", "check") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _network(network: Network | str | os.PathLike) -> Network:
    """A :class:`Network`, a spec file's path or a built-in example's name, as a
    network.

    >>> _network(None)
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: <api>: network: expected a symbp.Network, a spec file \
or the name of a built-in example, not NoneType
    """
    if isinstance(network, Network):
        return network
    if isinstance(network, (str, os.PathLike)):
        from .spec import resolve

        return resolve(network)
    raise SpecError(
        "expected a symbp.Network, a spec file or the name of a built-in example, "
        f"not {type(network).__name__}",
        source="<api>",
        key="network",
    )


def derive(network: Network | str | os.PathLike):
    """The chain-rule derivation of every parameter.

    Returns a :class:`symbp.derive.Derivation` of ``network``: a
    :class:`Network`, a spec file's path or a built-in example's name.
    """
    from .derive import Derivation

    return Derivation(_network(network))


def check(network: Network | str | os.PathLike, **options):
    """Finite-difference checks of the derivation and the generated module."""
    from .check import check as _check

    return _check(_network(network), **options)


def generate(network: Network | str | os.PathLike, *, dtype: str = "float64") -> str:
    """The NumPy training module for ``network``, as source text."""
    from .codegen import generate as _generate

    return _generate(_network(network), dtype=dtype)


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
