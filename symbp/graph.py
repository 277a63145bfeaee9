"""The scalar expression graph: one SymPy symbol per weight, bias, z, a and the loss.

Each :class:`Node` holds its *local expression*, written in terms of its parents'
symbols (``z⁽¹⁾₁ = x₁w⁽¹⁾₁₁ + x₂w⁽¹⁾₂₁ + b⁽¹⁾₁``, ``a⁽¹⁾₁ = σ(z⁽¹⁾₁)``,
``L = ½ Σ (yₖ − a⁽ᴸ⁾ₖ)²``). The graph is the per-sample computation; the batch
reduction is applied when numbers are evaluated. Nothing here differentiates:
that is :mod:`symbp.derive`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import functions, naming
from .errors import SymbpError
from .spec import Network

#: Largest number of parameters the scalar graph is built for. Beyond it the
#: layer form (``symbp generate``) is the tool: it is independent of width.
MAX_SCALAR_PARAMS = 1000


class TooLargeError(SymbpError):
    """The network is too large for a scalar, per-weight derivation."""


@dataclass(frozen=True)
class Node:
    """One scalar quantity of the graph.

    ``kind`` is one of ``input``, ``target``, ``weight``, ``bias``, ``pre`` (z),
    ``act`` (a) and ``loss``. Leaves have no expression. ``kinks`` are
    expressions in the parents' symbols that vanish where the local expression
    is not differentiable.
    """

    symbol: sp.Symbol
    kind: str
    layer: int | None
    index: tuple[int, ...]
    expr: sp.Expr | None = None
    parents: tuple[sp.Symbol, ...] = ()
    kinks: tuple[sp.Expr, ...] = ()


class Graph:
    """The scalar computational graph of a :class:`~symbp.spec.Network`.

    Attributes
    ----------
    nodes
        Every node by symbol, in topological order (leaves first, loss last).
    children
        For each symbol, the symbols whose local expressions use it.
    inputs, targets
        The x and y symbols.
    pre, act
        Per layer (index from 1), the z and a symbols.
    params
        Per parameter name (``W1``, ``b1``, …), its ``(index, symbol)`` pairs.

    Examples
    --------
    >>> from symbp.spec import example
    >>> g = Graph(example("xor"))
    >>> g.nodes[naming.z(1, 0)].expr
    b1_1 + w1_1_1*x_1 + w1_2_1*x_2
    >>> g.nodes[naming.a(2, 0)].expr
    1/(1 + exp(-z2_1))
    """

    def __init__(self, network: Network):
        count = network.param_count()
        if count > MAX_SCALAR_PARAMS:
            raise TooLargeError(
                f"the network has {count} parameters; the scalar derivation handles "
                f"at most {MAX_SCALAR_PARAMS}: use the layer form "
                "('symbp derive SPEC --format markdown' or '--format latex', "
                "or 'symbp generate SPEC')",
                source=network.source,
            )
        self.network = network
        self.nodes: dict[sp.Symbol, Node] = {}
        self.children: dict[sp.Symbol, list[sp.Symbol]] = {}
        self.params: dict[str, list[tuple[tuple[int, ...], sp.Symbol]]] = {}
        self.inputs = [
            self._leaf(naming.x(i), "input", 0, (i,)) for i in range(network.inputs)
        ]
        self.targets = [
            self._leaf(naming.y(k), "target", None, (k,))
            for k in range(network.outputs)
        ]
        self.pre: dict[int, list[sp.Symbol]] = {}
        self.act: dict[int, list[sp.Symbol]] = {0: self.inputs}
        for layer in network.layers:
            self._layer(layer)
        self.loss = naming.LOSS
        outputs = self.act[len(network.layers)]
        expr = network.loss.sample_loss(outputs, self.targets)
        kinks = tuple(
            kink.subs({functions.YHAT: o, functions.Y: t})
            for o, t in zip(outputs, self.targets, strict=True)
            for kink in network.loss.kinks
        )
        self._add(
            Node(self.loss, "loss", None, (), expr, (*outputs, *self.targets), kinks)
        )

    @property
    def outputs(self) -> list[sp.Symbol]:
        return self.act[len(self.network.layers)]

    def _leaf(
        self, symbol: sp.Symbol, kind: str, layer: int | None, index: tuple[int, ...]
    ) -> sp.Symbol:
        self._add(Node(symbol, kind, layer, index))
        return symbol

    def _add(self, node: Node) -> None:
        self.nodes[node.symbol] = node
        self.children.setdefault(node.symbol, [])
        for parent in node.parents:
            self.children[parent].append(node.symbol)

    def _layer(self, layer) -> None:
        number, below = layer.index, self.act[layer.index - 1]
        weights = [
            [naming.w(number, i, j) for j in range(layer.units)]
            for i in range(layer.fan_in)
        ]
        self.params[layer.weight] = []
        for i, row in enumerate(weights):
            for j, sym in enumerate(row):
                self.params[layer.weight].append(
                    ((i, j), self._leaf(sym, "weight", number, (i, j)))
                )
        if layer.bias:
            self.params[layer.bias_name] = [
                ((j,), self._leaf(naming.b(number, j), "bias", number, (j,)))
                for j in range(layer.units)
            ]

        # The pre-activations: z_j = Σ_i a_i w_ij (+ b_j).
        zs = []
        for j in range(layer.units):
            terms = [below[i] * weights[i][j] for i in range(layer.fan_in)]
            parents = [*below, *(weights[i][j] for i in range(layer.fan_in))]
            if layer.bias:
                terms.append(naming.b(number, j))
                parents.append(naming.b(number, j))
            zs.append(naming.z(number, j))
            self._add(Node(zs[-1], "pre", number, (j,), sp.Add(*terms), tuple(parents)))
        self.pre[number] = zs

        # The activations: elementwise, or softmax over the whole layer.
        act = layer.activation
        if act.elementwise:
            exprs = [act.apply(u) for u in zs]
            parents = [(u,) for u in zs]
            kinks = [tuple(k.subs(functions.Z, u) for k in act.kinks) for u in zs]
        else:
            exprs = functions.softmax(zs)
            parents = [tuple(zs)] * len(zs)
            kinks = [()] * len(zs)
        self.act[number] = [naming.a(number, j) for j in range(layer.units)]
        for j, sym in enumerate(self.act[number]):
            self._add(Node(sym, "act", number, (j,), exprs[j], parents[j], kinks[j]))

    def expanded(self, expr: sp.Expr, form=None) -> sp.Expr:
        """``expr`` with every z, a (and L) replaced by its expression in x, w, b, y.

        ``form``, if given, rewrites each node's expression before it is used
        (to keep a function's name, say).
        """
        subs = {}
        for sym, node in self.nodes.items():
            if node.expr is not None:
                own = node.expr if form is None else form(node.expr)
                subs[sym] = own.xreplace(subs)
        return expr.xreplace(subs)
