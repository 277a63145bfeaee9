"""Straight-line scalar code for tiny networks, printed from the scalar derivation.

For a network of a few dozen parameters and a small batch, NumPy's cost per
call dominates a training step: every array operation costs about a
microsecond however few numbers it touches. The scalar derivation
(:mod:`symbp.derive`) already holds every forward node, every error signal δ
and every gradient as an expression in scalars, so this module prints them as
plain Python arithmetic over floats (the ``math`` module), one sample at a
time, in the same finite forms as the derivation's numbers
(:func:`symbp.numeric.stable_forward`). The generated module calls that code
for batches of at most ``SCALAR_BATCH`` rows and its NumPy code otherwise; both
compute the same gradients (tested).

Only float64 modules get it: Python floats are float64, and a float32 module
promises float32 arithmetic.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from . import naming, numeric
from .codegen import WIDTH, Statement, statements
from .spec import Network

#: Networks with at most this many parameters get scalar code.
MAX_PARAMS = 64
#: A batch goes to the scalar code while rows × parameters stays within this
#: (measured with benchmarks/bench_train_step.py: on 2-2-1 the scalar step
#: stays ahead of the NumPy one up to about 28 rows).
ROW_PARAMS = 256

_INDENT = 8  # statements inside the loop over samples


class MathPrinter(PythonCodePrinter):
    """SymPy's Python printer over floats, with the forms that never overflow.

    Examples
    --------
    >>> from symbp import rewrite
    >>> z = sp.Symbol("z1_1")
    >>> MathPrinter().doprint(rewrite.Sigmoid(z))
    '(0.5 * math.tanh(0.5 * z1_1) + 0.5)'
    >>> MathPrinter().doprint(sp.Heaviside(z))
    'float(z1_1 > 0)'
    """

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True})

    def _print_Sigmoid(self, expr: sp.Expr) -> str:
        # σ(u) = (1 + tanh(u/2))/2: tanh saturates instead of overflowing.
        return f"(0.5 * math.tanh(0.5 * {self._print(expr.args[0])}) + 0.5)"

    def _print_LogAddExp(self, expr: sp.Expr) -> str:
        u, v = (self._print(arg) for arg in expr.args)
        return f"_logaddexp({u}, {v})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        # As the NumPy code: the step is 0 at the kink itself.
        return f"float({self._print(expr.args[0])} > 0)"

    def _print_sign(self, expr: sp.Expr) -> str:
        u = self._print(expr.args[0])
        return f"(float({u} > 0) - float({u} < 0))"

    def _print_Max(self, expr: sp.Expr) -> str:
        return f"max({', '.join(self._print(arg) for arg in expr.args)})"

    def _print_Min(self, expr: sp.Expr) -> str:
        return f"min({', '.join(self._print(arg) for arg in expr.args)})"


def applies(net: Network, dtype: str) -> bool:
    """Whether the module for ``net`` gets scalar code."""
    return dtype == "float64" and net.param_count() <= MAX_PARAMS


def scalar_batch(net: Network) -> int:
    """The largest batch that the scalar code takes."""
    return max(1, ROW_PARAMS // net.param_count())


def backprop_lines(net: Network) -> list[str] | None:
    """The body of ``_backprop_scalar(params, X, Y, grads, scale=None)``, or None
    where a line would not fit the module's width.

    It returns the batch loss and writes every gradient (times ``scale`` when
    given) into the arrays of ``grads``, as the NumPy ``_backprop`` does.
    """
    from .derive import Derivation

    derivation = Derivation(net)
    graph = derivation.graph
    lines: list[str] = []

    # The parameters as floats, one name per entry, as the derivation names them.
    for name, entries in graph.params.items():
        lines.append(f'{name} = params["{name}"].tolist()')
        for index, symbol in entries:
            lines.append(f"{symbol.name} = {name}{''.join(f'[{i}]' for i in index)}")
    sums = [naming.grad(g.symbol.name) for g in derivation.gradients]
    lines += [f"{s} = 0.0" for s in sums]
    lines.append("total = 0.0")

    # One sample at a time: forward, its loss, the error signals, the gradients.
    lines += _loop_head(graph)
    body: list[Statement] = []
    for node in graph.nodes.values():
        if node.expr is None:
            continue
        body += [Statement(n, "=", e) for n, e in numeric.stable_forward(graph, node)]
    body.append(Statement("total", "+=", graph.loss))
    for signal in derivation.signals:
        body.append(Statement(signal.symbol.name, "=", numeric.stable(signal.expr)))
    for s, g in zip(sums, derivation.gradients, strict=True):
        body.append(Statement(s, "+=", numeric.stable(g.expr)))
    # One statement at a time: shared temporaries hoisted across statements
    # could be computed before the names they read.
    used = 0
    for stmt in body:
        printed, count = statements([stmt], 0, _INDENT, used, MathPrinter)
        used += count
        lines += ["    " + line for line in printed]

    # The batch reduction, the optional scale, and the arrays of grads.
    if net.reduction == "mean":
        lines.append("loss_value = total / len(X)")
        lines.append("s = 1 / len(X) if scale is None else scale / len(X)")
    else:
        lines.append("loss_value = total")
        lines.append("s = 1.0 if scale is None else scale")
    for name, entries in graph.params.items():
        lines.append(f'{naming.grad(name)} = grads["{name}"]')
        for index, symbol in entries:
            where = ", ".join(map(str, index))
            lines.append(
                f"{naming.grad(name)}[{where}] = {naming.grad(symbol.name)} * s"
            )
    lines.append("return loss_value")
    # A line too wide for the module's 88 columns (many inputs or outputs in one
    # unpacking) leaves the network to the NumPy code alone.
    if any(len(line) + 4 > WIDTH for line in lines):
        return None
    return lines


def _loop_head(graph) -> list[str]:
    """The loop over samples, unpacking each row into the inputs and targets."""
    xs = ", ".join(s.name for s in graph.inputs)
    ys = ", ".join(s.name for s in graph.targets)
    rows = "zip(X.tolist(), Y.tolist(), strict=True)"
    packed = f"({xs},)" if len(graph.inputs) == 1 else f"({xs})"
    packed += ", " + (f"({ys},)" if len(graph.targets) == 1 else f"({ys})")
    head = f"for {packed} in {rows}:"
    if len(head) + 4 <= WIDTH:
        return [head]
    return [f"for row, target in {rows}:", f"    {xs} = row", f"    {ys} = target"]
