"""The derivation as JSON, for scripts: expressions as strings, numbers as floats.

Keys (a contract): ``name``, ``network``, ``signals``, ``gradients`` (symbolic,
per parameter entry), and, when the spec has ``[example]``, ``example`` with
``loss``, ``gradients.<param>`` and ``updated.<param>`` shaped like the spec's
arrays, as full-precision floats.
"""

from __future__ import annotations

import json

import numpy as np
import sympy as sp

from .. import __version__, naming
from ..derive import Derivation
from .printing import unicode
from .texmath import tex
from .text import signature


def _expr(expr: sp.Expr) -> dict[str, str]:
    return {
        "sympy": sp.sstr(expr),
        "text": unicode(expr),
        "latex": sp.latex(expr, symbol_names=_latex_names(expr)),
    }


def _expanded(derivation: Derivation, grad) -> dict[str, str]:
    """A gradient in x, y, w, b alone: text and LaTeX with σ, SymPy's text without."""
    named = derivation.expanded(grad.symbol, named=True)
    return {
        "sympy": sp.sstr(derivation.expanded(grad.symbol)),
        "text": unicode(named),
        "latex": tex(named),
    }


def _latex_names(expr: sp.Expr) -> dict[sp.Symbol, str]:
    return {s: naming.latex(s) for s in expr.free_symbols}


def _floats(array: np.ndarray) -> list | float:
    return np.asarray(array, dtype=float).tolist()


def document(
    derivation: Derivation, numbers=None, *, only=None, expanded: bool = False
) -> dict:
    """The derivation (and the example's numbers) as plain JSON-ready data.

    With ``expanded``, each gradient also has ``expanded``: the gradient in x,
    y, w and b alone.
    """
    net = derivation.network
    grads = only if only is not None else derivation.gradients
    data: dict = {
        "symbp": __version__,
        "generated": signature(net),
        "name": net.name,
        "network": {
            "inputs": net.inputs,
            "layers": [
                {
                    "units": lay.units,
                    "activation": lay.activation.name,
                    "bias": lay.bias,
                }
                for lay in net.layers
            ],
            "loss": net.loss.name,
            "reduction": net.reduction,
            "param_shapes": {k: list(v) for k, v in net.param_shapes().items()},
        },
        "forward": {
            sym.name: _expr(node.expr)
            for sym, node in derivation.graph.nodes.items()
            if node.expr is not None
        },
        "signals": {
            s.symbol.name: {
                "layer": s.layer,
                "unit": s.unit,
                "upstream": [
                    {"node": child.name, "adjoint": _expr(adj), "local": _expr(local)}
                    for child, adj, local in s.upstream
                ],
                "expr": _expr(s.expr),
            }
            for s in derivation.signals
        },
        "gradients": {
            g.ref: {
                "param": g.param,
                "index": list(g.index),
                "symbol": g.symbol.name,
                "path_count": g.path_count,
                "paths": [
                    [
                        {"node": f.node.name, "wrt": f.wrt.name, "local": _expr(f.expr)}
                        for f in p.factors
                    ]
                    for p in g.paths
                ],
                "expr": _expr(g.expr),
                **({"expanded": _expanded(derivation, g)} if expanded else {}),
            }
            for g in grads
        },
    }
    if numbers is not None:
        graph = derivation.graph
        data["example"] = {
            "x": _floats(numbers.x),
            "y": _floats(numbers.y),
            "learning_rate": numbers.learning_rate,
            "params": {k: _floats(v) for k, v in numbers.params.items()},
            "forward": {
                f"{kind}{lay.index}": _floats(
                    np.stack([numbers.values[s] for s in symbols[lay.index]], axis=1)
                )
                for lay in net.layers
                for kind, symbols in (("z", graph.pre), ("a", graph.act))
            },
            "deltas": {
                f"delta{lay.index}": _floats(
                    np.stack(
                        [
                            numbers.values[naming.delta(lay.index, j)]
                            for j in range(lay.units)
                        ],
                        axis=1,
                    )
                )
                for lay in net.layers
            },
            "sample_losses": _floats(numbers.sample_losses),
            "loss": numbers.loss,
            "gradients": {k: _floats(v) for k, v in numbers.gradients.items()},
            "updated": {k: _floats(v) for k, v in numbers.updated.items()},
        }
    return data


def render(
    derivation: Derivation, numbers=None, *, only=None, expanded: bool = False
) -> str:
    """The JSON text, indented, with full-precision floats."""
    data = document(derivation, numbers, only=only, expanded=expanded)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
