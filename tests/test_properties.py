"""One truth across every path, over random architectures (hypothesis).

For random small networks (1–3 layers of 1–3 units, 1–3 inputs), activations
(every elementwise built-in and two formulas), losses (every built-in and a
formula), reductions and bias flags, four independent computations of the loss
and its gradients must agree:

1. the scalar derivation's numbers, ``Derivation(net).evaluate``;
2. the layer-form derivation (:mod:`symbp.layers`), evaluated here by a small
   NumPy interpreter of its exprs and fixed matrix rules, without the code
   generator;
3. the generated module's ``loss_and_gradients``;
4. central finite differences.

The analytic three agree to 1e-9 relative. Against finite differences the
error is below 1e-7 relative away from kinks wherever central differences can
resolve that (|gradient| well above their rounding error, ~ε^(2/3)·max(1, |L|));
every other entry is held to the checker's own pass rule,
:func:`symbp.check.agrees`. Then ``symbp check`` (:func:`symbp.check.check`)
must pass and report the same gradients.

The settings profile (50 derandomised examples, tests/conftest.py) keeps CI
reproducible; each architecture's SymPy work is cached (tests/helpers.py).
"""

from __future__ import annotations

from functools import cache

import helpers
import numpy as np
import pytest
import sympy as sp

pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")

from hypothesis import given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from symbp import layers, rewrite
from symbp.check import agrees, check, check_derivation, relative_error
from symbp.functions import ACTIVATIONS, A, Y, Z

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
FORMULAS = ["z/(1 + abs(z))", "tanh(z)*z"]
LOSSES = ["half_sse", "mse", "bce", "cross_entropy", ("formula", "(yhat - y)**4/4")]
#: Agreement between analytic computations, which share no code path.
ANALYTIC_RTOL = 1e-9


@st.composite
def architectures(draw) -> tuple:
    """A hashable key (see tests/helpers.py) of a valid random network."""
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    acts = [draw(st.sampled_from(ELEMENTWISE + FORMULAS)) for _ in range(depth)]
    loss = draw(st.sampled_from(LOSSES))
    if loss == "bce":
        acts[-1] = "sigmoid"
    elif loss == "cross_entropy" or (loss == "mse" and draw(st.booleans())):
        acts[-1], sizes[-1] = "softmax", max(2, sizes[-1])
    bias = tuple(draw(st.booleans()) for _ in range(depth))
    reduction = draw(st.sampled_from(["mean", "sum"]))
    return (tuple(sizes), tuple(acts), loss, bias, reduction)


points = st.tuples(st.integers(1, 4), st.integers(0, 2**16 - 1))


# --- the layer form, evaluated without the code generator -----------------------------

_NUMPY = [
    {
        "Sigmoid": lambda u: 0.5 * np.tanh(0.5 * u) + 0.5,
        "LogAddExp": np.logaddexp,
    },
    "numpy",
]
_ARGS = (Z, A, Y, layers.BACK, layers.ROWSUM, layers.N, rewrite.SHIFTED, rewrite.EXPSUM)


@cache
def _compiled(expr: sp.Expr):
    return sp.lambdify(_ARGS, expr, modules=_NUMPY)


def _run(expr, **values):
    """An elementwise expr of the layer symbols on arrays (unused symbols: 0)."""
    args = [values.get(str(s), 0.0) for s in _ARGS]
    return np.broadcast_to(_compiled(expr)(*args), np.shape(values["z"])).astype(float)


