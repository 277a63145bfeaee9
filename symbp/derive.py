"""The chain rule in reverse mode over the scalar graph.

Every node's *adjoint* ∂L/∂node is the sum, over the node's children, of the
child's adjoint times the *local derivative* ∂child/∂node. Adjoints of
pre-activations get names, the error signals δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ, and every other
adjoint is written through them, so each result stays small at any depth and
the work grows linearly with the number of edges: the expanded loss is never
differentiated once per weight.

A :class:`Derivation` is a plain object that renderers walk: the forward
equations, one :class:`Signal` per δ, one :class:`Gradient` per parameter entry
with the factors of its chain along each path (while the paths are few), and
:meth:`Derivation.evaluate` for the numbers of a worked example.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import naming
from .errors import SelectionError, SpecError
from .graph import Graph
from .rewrite import sigmoid_rule
from .spec import Network, numbers

#: Paths through the graph are listed one by one while there are at most this many.
MAX_PATHS = 8
#: The fully expanded form of a gradient is offered up to this many parameters.
MAX_EXPANDED_PARAMS = 40


@dataclass(frozen=True)
class Factor:
    """One local derivative ∂node/∂wrt on a path, with its expression."""

    node: sp.Symbol
    wrt: sp.Symbol
    expr: sp.Expr


@dataclass(frozen=True)
class Path:
    """A path from a parameter up to the loss, as the factors of its chain."""

    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class Signal:
    """An error signal δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ.

    ``upstream`` holds one ``(child, adjoint, local derivative)`` triple per
    child of z: the chain rule before simplification. ``expr`` is δ written
    through the next layer's δ, the activations and the targets.
    """

    layer: int
    unit: int
    symbol: sp.Symbol
    pre: sp.Symbol
    upstream: tuple[tuple[sp.Symbol, sp.Expr, sp.Expr], ...]
    expr: sp.Expr


@dataclass(frozen=True)
class Gradient:
    """∂L/∂p for one parameter entry ``p``, e.g. ``W1[0][1]``.

    ``paths`` lists the chain along each path to the loss while there are at
    most :data:`MAX_PATHS` of them (else it is empty and ``path_count`` says how
    many there are). ``expr`` is the result through δ and activation symbols.
    """

    param: str
    index: tuple[int, ...]
    symbol: sp.Symbol
    paths: tuple[Path, ...]
    path_count: int
    expr: sp.Expr

    @property
    def ref(self) -> str:
        """The array entry, ``W1[0][1]``."""
        return self.param + "".join(f"[{i}]" for i in self.index)


class Derivation:
    """Backpropagation for every parameter of a network, in scalar form.

    Examples
    --------
    >>> from symbp.spec import example
    >>> d = Derivation(example("xor"))
    >>> d.signals[0].expr
    a2_1*(1 - a2_1)*(a2_1 - y_1)
    >>> d.gradient("W1[0][1]").expr
    delta1_2*x_1
    >>> len(d.gradient("W1[0][1]").paths[0].factors)
    5
    """

    def __init__(self, network: Network):
        self.network = network
        self.graph = Graph(network)
        self._local: dict[tuple[sp.Symbol, sp.Symbol], sp.Expr] = {}
        self.signals: list[Signal] = []
        self._adjoint: dict[sp.Symbol, sp.Expr] = {}
        self._backward()
        self.signals.sort(key=lambda s: (-s.layer, s.unit))
        self.gradients = self._gradients()

    # -- the chain rule ----------------------------------------------------------

    def local_derivative(self, node: sp.Symbol, wrt: sp.Symbol) -> sp.Expr:
        """∂node/∂wrt from node's local expression, written as a textbook would."""
        key = (node, wrt)
        if key not in self._local:
            self._local[key] = self._differentiate(node, wrt)
        return self._local[key]

    def _differentiate(self, node: sp.Symbol, wrt: sp.Symbol) -> sp.Expr:
        n = self.graph.nodes[node]
        if n.kind == "act":
            layer = self.network.layers[n.layer - 1]
            if layer.activation.elementwise:
                from .functions import A, Z

                return layer.activation.local_derivative.subs({A: node, Z: wrt})
            return _softmax_derivative(self.graph, n, wrt)
        d = sp.diff(n.expr, wrt)
        if n.kind == "loss":
            tidy = sp.factor(sp.together(d))
            return tidy if sp.count_ops(tidy) < sp.count_ops(d) else d
        return d

    def _ref(self, symbol: sp.Symbol) -> sp.Expr:
        """How a child's adjoint appears in its parents' adjoints: δ, 1, or inline."""
        node = self.graph.nodes[symbol]
        if node.kind == "pre":
            return naming.delta(node.layer, node.index[0])
        if node.kind == "loss":
            return sp.Integer(1)
        return self._adjoint[symbol]

    def _backward(self) -> None:
        """Visit nodes from the loss down, each edge once.

        Inputs and targets are skipped: no gradient needs their adjoints, which
        :meth:`adjoint` derives when asked.
        """
        for symbol in reversed(list(self.graph.nodes)):
            node = self.graph.nodes[symbol]
            if node.kind in ("loss", "target", "input"):
                continue
            terms = [
                (child, self._ref(child), self.local_derivative(child, symbol))
                for child in self.graph.children[symbol]
            ]
            total = sp.Add(*(adj * local for _, adj, local in terms))
            if node.kind == "pre":
                expr = _tidy(total)
                self._adjoint[symbol] = expr
                delta = naming.delta(node.layer, node.index[0])
                self.signals.append(
                    Signal(node.layer, node.index[0], delta, symbol, tuple(terms), expr)
                )
            else:
                self._adjoint[symbol] = total

    def _gradients(self) -> list[Gradient]:
        counts = self._path_counts()
        result = []
        for name, entries in self.graph.params.items():
            for index, symbol in entries:
                count = counts[symbol]
                paths = tuple(self._paths(symbol)) if count <= MAX_PATHS else ()
                result.append(
                    Gradient(name, index, symbol, paths, count, self._adjoint[symbol])
                )
        return result

    def _path_counts(self) -> dict[sp.Symbol, int]:
        counts: dict[sp.Symbol, int] = {}
        for symbol in reversed(list(self.graph.nodes)):
            if symbol == self.graph.loss:
                counts[symbol] = 1
            else:
                counts[symbol] = sum(counts[c] for c in self.graph.children[symbol])
        return counts

    def _paths(self, symbol: sp.Symbol):
        if symbol == self.graph.loss:
            yield Path(())
            return
        for child in self.graph.children[symbol]:
            first = Factor(child, symbol, self.local_derivative(child, symbol))
            for rest in self._paths(child):
                yield Path((*rest.factors, first))

    # -- queries -----------------------------------------------------------------

    def gradient(self, ref: str) -> Gradient:
        """The gradient of one entry, by array reference such as ``"W1[0][1]"``.

        >>> from symbp.spec import example
        >>> Derivation(example("xor")).gradient("W9")
        Traceback (most recent call last):
        ...
        symbp.errors.SelectionError: <api>: gradient: no parameter entry 'W9'; give \
an entry of W1, b1, W2, b2 such as 'W1[0][0]' (0-based indices)
        """
        wanted = str(ref).replace(" ", "").replace(",", "][")
        for g in self.gradients:
            if g.ref == wanted:
                return g
        names = ", ".join(self.network.param_shapes())
        raise SelectionError(
            f"no parameter entry {str(ref)!r}; give an entry of {names} such as "
            f"'{self.gradients[0].ref}' (0-based indices)",
            source="<api>",
            key="gradient",
        )

    def adjoint(self, symbol: sp.Symbol) -> sp.Expr:
        """∂L/∂symbol through δ symbols, for any node but the loss (whose is 1).

        The adjoints of inputs and targets are derived on the first request.

        >>> from symbp.spec import example
        >>> d = Derivation(example("xor"))
        >>> d.adjoint(naming.a(1, 0)), d.adjoint(naming.x(0))
        (delta2_1*w2_1_1, delta1_1*w1_1_1 + delta1_2*w1_1_2)
        """
        if symbol not in self._adjoint and symbol in self.graph.nodes:
            if self.graph.nodes[symbol].kind in ("input", "target"):
                self._adjoint[symbol] = sp.Add(
                    *(
                        self._ref(child) * self.local_derivative(child, symbol)
                        for child in self.graph.children[symbol]
                    )
                )
        return self._adjoint[symbol]

    def expanded(self, symbol: sp.Symbol, *, named: bool = False) -> sp.Expr:
        """∂L/∂symbol written in x, y, weights and biases alone (small networks).

        The δ symbols are replaced by their expressions from the output layer
        down, then activations and pre-activations by the forward pass. With
        ``named``, a logistic sigmoid stays σ(…) of its expanded argument instead
        of 1/(1 + e^(−…)), as a reader would write it (the value is the same).

        >>> from symbp.spec import example
        >>> d = Derivation(example("xor"))
        >>> grad = d.expanded(d.gradient("b2[0]").symbol, named=True)
        >>> sorted({type(f).__name__ for f in grad.atoms(sp.Function)})
        ['Sigmoid']
        """
        expandable(self.network)
        delta_free = self._delta_free(self._adjoint[symbol])
        return self.graph.expanded(delta_free, form=sigmoid_rule if named else None)

    def _delta_free(self, expr: sp.Expr) -> sp.Expr:
        return expr.xreplace(self._delta_values)

    @cached_property
    def _delta_values(self) -> dict[sp.Symbol, sp.Expr]:
        values: dict[sp.Symbol, sp.Expr] = {}
        for signal in self.signals:  # output layer first
            values[signal.symbol] = signal.expr.xreplace(values)
        return values

    def program(self, *, backward: bool, adjoints: bool = False):
        """The derivation compiled to NumPy (see :mod:`symbp.numeric`), built once.

        With ``adjoints`` it also computes the adjoint of every a, x and y.
        """
        from .numeric import Program

        cache = self.__dict__.setdefault("_programs", {})
        key = (backward, adjoints and backward)
        if key not in cache:
            cache[key] = Program(self, backward=backward, adjoints=key[1])
        return cache[key]

    def evaluate(
        self,
        x,
        y,
        params: dict,
        learning_rate: float | None = None,
        *,
        adjoints: bool = False,
    ):
        """Forward values, loss, gradients and one plain step, as a :class:`Numbers`.

        Its ``adjoints`` hold every parameter's, z's and L's adjoint, and with
        ``adjoints=True`` every a's, x's and y's too (for pictures of the graph).
        """
        from .numeric import evaluate

        rate = (
            learning_rate
            if learning_rate is not None
            else self.network.train.learning_rate
        )
        checked = numbers(self.network, x, y, params, rate)
        return evaluate(
            self,
            checked.x,
            checked.y,
            checked.params,
            checked.learning_rate,
            adjoints=adjoints,
        )

    def evaluate_example(self, *, adjoints: bool = False):
        """The worked example's numbers, from the spec's ``[example]``."""
        ex = self.network.example
        if ex is None:
            raise ValueError("the network has no [example]")
        return self.evaluate(ex.x, ex.y, ex.params, ex.learning_rate, adjoints=adjoints)

    # -- notebook display --------------------------------------------------------

    def _repr_latex_(self) -> str:
        """The error signals and gradients as display math (Jupyter, IPython)."""
        from .render.latex import snippet

        return snippet(self)

    def _repr_markdown_(self) -> str:
        """The whole document as Markdown, with the example's numbers if any."""
        from .render.markdown import render

        numbers = self.evaluate_example() if self.network.example is not None else None
        return render(self, numbers)


