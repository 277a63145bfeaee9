"""The scalar code of tiny networks against the NumPy code of the same module."""

from __future__ import annotations

import helpers
import numpy as np
import pytest

from symbp import codegen, scalarcode, spec
from symbp.functions import ACTIVATIONS

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
CUSTOM = ["z/(1 + abs(z))", "tanh(z)*z"]


def keys():
    """Every built-in activation and loss, and formulas, in tiny networks."""
    for act in ELEMENTWISE + CUSTOM:
        yield ((2, 3, 2), (act, "identity"), "mse")
        yield ((3, 2, 2), ("tanh", act), ("formula", "abs(y - yhat) + (y - yhat)**2"))
    yield ((2, 2, 3), ("relu", "softmax"), "cross_entropy")
    yield ((2, 3, 2), ("softplus", "sigmoid"), "bce", (True, False), "sum")
    yield ((1, 2, 2, 1), ("silu", "leaky_relu", "sigmoid"), "half_sse", False)


def _both(mod, params, x, y, scale=None):
    out = []
    for backprop in (mod._backprop_scalar, mod._backprop_arrays):
        grads = {k: np.full(v.shape, np.nan) for k, v in params.items()}
        out.append((backprop(params, x, y, grads, scale), grads))
    return out


@pytest.mark.parametrize("key", list(keys()), ids=str)
def test_scalar_code_equals_the_array_code(key):
    mod, net = helpers.module(key)
    assert mod.SCALAR_BATCH >= 4
    x, y = net.random_data(samples=4, seed=3)
    if net.loss.name == "cross_entropy":
        y = y * np.array([[0.5], [1.0], [2.0], [1.0]])  # rows not summing to 1
    params = net.random_params(seed=3)
    for scale in (None, 0.25):
        (ls, gs), (la, ga) = _both(mod, params, x, y, scale)
        assert ls == pytest.approx(la, rel=1e-12, abs=1e-14)
        for name in params:
            np.testing.assert_allclose(gs[name], ga[name], rtol=1e-10, atol=1e-14)


def test_large_batches_and_float32_take_the_array_code():
    mod, net = helpers.module(((2, 2, 1), ("sigmoid", "sigmoid"), "half_sse"))
    assert mod.SCALAR_BATCH == scalarcode.ROW_PARAMS // net.param_count()
    x, y = net.random_data(samples=mod.SCALAR_BATCH + 1, seed=0)
    params = net.random_params()
    calls = []
    original = mod._backprop_scalar
    mod._backprop_scalar = lambda *a: calls.append(1) or original(*a)
    try:
        mod.loss_and_gradients(params, x, y)
        assert calls == []
        mod.loss_and_gradients(params, x[:4], y[:4])
        assert calls == [1]
    finally:
        mod._backprop_scalar = original
    assert "_backprop_scalar" not in codegen.generate(net, dtype="float32")
    assert "_backprop_scalar" not in codegen.generate(spec.example("digits"))


def test_a_float_overflow_falls_back_to_the_array_code():
    # (y - yhat)**4 of 1e90 overflows a Python float (OverflowError); NumPy
    # gives inf, which training turns into a clear error.
    mod, net = helpers.module(((1, 1), ("identity",), ("formula", "(yhat - y)**4")))
    params = {"W1": np.array([[1e90]]), "b1": np.array([0.0])}
    x, y = np.array([[1.0]]), np.array([[0.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        value, _ = mod.loss_and_gradients(params, x, y)
    assert value == np.inf