def layer_form_numbers(key, x, y, params):
    """Loss and gradients from :func:`symbp.layers.derive` and the matrix rules."""
    d = _layer_derivation(key)
    n = len(x)
    acts, pres, extra = [x], [], []

    # Forward: z = aW + b, a = f(z); softmax through z − rowmax.
    for form in d.layers:
        z = acts[-1] @ params[form.layer.weight]
        if form.layer.bias:
            z = z + params[form.layer.bias_name]
        shifted = z - z.max(axis=1, keepdims=True)
        expsum = np.exp(shifted).sum(axis=1, keepdims=True)
        values = {"z": z, "shifted": shifted, "expsum": expsum}
        acts.append(_run(form.forward, **values))
        pres.append(z)
        extra.append(values)

    # The loss: the per-element terms, summed, times the scale.
    out = {**extra[-1], "a": acts[-1], "y": y, "N": n}
    loss = float(d.loss_scale.subs(layers.N, n)) * float(
        np.sum(_run(d.loss_terms, **out))
    )

    # Backward: δ of the output layer, then δ = back ⊙ f' down the layers.
    grads = {}
    delta = None
    for i in reversed(range(len(d.layers))):
        form = d.layers[i]
        values = {**extra[i], "a": acts[i + 1], "y": y, "N": n}
        if form.rowsum is not None:
            values["rowsum"] = _run(form.rowsum, **values).sum(axis=1, keepdims=True)
        if not form.output:
            values["back"] = delta @ params[d.layers[i + 1].layer.weight].T
        delta = _run(form.delta, **values)
        grads[form.layer.weight] = acts[i].T @ delta
        if form.layer.bias:
            grads[form.layer.bias_name] = delta.sum(axis=0)
    return loss, grads


@cache
def _layer_derivation(key):
    return layers.derive(helpers.network(*key))


# --- the properties -------------------------------------------------------------------


def _close(a: float, b: float, loss: float) -> bool:
    return abs(a - b) <= ANALYTIC_RTOL * (abs(a) + abs(b)) + 1e-13 * max(1.0, abs(loss))


def _assert_same(name, mine, theirs, loss):
    for index in np.ndindex(np.shape(theirs)):
        a, b = float(mine[index]), float(theirs[index])
        assert _close(a, b, loss), (name, index, a, b)


@given(key=architectures(), point=points)
def test_derivation_layer_form_module_and_differences_agree(key, point):
    samples, seed = point
    net = helpers.network(*key)
    note(repr(net))
    x, y = net.random_data(samples, seed)
    params = net.random_params(seed)

    derivation = helpers.derivation(key)
    scalar = derivation.evaluate(x, y, params)
    mod, _ = helpers.module(key)
    value, generated = mod.loss_and_gradients(params, x, y)
    layer_loss, layer_grads = layer_form_numbers(key, x, y, params)

    # The three analytic computations: one loss, one gradient per entry.
    assert _close(scalar.loss, value, value) and _close(layer_loss, value, value)
    assert set(scalar.gradients) == set(generated) == set(layer_grads)
    for name in generated:
        _assert_same(name, scalar.gradients[name], generated[name], value)
        _assert_same(name, layer_grads[name], generated[name], value)

    # Finite differences of the scalar forward pass, kinks marked from it (the
    # gradients compared are the derivation's, equal to the others' above).
    report = check_derivation(derivation, x, y, params)
    resolvable = 1e-3 * max(1.0, abs(report.loss))
    for p in report.params:
        for e in p.judged:
            assert e.passed, e
            if abs(e.analytic) > resolvable:
                assert e.rel_error < 1e-7, e


@given(key=architectures(), seed=st.integers(0, 2**16 - 1))
def test_symbp_check_passes_and_reports_the_same_gradients(key, seed):
    net = helpers.network(*key)
    note(repr(net))
    result = check(net, count=1, seed=seed)
    assert result.passed and result.skipped is None
    assert [r.target for r in result.reports] == ["derivation", "generated module"]

    # The point check used (symbp.check.points), and the module's gradients there.
    x, y = net.random_data(samples=4, seed=seed)
    params = net.random_params(seed=seed)
    value, grads = helpers.module(key)[0].loss_and_gradients(params, x, y)
    for report in result.reports:
        assert _close(report.loss, value, value)
        for p in report.params:
            for e, expected in zip(p.entries, grads[p.name].reshape(-1), strict=True):
                assert _close(e.analytic, float(expected), value), (report.target, e)
                assert e.near_kink or agrees(e.analytic, e.numeric, report.loss)
                assert e.near_kink or relative_error(e.analytic, e.numeric) < 1e-4
