"""Every name symbp generates: SymPy symbols, code identifiers, Unicode and LaTeX.

One naming scheme serves the derivation, the documents and the generated code, so
that ``grad_W1`` in a module, ∂L/∂W⁽¹⁾ in the terminal and
``\\partial L/\\partial W^{(1)}`` in a document are visibly the same thing.

Glossary (one word per concept, used throughout the package):

node
    A scalar quantity of the expression graph: an input ``x``, a target ``y``, a
    weight ``w``, a bias ``b``, a pre-activation ``z``, an activation ``a``, the
    loss ``L``.
local expression
    A node's value written in terms of its parents (``z = Σ a w + b``).
local derivative
    ∂node/∂parent, the derivative of a local expression.
adjoint
    ∂L/∂node. The adjoint of a pre-activation ``z`` is its *delta*, δ.
expr
    A SymPy expression.

Scalar symbols carry 1-based indices, as in the documents: ``w1_1_2`` is
w⁽¹⁾₁₂, the weight from unit 1 of layer 0 to unit 2 of layer 1, stored in the
parameter array ``W1`` at ``[0][1]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

#: Kinds of scalar node, with the letter used in code, text and LaTeX.
_KINDS = {
    "x": ("x", "x"),
    "y": ("y", "y"),
    "w": ("w", "w"),
    "b": ("b", "b"),
    "z": ("z", "z"),
    "a": ("a", "a"),
    "delta": ("δ", r"\delta"),
}

_NAME = re.compile(r"^(?P<kind>delta|[xywbza])(?P<layer>\d*)_(?P<idx>\d+(?:_\d+)*)$")

_SUP = str.maketrans("0123456789()-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻")
_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


@dataclass(frozen=True)
class ScalarName:
    """The parts of a scalar node's name: kind, layer and 1-based indices."""

    kind: str
    layer: int | None
    indices: tuple[int, ...]


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def x(i: int) -> sp.Symbol:
    """Input ``i`` (0-based), a⁽⁰⁾ᵢ₊₁."""
    return _symbol(f"x_{i + 1}")


def y(k: int) -> sp.Symbol:
    """Target of output ``k`` (0-based)."""
    return _symbol(f"y_{k + 1}")


def w(layer: int, i: int, j: int) -> sp.Symbol:
    """Weight ``W<layer>[i][j]`` (0-based array indices)."""
    return _symbol(f"w{layer}_{i + 1}_{j + 1}")


def b(layer: int, j: int) -> sp.Symbol:
    """Bias ``b<layer>[j]``."""
    return _symbol(f"b{layer}_{j + 1}")


def z(layer: int, j: int) -> sp.Symbol:
    """Pre-activation z⁽ˡ⁾ⱼ₊₁."""
    return _symbol(f"z{layer}_{j + 1}")


def a(layer: int, j: int) -> sp.Symbol:
    """Activation a⁽ˡ⁾ⱼ₊₁; layer 0 is the input."""
    return x(j) if layer == 0 else _symbol(f"a{layer}_{j + 1}")


def delta(layer: int, j: int) -> sp.Symbol:
    """Error signal δ⁽ˡ⁾ⱼ₊₁ = ∂L/∂z⁽ˡ⁾ⱼ₊₁."""
    return _symbol(f"delta{layer}_{j + 1}")


LOSS = sp.Symbol("L", real=True)


def param(kind: str, layer: int) -> str:
    """The parameter array's name: ``param("W", 1) == "W1"``."""
    return f"{kind}{layer}"


def grad(param_name: str) -> str:
    """The code name of ∂L/∂param: ``grad("W1") == "grad_W1"``."""
    return f"grad_{param_name}"


def adjoint_var(symbol: sp.Symbol) -> str:
    """The code name of a node's adjoint ∂L/∂node.

    >>> adjoint_var(a(1, 0))
    'adj_a1_1'


    Parameters use :func:`grad` (``grad_w1_1_1``) and pre-activations their δ.
    """
    return f"adj_{symbol.name}"


def layer_var(kind: str, layer: int) -> str:
    """The code name of a layer quantity: ``layer_var("delta", 2) == "delta2"``."""
    return f"{kind}{layer}"


