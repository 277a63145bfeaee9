"""The layer-form derivation against sympy.diff of the expanded scalar loss."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symbp import codegen, functions, layers, rewrite, spec
from symbp.functions import A, Y, Z

NETS = [
    ((2, 2, 1), ("sigmoid", "sigmoid"), "half_sse"),
    ((2, 3, 2), ("tanh", "sigmoid"), "bce"),
    ((2, 2, 3), ("relu", "softmax"), "cross_entropy"),
    ((2, 2, 2), ("z/(1 + abs(z))", "identity"), ("formula", "(yhat - y)**4")),
    ((3, 2, 2), ("silu", "softmax"), "mse"),
    ((2, 2, 2), ("softplus", "leaky_relu"), "mse"),
]


def _net(sizes, acts, loss, reduction="mean"):
    layer_list = [spec.Dense(u, a) for u, a in zip(sizes[1:], acts, strict=True)]
    loss = dict([loss]) if isinstance(loss, tuple) else loss
    return spec.Network(sizes[0], layer_list, loss, reduction=reduction)


def _expanded_loss(net, x, y, params):
    """L written out in every weight symbol, for the numbers x, y (the oracle)."""
    weights = {}
    acts = [[sp.Float(v) for v in row] for row in x]
    for layer in net.layers:
        w = sp.Matrix(
            layer.fan_in,
            layer.units,
            lambda i, j, n=layer.index: sp.Symbol(f"w{n}_{i}_{j}", real=True),
        )
        b = sp.Matrix(
            1,
            layer.units,
            lambda _, j, n=layer.index: sp.Symbol(f"b{n}_{j}", real=True),
        )
        weights[layer.weight], weights[layer.bias_name] = w, b
        new = []
        for row in acts:
            zs = [
                sum(row[i] * w[i, j] for i in range(layer.fan_in)) + b[0, j]
                for j in range(layer.units)
            ]
            if layer.activation.name == "softmax":
                new.append(functions.softmax(zs))
            else:
                new.append([layer.activation.apply(z) for z in zs])
        acts = new
    samples = [
        net.loss.sample_loss(out, [sp.Float(v) for v in target])
        for out, target in zip(acts, y, strict=True)
    ]
    total = sp.Add(*samples)
    total = total / len(x) if net.reduction == "mean" else total
    values = {}
    for name, matrix in weights.items():
        for (i, j), symbol in np.ndenumerate(np.array(matrix.tolist(), dtype=object)):
            values[symbol] = (
                params[name][j] if name.startswith("b") else params[name][i, j]
            )
    return total, weights, values


@pytest.mark.parametrize("key", NETS, ids=lambda key: "-".join(map(str, key[1])))
def test_layer_form_equals_sympy_diff_of_the_expanded_loss(key):
    net = _net(*key)
    x, y = net.random_data(2, seed=1)
    params = net.random_params(seed=2)
    total, weights, values = _expanded_loss(net, x, y, params)
    mod = codegen.load(codegen.generate(net))
    value, grads = mod.loss_and_gradients(params, x, y)
    assert value == pytest.approx(float(total.subs(values)), rel=1e-10)
    for name, matrix in weights.items():
        expected = np.array(
            [
                [float(sp.diff(total, s).subs(values)) for s in row]
                for row in matrix.tolist()
            ]
        )
        assert np.allclose(
            grads[name].reshape(expected.shape), expected, rtol=1e-8, atol=1e-12
        ), name


def test_sigmoid_with_bce_fuses_to_a_minus_y_over_k():
    net = _net((2, 3), ("sigmoid",), "bce")
    d = layers.derive(net)
    assert sp.simplify(d.output.delta - (A - Y) / (3 * layers.N)) == 0
    assert d.output.derivative == A - Y


def test_softmax_with_cross_entropy_fuses_to_a_sum_y_minus_y():
    d = layers.derive(_net((2, 3), ("softmax",), "cross_entropy"))
    assert d.output.rowsum == Y
    assert sp.simplify(d.output.delta - (A * layers.ROWSUM - Y) / layers.N) == 0


def test_softmax_rule_agrees_with_diff_of_the_softmax_formula():
    # δₖ = Σⱼ ∂ℓ/∂ŷⱼ ∂ŷⱼ/∂zₖ on three units, against the layer form.
    zs = sp.symbols("z1:4", real=True)
    ys = sp.symbols("y1:4", real=True)
    outs = functions.softmax(list(zs))
    loss = functions.LOSSES["cross_entropy"].sample_loss(outs, list(ys))
    d = layers.derive(_net((2, 3), ("softmax",), "cross_entropy", "sum"))
    for k in range(3):
        layer_form = d.output.delta.subs({A: outs[k], Y: ys[k], layers.ROWSUM: sum(ys)})
        point = {
            **dict(zip(zs, (0.3, -1.2, 2.0), strict=True)),
            **dict(zip(ys, (0.2, 0.5, 0.9), strict=True)),
        }
        assert float((sp.diff(loss, zs[k]) - layer_form).subs(point)) == pytest.approx(
            0
        )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus", "silu"])
def test_hidden_delta_is_back_times_the_registry_derivative(name):
    d = layers.derive(_net((2, 3, 1), (name, "identity"), "mse"))
    hidden = d.layers[0]
    assert hidden.delta == layers.BACK * hidden.derivative
    act = functions.ACTIVATIONS[name]
    # The derivative used equals f'(z) (through a = f(z) where used).
    used = hidden.derivative.subs(A, act.expr).rewrite(sp.exp)
    for z in (-2.5, 0.3, 1.7):
        expected = float(act.derivative.subs(Z, z).rewrite(sp.exp).evalf())
        assert float(used.subs(Z, z).evalf()) == pytest.approx(expected)


def test_matrix_rules_and_shapes():
    d = layers.derive(spec.example("deep"))
    first, second, last = d.layers
    assert str(first.grad_weight) == "a0.T*delta1"
    assert str(second.back) == "delta3*W3.T"
    assert str(last.grad_bias) == "delta3.T*1"
    assert second.shapes["W"] == (3, 2) and second.shapes["z"] == (layers.N, 2)
    assert "b" in second.shapes
    assert d.loss_scale == 1 / (layers.N)


def test_derivation_cost_does_not_grow_with_width():
    import time

    start = time.perf_counter()
    layers.derive(_net((4, 8, 3), ("tanh", "softmax"), "cross_entropy"))
    small = time.perf_counter() - start
    start = time.perf_counter()
    layers.derive(_net((784, 4096, 1000), ("tanh", "softmax"), "cross_entropy"))
    wide = time.perf_counter() - start
    assert wide < 5 * small + 0.5


def test_loss_terms_use_log_sum_exp_for_softmax_and_logaddexp_for_bce():
    d = layers.derive(_net((2, 3), ("softmax",), "cross_entropy"))
    assert d.loss_terms.has(rewrite.SHIFTED) and not d.loss_terms.has(Z)
    d = layers.derive(_net((2, 3), ("sigmoid",), "bce"))
    assert d.loss_terms.has(rewrite.LogAddExp) and not d.loss_terms.has(sp.exp)


def test_agrees_with_the_scalar_derivation():
    symbp = pytest.importorskip("symbp")
    net = spec.example("homework")
    ex = net.example
    numbers = symbp.derive(net).evaluate(ex.x, ex.y, ex.params, learning_rate=0.5)
    grads = getattr(numbers, "gradients", None)
    if grads is None:
        pytest.skip("the scalar derivation's numbers have no 'gradients'")
    mod = codegen.load(codegen.generate(net))
    _, layer_grads = mod.loss_and_gradients(ex.params, ex.x, ex.y)
    for name, value in layer_grads.items():
        assert np.allclose(np.asarray(grads[name], dtype=float), value, rtol=1e-10)
