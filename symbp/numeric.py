"""The numbers of a derivation: forward values, loss, gradients, one step.

The derivation's expressions are printed with SymPy's NumPy printer into one
straight-line function per network (a *program*), compiled once and run over a
batch, one NumPy array of samples per node. Only SymPy's printer output is
compiled, never text from a spec. The same programs serve the finite-difference
checks in :mod:`symbp.check`, so the document, the JSON and ``symbp check``
report the same numbers.

The exprs are evaluated in the forms that stay finite (:mod:`symbp.rewrite`),
printed as the generated module prints them: σ through tanh, softplus and the
logs of bce through logaddexp, a softmax shifted by its row maximum and its log
as a log-sum-exp. The derivation's exprs themselves (what a document shows) are
not changed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import naming, rewrite

_INDENT = "    "


@dataclass(frozen=True)
class Numbers:
    """A worked example's numbers.

    ``values`` maps every node symbol (x, y, z, a, δ, L) to its per-sample
    values, shape ``(samples,)``. ``loss`` is the batch loss after the
    reduction; ``gradients`` and ``updated`` are shaped like the parameters.
    ``adjoints`` maps nodes of the scalar graph to their per-sample adjoint
    ∂L/∂node, the derivative of that sample's loss: every parameter (whose batch
    gradient is their mean or sum, as the reduction says), z and L, and a, x
    and y when evaluated with ``adjoints=True``.
    """

    x: np.ndarray
    y: np.ndarray
    params: dict[str, np.ndarray]
    values: dict[sp.Symbol, np.ndarray]
    sample_losses: np.ndarray
    loss: float
    gradients: dict[str, np.ndarray]
    updated: dict[str, np.ndarray]
    learning_rate: float
    reduction: str
    adjoints: dict[sp.Symbol, np.ndarray] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        """The number of samples in the batch."""
        return len(self.x)

    def value(self, symbol: sp.Symbol, sample: int = 0) -> float:
        """One node's value for one sample (parameters have one value)."""
        if symbol in self.values:
            return float(self.values[symbol][sample])
        ref = naming.array_ref(symbol)
        return float(eval_ref(self.params, ref))

    def adjoint(self, symbol: sp.Symbol, sample: int = 0) -> float:
        """∂L/∂node of one sample's loss, for any node of the scalar graph."""
        return float(self.adjoints[symbol][sample])


def eval_ref(params: dict[str, np.ndarray], ref: str) -> float:
    """The value of ``"W1[0][1]"`` in a parameter dict (parsed, not evaluated)."""
    name, _, rest = ref.partition("[")
    index = tuple(int(i) for i in rest.rstrip("]").split("][")) if rest else ()
    return params[name][index]


class Program:
    """A compiled straight-line function of a derivation's expressions."""

    def __init__(self, derivation, *, backward: bool, adjoints: bool = False):
        from .codegen import CodePrinter

        self.derivation = derivation
        graph = derivation.graph
        lines = ["def program(P, X, Y):"]
        emit = lines.append
        printer = CodePrinter()

        # Leaves: inputs and targets as columns, parameters as scalars.
        for i, sym in enumerate(graph.inputs):
            emit(f"{_INDENT}{sym.name} = X[:, {i}]")
        for k, sym in enumerate(graph.targets):
            emit(f"{_INDENT}{sym.name} = Y[:, {k}]")
        for name, entries in graph.params.items():
            for index, sym in entries:
                emit(f"{_INDENT}{sym.name} = P[{name!r}][{', '.join(map(str, index))}]")

        # The forward pass, and the kink indicators of each node.
        kink_names = []
        for node in graph.nodes.values():
            if node.expr is None:
                continue
            for name, expr in stable_forward(graph, node):
                emit(f"{_INDENT}{name} = {printer.doprint(expr)}")
            for expr in node.kinks:
                kink_names.append(f"kink{len(kink_names)}")
                emit(f"{_INDENT}{kink_names[-1]} = {printer.doprint(expr)}")
        emit(f"{_INDENT}kinks = [{', '.join(kink_names)}]")

        # The backward pass: δ from the output layer down, then each gradient.
        if backward:
            for signal in derivation.signals:
                expr = stable(signal.expr)
                emit(f"{_INDENT}{signal.symbol.name} = {printer.doprint(expr)}")
            for g in derivation.gradients:
                expr = stable(g.expr)
                emit(f"{_INDENT}grad_{g.symbol.name} = {printer.doprint(expr)}")
            for sym in adjoint_nodes(graph) if adjoints else ():
                expr = printer.doprint(stable(derivation.adjoint(sym)))
                emit(f"{_INDENT}{naming.adjoint_var(sym)} = {expr}")
        emit(f"{_INDENT}return locals()")
        self.source = "\n".join(lines) + "\n"
        namespace = {"np": np, "numpy": np, "functools": functools}
        exec(compile(self.source, "<symbp program>", "exec"), namespace)  # noqa: S102
        self._function = namespace["program"]

    def __call__(self, params: dict, x: np.ndarray, y: np.ndarray) -> dict:
        return self._function(params, x, y)


