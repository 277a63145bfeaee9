"""The derivation's numbers (symbp/numeric.py): finite at extremes, as the module's."""

from __future__ import annotations

import numpy as np
import pytest

from symbp import codegen, spec
from symbp.derive import Derivation
from symbp.functions import ACTIVATIONS

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
LOSSES = ["half_sse", "mse", "bce", "cross_entropy"]
HUGE = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]])
RAISE = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}


def _net(act: str, loss: str) -> spec.Network:
    out = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, act)
    return spec.Network(3, [spec.Dense(4, act), spec.Dense(3, out)], loss)


@pytest.mark.parametrize("act", ELEMENTWISE + ["log(1 + exp(z))/2"])
@pytest.mark.parametrize("loss", LOSSES)
def test_numbers_stay_finite_for_inputs_of_1e4_and_targets_of_0_and_1(act, loss):
    net = _net(act, loss)
    d = Derivation(net)
    params = net.random_params(0, scale=3.0)
    with np.errstate(**RAISE):
        numbers = d.evaluate(HUGE, np.eye(3), params)
        forward = d.program(backward=False)(numbers.params, HUGE, np.eye(3))
    assert np.isfinite(numbers.loss)
    assert all(np.isfinite(g).all() for g in numbers.gradients.values())
    assert np.isfinite(np.asarray(forward["L"])).all()


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_saturated_outputs_give_the_modules_loss_and_gradients(loss):
    # σ(z) and softmax round to exactly 0 and 1 here: the naive log(ŷ) is −inf.
    net = _net("tanh", loss)
    x = np.array([[50.0, -50.0, 20.0], [-50.0, 50.0, -20.0]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    params = net.random_params(0, scale=5.0)
    with np.errstate(**RAISE):
        numbers = Derivation(net).evaluate(x, y, params)
        mod = codegen.load(codegen.generate(net), name="saturated")
        value, grads = mod.loss_and_gradients(params, x, y)
    assert numbers.loss > 1.0
    assert numbers.loss == pytest.approx(value, rel=1e-12)
    for name, grad in grads.items():
        assert np.allclose(numbers.gradients[name], grad, rtol=1e-10, atol=1e-14), name
