"""The layer graph: backpropagation in matrix form, one node per layer.

The scalar graph (:mod:`symbp.graph`) has a symbol per weight; training code
needs the same chain rule per layer, over a batch of N row vectors::

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾          a⁽ˡ⁾ = f(z⁽ˡ⁾)
    δ⁽ᴸ⁾ = ∂L/∂z⁽ᴸ⁾                    (fused: loss and output activation together)
    δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ f'(z⁽ˡ⁾)
    ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾            ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾ₙ

Everything elementwise is a SymPy expr over a few layer symbols (:data:`Z`,
:data:`A`, :data:`Y`, :data:`BACK`, :data:`ROWSUM`, :data:`N`) that stand for
whole arrays of one layer; the matrix products are fixed rules. So the cost of
deriving does not depend on the width of a layer.

Nothing here is written by hand: f' comes from the registry
(:attr:`symbp.functions.Activation.local_derivative`, through a = f(z) where
SymPy finds such a form); the output delta is SymPy's simplification of
∂ℓ/∂ŷ · f'(z), which is how sigmoid with bce becomes (ŷ − y)/K, and the softmax
rule δₖ = ŷₖ(gₖ − Σⱼ ŷⱼ gⱼ) with gₖ = ∂ℓ/∂ŷₖ, which SymPy turns into
ŷ·Σy − y for cross-entropy. Every expr is passed through the stability
rewrites of :mod:`symbp.rewrite` before anyone prints it.

Examples
--------
>>> from symbp import spec
>>> d = derive(spec.example("xor"))
>>> d.layers[-1].delta
a*(1 - a)*(a - y)/N
>>> d.layers[0].delta
a*back*(1 - a)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import naming, rewrite
from .functions import YHAT, A, Activation, Z
from .functions import Y as Y
from .spec import Layer, Network

#: Backpropagated signal of a hidden layer: an element of δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ.
BACK = sp.Symbol("back", real=True)
#: Row sum over a softmax output layer of the expr in :attr:`LayerForm.rowsum`.
ROWSUM = sp.Symbol("rowsum", real=True)
#: The number of samples in a batch.
N = sp.Symbol("N", positive=True, integer=True)


@dataclass(frozen=True)
class LayerForm:
    """One layer of the layer-form derivation.

    Attributes
    ----------
    layer
        The spec's layer (index from 1, sizes, activation, bias).
    output
        Whether this is the output layer.
    forward
        a⁽ˡ⁾ elementwise, an expr in :data:`Z` after stability rewrites. For a
        softmax layer it is ``exp(shifted)/expsum`` in the symbols of
        :mod:`symbp.rewrite`.
    derivative
        The elementwise derivative used in δ: f' in :data:`A` and/or :data:`Z`
        for a hidden layer; for the output layer ∂ℓ/∂ŷ · f' fused and simplified,
        before the reduction's scale; None for a softmax output.
    delta
        δ⁽ˡ⁾ elementwise, an expr in :data:`A`, :data:`Z`, :data:`Y`,
        :data:`BACK`, :data:`ROWSUM` and :data:`N`. A hidden layer's is
        ``BACK * derivative``; the output layer's includes the loss scale.
    rowsum
        For a softmax output layer, the elementwise expr whose row sum
        :data:`ROWSUM` stands for (Y for cross-entropy); else None.
    shapes
        Shapes of the layer's arrays: ``z``, ``a``, ``delta``, ``W`` and, with a
        bias, ``b``; the batch dimension is :data:`N`.
    back, grad_weight, grad_bias
        The matrix rules as SymPy matrix exprs: δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ᵀ (None for the
        output layer), a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾, and δ⁽ˡ⁾ᵀ1 (None without a bias). Their
        matrix symbols are named as in generated code (``a0``, ``delta2``, ``W2``).
    """

    layer: Layer
    output: bool
    forward: sp.Expr
    derivative: sp.Expr | None
    delta: sp.Expr
    rowsum: sp.Expr | None
    shapes: dict[str, tuple[sp.Expr | int, ...]]
    back: sp.MatrixExpr | None
    grad_weight: sp.MatrixExpr
    grad_bias: sp.MatrixExpr | None

    @property
    def index(self) -> int:
        return self.layer.index

    @property
    def activation(self) -> Activation:
        return self.layer.activation

    @property
    def softmax(self) -> bool:
        return self.layer.activation.name == "softmax"


@dataclass(frozen=True)
class LayerDerivation:
    """The layer-form derivation of a network: walk :attr:`layers` first to last.

    Attributes
    ----------
    network
        The network derived.
    layers
        One :class:`LayerForm` per layer, first to last.
    loss_terms
        The per-element loss, summed over outputs and samples and multiplied by
        :attr:`loss_scale` to give L. An expr in :data:`Y` and the output layer's
        :data:`A`, or in its :data:`Z` (or :data:`rewrite.SHIFTED` and
        :data:`rewrite.EXPSUM` for softmax) where that is what keeps logs finite.
    loss_scale
        1/N for a mean over the batch, times 1/K when the loss averages its K
        outputs.
    """

    network: Network
    layers: tuple[LayerForm, ...]
    loss_terms: sp.Expr
    loss_scale: sp.Expr

    @property
    def output(self) -> LayerForm:
        return self.layers[-1]


def derive(net: Network) -> LayerDerivation:
    """Derive backpropagation in layer form for a network.

    Examples
    --------
    >>> from symbp import spec
    >>> net = spec.Network(2, [spec.Dense(3, "relu"), spec.Dense(2, "softmax")],
    ...                    loss="cross_entropy")
    >>> d = derive(net)
    >>> d.output.delta, d.output.rowsum
    ((a*rowsum - y)/N, y)
    >>> d.loss_terms, d.loss_scale
    (-y*(shifted - log(expsum)), 1/N)
    >>> d.layers[0].derivative
    Heaviside(z)
    """
    scale = _loss_scale(net)
    last = len(net.layers) - 1
    forms = tuple(
        _layer_form(net, layer, i == last, scale) for i, layer in enumerate(net.layers)
    )
    return LayerDerivation(net, forms, _loss_terms(net), scale)


def _loss_scale(net: Network) -> sp.Expr:
    """The constant that turns the sum of per-element losses into L."""
    scale = sp.S.One
    if net.loss.over_outputs == "mean":
        scale /= net.outputs
    if net.reduction == "mean":
        scale /= N
    return scale


def _loss_terms(net: Network) -> sp.Expr:
    """The per-element loss, in the form that keeps it finite.

    A loss with a log is written through the output's pre-activation, where the
    rewrites turn log σ(z) and log softmax(z) into log-sum-exps; otherwise it is
    written through the output a, which the forward pass has already computed.
    """
    out = net.layers[-1].activation
    through_a = net.loss.expr.subs(YHAT, A)
    if not net.loss.expr.has(sp.log):
        return through_a
    yhat = sp.exp(Z) / rewrite.EXPSUM if out.name == "softmax" else out.expr
    through_z = rewrite.apply(net.loss.expr.subs(YHAT, yhat))
    if out.name == "softmax":
        through_z = rewrite.shift_softmax(through_z)
        return through_z if not through_z.has(Z) else through_a
    return through_z if _logs_are_safe(through_z) else through_a


def _logs_are_safe(expr: sp.Expr) -> bool:
    """No log left whose argument the rewrites could not make safe."""
    return not any(arg.has(Z) for log in expr.atoms(sp.log) for arg in log.args)


def _layer_form(net: Network, layer: Layer, output: bool, scale: sp.Expr) -> LayerForm:
    act = layer.activation
    softmax = act.name == "softmax"

    # Forward: the activation with its stability rewrites.
    if softmax:
        forward = sp.exp(rewrite.SHIFTED) / rewrite.EXPSUM
    else:
        forward = rewrite.apply(act.expr)

    # Backward: delta, fused with the loss on the output layer.
    rowsum = None
    if output and softmax:
        derivative = None
        core, rowsum = _softmax_delta(net)
        delta = scale * core
    elif output:
        derivative = _fused_output(net, act)
        delta = scale * derivative
    else:
        derivative = _simplest(act.local_derivative)
        delta = BACK * derivative

    return LayerForm(
        layer=layer,
        output=output,
        forward=forward,
        derivative=derivative,
        delta=delta,
        rowsum=rowsum,
        shapes=_shapes(layer),
        back=None if output else _back(layer, net.layers[layer.index].units),
        grad_weight=_grad_weight(layer),
        grad_bias=_grad_bias(layer) if layer.bias else None,
    )


def _fused_output(net: Network, act: Activation) -> sp.Expr:
    """∂ℓ/∂z of one output element, the cheapest safe form SymPy finds.

    Candidates: ∂ℓ/∂ŷ · f' with f' through a (where the registry has that form)
    or through z, and ∂ℓ(f(z))/∂z simplified in z. Each is simplified and
    rewritten; the one with no a or z in a denominator and the fewest operations
    wins, ties going to the earlier.
    """
    slope = _simplest(sp.diff(net.loss.expr, YHAT).subs(YHAT, A))
    products = [slope * rewrite.apply(act.derivative)]
    if act.derivative_of_output is not None:
        products.insert(0, slope * act.derivative_of_output)
    candidates = []
    for product in products:
        candidates += [product, _simplest(product)]
    candidates.append(_simplest(sp.diff(net.loss.expr.subs(YHAT, act.expr), Z)))
    scored = []
    for order, expr in enumerate(candidates):
        expr = rewrite.apply(expr)
        risky = any(
            term.is_Pow and term.exp.is_negative and term.has(A, Z)
            for term in sp.preorder_traversal(expr)
        )
        scored.append((risky, sp.count_ops(expr), order, expr))
    return min(scored, key=lambda item: item[:3])[3]


def _simplest(expr: sp.Expr) -> sp.Expr:
    """``expr`` simplified and factored, if that has no more operations.

    The stability rewrites go first, so that simplification works on σ(z) and
    logaddexp as opaque functions and cannot turn them back into overflowing
    exponentials.
    """
    expr = rewrite.apply(expr)
    simpler = rewrite.apply(rewrite.tidy_sign(sp.factor(sp.simplify(expr))))
    return simpler if sp.count_ops(simpler) <= sp.count_ops(expr) else expr


def _softmax_delta(net: Network) -> tuple[sp.Expr, sp.Expr]:
    """δ of a softmax output before the scale, and the summand of its row sum.

    With gₖ = ∂ℓ/∂ŷₖ the softmax rule is δₖ = ŷₖgₖ − ŷₖ Σⱼ ŷⱼgⱼ. SymPy simplifies
    the summand rⱼ = ŷⱼgⱼ (−yⱼ for cross-entropy, whose ŷ cancels), so that
    δ = rₖ − ŷₖ·Σⱼrⱼ; a leading minus of r is moved out so that cross-entropy
    reads ŷ·Σy − y.
    """
    slope = sp.diff(net.loss.expr, YHAT).subs(YHAT, A)
    summand = _simplest(A * slope)
    if summand.could_extract_minus_sign():
        summand = -summand
        return A * ROWSUM - summand, summand
    return summand - A * ROWSUM, summand


def _shapes(layer: Layer) -> dict[str, tuple[sp.Expr | int, ...]]:
    shapes: dict[str, tuple[sp.Expr | int, ...]] = {
        "z": (N, layer.units),
        "a": (N, layer.units),
        "delta": (N, layer.units),
        "W": (layer.fan_in, layer.units),
    }
    if layer.bias:
        shapes["b"] = (layer.units,)
    return shapes


def _matrix(kind: str, index: int, rows: sp.Expr | int, cols: int) -> sp.MatrixSymbol:
    name = naming.param(kind, index) if kind == "W" else naming.layer_var(kind, index)
    return sp.MatrixSymbol(name, rows, cols)


def _back(layer: Layer, width: int) -> sp.MatrixExpr:
    # δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ: the next layer's delta carried back through its weights.
    delta = _matrix("delta", layer.index + 1, N, width)
    weight = _matrix("W", layer.index + 1, layer.units, width)
    return delta * weight.T


def _grad_weight(layer: Layer) -> sp.MatrixExpr:
    prev = _matrix("a", layer.index - 1, N, layer.fan_in)
    return prev.T * _matrix("delta", layer.index, N, layer.units)


def _grad_bias(layer: Layer) -> sp.MatrixExpr:
    ones = sp.OneMatrix(N, 1)
    return _matrix("delta", layer.index, N, layer.units).T * ones