def adjoint_nodes(graph) -> list[sp.Symbol]:
    """The nodes whose adjoint no δ or gradient already names: x, y and a."""
    return [s for s, n in graph.nodes.items() if n.kind in ("input", "target", "act")]


def stable(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the stability rewrites of :mod:`symbp.rewrite`.

    The rules run on the largest parts in one unknown (a unit's f(z), f'(z),
    log σ(z)), each shape rewritten once and cached, so that the cost stays
    linear in the size of the graph; factors and terms in the same unknown are
    grouped first, since a product flattens them apart.
    """
    if not expr.has(sp.exp):
        return expr
    unknowns = expr.free_symbols
    if len(unknowns) == 1:
        (u,) = unknowns
        return _rewrite_in_z(expr.xreplace({u: _Z})).xreplace({_Z: u})
    if not (expr.is_Add or expr.is_Mul):
        return expr.func(*(stable(arg) for arg in expr.args))
    groups: dict[sp.Symbol, list[sp.Expr]] = {}
    rest = []
    for arg in expr.args:
        syms = arg.free_symbols
        if len(syms) == 1:
            groups.setdefault(next(iter(syms)), []).append(arg)
        else:
            rest.append(stable(arg))
    grouped = [stable(expr.func(*args)) for args in groups.values()]
    return expr.func(*grouped, *rest)


_Z = sp.Dummy("u", real=True)


@functools.lru_cache(maxsize=1024)
def _rewrite_in_z(expr: sp.Expr) -> sp.Expr:
    return rewrite.apply(expr)


def _softmax_names(layer: int) -> tuple[sp.Symbol, sp.Symbol]:
    rowmax = sp.Symbol(f"rowmax{layer}", real=True)
    return rowmax, sp.Symbol(f"expsum{layer}", positive=True)


def _shifted(symbol: sp.Symbol) -> sp.Symbol:
    return sp.Symbol(f"shifted_{symbol.name}", real=True)


def stable_forward(graph, node) -> list[tuple[str, sp.Expr]]:
    """The assignments that compute one node, in forms that stay finite.

    A softmax layer is computed from z − rowmax (the first unit's node also
    computes the row maximum and the sum of exponentials); a loss with a log is
    computed from the output layer's z, where the rewrites make the logs of σ
    and softmax finite, unless some log would still see an activation.
    """
    layer = graph.network.layers[node.layer - 1] if node.kind == "act" else None
    if layer is not None and not layer.activation.elementwise:
        zs = graph.pre[node.layer]
        rowmax, expsum = _softmax_names(node.layer)
        steps = []
        if node.index[0] == 0:
            steps.append((rowmax.name, sp.Max(*zs) if len(zs) > 1 else zs[0]))
            steps += [(_shifted(u).name, u - rowmax) for u in zs]
            steps.append((expsum.name, sp.Add(*(sp.exp(_shifted(u)) for u in zs))))
        u = zs[node.index[0]]
        return [*steps, (node.symbol.name, sp.exp(_shifted(u)) / expsum)]
    if node.kind == "loss" and node.expr.has(sp.log):
        return [(node.symbol.name, _stable_loss(graph, node.expr))]
    return [(node.symbol.name, stable(node.expr))]


def _stable_loss(graph, expr: sp.Expr) -> sp.Expr:
    last = len(graph.network.layers)
    activation = graph.network.layers[last - 1].activation
    acts, pres = graph.act[last], graph.pre[last]
    if activation.elementwise:
        through_z = {a: activation.apply(z) for a, z in zip(acts, pres, strict=True)}
        finite = stable(expr.xreplace(through_z))
    else:
        # log(e^shifted / expsum) becomes shifted − log(expsum), a log-sum-exp.
        _, expsum = _softmax_names(last)
        through_z = {
            a: sp.exp(_shifted(z)) / rewrite.EXPSUM
            for a, z in zip(acts, pres, strict=True)
        }
        finite = rewrite.log_softmax_rule(expr.xreplace(through_z))
        finite = finite.xreplace({rewrite.EXPSUM: expsum})
    risky = {*acts, *pres, *(_shifted(z) for z in pres)}
    if any(arg.has(*risky) for log in finite.atoms(sp.log) for arg in log.args):
        return stable(expr)
    return finite


def batch_loss(values: dict, reduction: str, samples: int) -> tuple[np.ndarray, float]:
    """Per-sample losses and their reduction over the batch."""
    per_sample = np.broadcast_to(np.asarray(values["L"], float), (samples,))
    total = float(per_sample.mean() if reduction == "mean" else per_sample.sum())
    return per_sample, total


def evaluate(
    derivation,
    x: np.ndarray,
    y: np.ndarray,
    params: dict,
    rate: float,
    *,
    adjoints: bool = False,
) -> Numbers:
    """Run the derivation's program on a batch: values, loss, gradients, one step.

    With ``adjoints``, every node's adjoint; else those of the parameters, z, L.
    """
    net = derivation.network
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    params = {name: np.asarray(params[name], float) for name in net.param_shapes()}
    out = derivation.program(backward=True, adjoints=adjoints)(params, x, y)
    samples = len(x)
    per_sample, loss = batch_loss(out, net.reduction, samples)
    reduce = np.mean if net.reduction == "mean" else np.sum

    gradients = {name: np.zeros(shape) for name, shape in net.param_shapes().items()}
    for g in derivation.gradients:
        per = np.broadcast_to(
            np.asarray(out[f"grad_{g.symbol.name}"], float), (samples,)
        )
        gradients[g.param][g.index] = reduce(per)
    updated = {name: params[name] - rate * gradients[name] for name in params}

    # Every per-sample node (x, y, z, a, L) and every δ, one value per sample.
    graph = derivation.graph
    per_sample_symbols = [
        s for s, n in graph.nodes.items() if n.kind not in ("weight", "bias")
    ]
    values = {
        sym: np.broadcast_to(np.asarray(out[sym.name], float), (samples,)).copy()
        for sym in [*per_sample_symbols, *(s.symbol for s in derivation.signals)]
    }

    # Every node's adjoint, one per sample: parameters' before the reduction.
    def column(name: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(out[name], float), (samples,)).copy()

    every = {graph.loss: np.ones(samples)}
    for signal in derivation.signals:
        every[signal.pre] = values[signal.symbol]
    for g in derivation.gradients:
        every[g.symbol] = column(f"grad_{g.symbol.name}")
    for sym in adjoint_nodes(graph) if adjoints else ():
        every[sym] = column(naming.adjoint_var(sym))
    return Numbers(
        x,
        y,
        params,
        values,
        per_sample.copy(),
        loss,
        gradients,
        updated,
        rate,
        net.reduction,
        every,
    )