def expandable(network: Network) -> None:
    """Raise a :class:`SpecError` unless ``network`` is small enough to expand."""
    if network.param_count() > MAX_EXPANDED_PARAMS:
        raise SpecError(
            f"the network has {network.param_count()} parameters; the expanded "
            f"form is offered up to {MAX_EXPANDED_PARAMS}",
            source=network.source,
            key="--expanded",
        )


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A shorter equal form of a δ where cancelling finds one (e.g. bce with σ)."""
    if not expr.free_symbols or any(
        s.name.startswith("delta") for s in expr.free_symbols
    ):
        return expr
    acts = sorted((s for s in expr.free_symbols if s.name.startswith("a")), key=str)
    candidates = [expr, sp.factor(sp.cancel(expr)), sp.collect(sp.expand(expr), acts)]
    return min(candidates, key=sp.count_ops)


def _softmax_derivative(graph: Graph, node, wrt: sp.Symbol) -> sp.Expr:
    """∂a_k/∂z_j of a softmax layer, found by SymPy and written through the a's.

    The softmax is differentiated with its denominator T = Σ e^z kept as an
    unknown function, ∂T/∂z_j is derived from the sum, and e^{z_m} = a_m·T is
    substituted, which leaves a_k(1 − a_k) or −a_k a_j.
    """
    zs = graph.pre[node.layer]
    acts = graph.act[node.layer]
    total = sp.Function("T")(*zs)
    k = node.index[0]
    d = sp.diff(sp.exp(zs[k]) / total, wrt)
    d = d.subs(
        sp.Derivative(total, wrt), sp.diff(sp.Add(*(sp.exp(u) for u in zs)), wrt)
    )
    d = sp.cancel(d.subs({sp.exp(u): a * total for u, a in zip(zs, acts, strict=True)}))
    return sp.simplify(sp.factor(d))