@lru_cache(maxsize=None)
def parse(name: str) -> ScalarName | None:
    """Split a scalar symbol name into its parts, or None for other names.

    >>> parse("w2_1_3")
    ScalarName(kind='w', layer=2, indices=(1, 3))
    >>> parse("x_2")
    ScalarName(kind='x', layer=None, indices=(2,))
    """
    m = _NAME.match(name)
    if not m:
        return None
    layer = int(m["layer"]) if m["layer"] else None
    return ScalarName(m["kind"], layer, tuple(int(i) for i in m["idx"].split("_")))


def _index_text(indices: tuple[int, ...]) -> str:
    sep = "," if any(i > 9 for i in indices) else ""
    return sep.join(str(i) for i in indices)


def unicode(symbol: sp.Symbol) -> str:
    """Terminal form of a symbol: ``w2_1_3`` → ``w⁽²⁾₁₃``.

    >>> unicode(w(1, 0, 1)), unicode(x(0)), unicode(delta(2, 0)), unicode(LOSS)
    ('w⁽¹⁾₁₂', 'x₁', 'δ⁽²⁾₁', 'L')
    """
    parts = parse(symbol.name)
    if parts is None:
        return symbol.name
    letter = _KINDS[parts.kind][0]
    sup = f"({parts.layer})".translate(_SUP) if parts.layer is not None else ""
    return letter + sup + _index_text(parts.indices).translate(_SUB)


def latex(symbol: sp.Symbol) -> str:
    """LaTeX form of a symbol: ``w2_1_3`` → ``w^{(2)}_{13}``.

    >>> latex(w(1, 0, 1)), latex(x(0)), latex(delta(2, 0))
    ('w^{(1)}_{12}', 'x_{1}', '\\\\delta^{(2)}_{1}')
    """
    parts = parse(symbol.name)
    if parts is None:
        return symbol.name
    letter = _KINDS[parts.kind][1]
    sup = f"^{{({parts.layer})}}" if parts.layer is not None else ""
    return f"{letter}{sup}_{{{_index_text(parts.indices)}}}"


def array_ref(symbol: sp.Symbol) -> str | None:
    """The parameter array entry a weight or bias symbol stands for.

    >>> array_ref(w(1, 0, 1)), array_ref(b(2, 0)), array_ref(z(1, 0))
    ('W1[0][1]', 'b2[0]', None)
    """
    parts = parse(symbol.name)
    if parts is None or parts.kind not in ("w", "b"):
        return None
    arr = param("W" if parts.kind == "w" else "b", parts.layer)
    return arr + "".join(f"[{i - 1}]" for i in parts.indices)


_ARRAY = re.compile(r"^(?P<kind>delta|[xywbzaW])(?P<layer>\d*)$")
_ARRAY_LETTERS = {"delta": r"\delta", "W": "W"}


def latex_array(name: str) -> str:
    """LaTeX for a layer's array, named as in code: ``W2``, ``a1``, ``delta2``.

    Arrays are bold; their rows are samples. Layer 0's activation is the input.

    >>> latex_array("W2"), latex_array("delta3"), latex_array("a0"), latex_array("y")
    ('\\\\bm{W}^{(2)}', '\\\\bm{\\\\delta}^{(3)}', '\\\\bm{a}^{(0)}', '\\\\bm{y}')
    """
    m = _ARRAY.match(name)
    if not m:
        return name
    letter = _ARRAY_LETTERS.get(m["kind"], m["kind"])
    sup = f"^{{({m['layer']})}}" if m["layer"] else ""
    return f"\\bm{{{letter}}}{sup}"


def layer_op(op: str, layer: int) -> str:
    """The id of one operation of a layer in a picture of the layer graph.

    >>> layer_op("matmul", 2), layer_op("loss", 3)
    ('matmul2', 'loss3')
    """
    return f"{op}{layer}"


def temp(layer: int, i: int) -> str:
    """The code name of a shared subexpression of one layer's formulas.

    >>> temp(2, 0)
    't2_0'
    """
    return f"t{layer}_{i}"


def layer_unicode(kind: str, layer: int) -> str:
    """Terminal form of a layer quantity or parameter array: ``δ⁽²⁾``, ``W⁽¹⁾``.

    >>> layer_unicode("delta", 2), layer_unicode("W", 1), layer_unicode("a", 0)
    ('δ⁽²⁾', 'W⁽¹⁾', 'a⁽⁰⁾')
    """
    letter = _KINDS[kind][0] if kind in _KINDS else kind
    return letter + f"({layer})".translate(_SUP)
