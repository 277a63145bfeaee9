"""The finite-difference checker (symbp/check.py): it must catch wrong gradients.

A checker that passes everything is worse than none, so each test here feeds it
gradients that are wrong in one of the ways a hand derivation goes wrong (a
factor of 2, a sign, a transposed matrix, a forgotten bias) and asks for a
failure, next to the right gradients, which must pass.
"""

from __future__ import annotations

import types
from functools import cache

import numpy as np
import pytest

from symbp import cli, codegen, spec
from symbp.check import (
    CheckResult,
    agrees,
    check,
    check_derivation,
    check_module,
    compare,
    step,
)
from symbp.derive import Derivation
from symbp.render.checks import render


@cache
def _module(bias: bool = True, dtype: str = "float64"):
    net = spec.Network(
        3, [spec.Dense(3, "tanh", bias), spec.Dense(3, "sigmoid", bias)], "half_sse"
    )
    return codegen.load(codegen.generate(net, dtype=dtype), name=f"chk_{bias}"), net


def _point(net, dtype="float64"):
    x, y = net.random_data(samples=4, seed=5)
    params = {k: v.astype(dtype) for k, v in net.random_params(seed=5).items()}
    return x.astype(dtype), y.astype(dtype), params


def _faked(mod, wrong):
    """A module whose loss is right and whose gradients are ``wrong(params, grads)``."""

    def loss_and_gradients(params, x, y):
        value, grads = mod.loss_and_gradients(params, x, y)
        return value, wrong(params, grads)

    return types.SimpleNamespace(
        DTYPE=mod.DTYPE, loss=mod.loss, loss_and_gradients=loss_and_gradients
    )


def _without_bias_terms(params, grads):
    # ∂L/∂W as if z = aW (the bias left out of the forward pass), bias grads kept.
    plain, _ = _module(bias=False)
    weights = {k: v for k, v in params.items() if k.startswith("W")}
    _, wrong = plain.loss_and_gradients(weights, *_point(_module()[1])[:2])
    return {**grads, **wrong}


#: Each mistake, and the parameters whose check it must fail.
WRONG = {
    "off by a factor of 2": (lambda p, g: {**g, "W1": 2 * g["W1"]}, {"W1"}),
    "sign flipped": (lambda p, g: {**g, "b2": -g["b2"]}, {"b2"}),
    "matrix transposed": (lambda p, g: {**g, "W2": g["W2"].T.copy()}, {"W2"}),
    "bias term missing": (_without_bias_terms, {"W1", "W2"}),
}


def test_right_gradients_pass():
    mod, net = _module()
    x, y, params = _point(net)
    report = check_module(mod, x, y, params)
    assert report.passed
    assert report.max_rel_error < 1e-7


@pytest.mark.parametrize("mistake", list(WRONG))
def test_each_kind_of_wrong_gradient_fails(mistake):
    mod, net = _module()
    x, y, params = _point(net)
    wrong, expected = WRONG[mistake]
    report = check_module(_faked(mod, wrong), x, y, params)
    assert not report.passed
    failing = {p.name for p in report.params if not p.passed}
    assert failing == expected
    assert all(p.max_rel_error > 1e-3 for p in report.params if p.name in failing)


def test_wrong_gradients_fail_in_float32_too():
    mod, net = _module(dtype="float32")
    x, y, params = _point(net, "float32")
    assert check_module(mod, x, y, params).passed
    for mistake in ("off by a factor of 2", "sign flipped", "matrix transposed"):
        report = check_module(_faked(mod, WRONG[mistake][0]), x, y, params)
        assert not report.passed, mistake


def test_the_step_follows_the_dtype():
    assert step(1.0) == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))
    assert step(1.0, np.float32) == pytest.approx(4.92e-3, rel=1e-2)
    assert step(-300.0, np.float32) == pytest.approx(300 * 4.92e-3, rel=1e-2)
    # A float64 step on a float32 loss is lost in rounding: the same right
    # gradients then look wrong, so the checker must take the module's dtype.
    mod, net = _module(dtype="float32")
    x, y, params = _point(net, "float32")
    right = check_module(mod, x, y, params)
    _, grads = mod.loss_and_gradients(params, x, y)

    def loss_at(p):
        return mod.loss({k: v.astype(np.float32) for k, v in p.items()}, x, y), None

    naive = compare(grads, params, loss_at, dtype=np.float64)
    assert right.passed and right.max_rel_error < 1e-2
    assert naive.max_rel_error > 10 * right.max_rel_error


def test_entries_near_a_kink_are_reported_apart_and_not_judged():
    net = spec.Network(2, [spec.Dense(2, "relu"), spec.Dense(1, "identity")], "mse")
    d = Derivation(net)
    mod = codegen.load(codegen.generate(net), name="kinked")
    # Sample 0 is x = 0, so z⁽¹⁾₁ = b⁽¹⁾₁ = 1e-9: a step in b1[0] crosses the kink.
    x = np.array([[0.0, 0.0], [0.7, -0.4], [-0.3, 0.9]])
    y = np.array([[0.5], [-0.2], [0.1]])
    params = net.random_params(seed=1)
    params["b1"][0] = 1e-9
    reports = (
        check_derivation(d, x, y, params),
        check_module(mod, x, y, params, kinks_from=d),
    )
    for report in reports:
        b1 = next(p for p in report.params if p.name == "b1")
        (near,) = [e for e in b1.entries if e.near_kink]
        assert near.ref == "b1[0]" and b1.kinks == 1
        assert near not in b1.judged
        # Judged, it would fail: the difference straddles two slopes.
        assert not agrees(near.analytic, near.numeric, report.loss)
        assert sum(p.kinks for p in report.params) == 1
        assert report.passed
    text = render(CheckResult(net, reports))
    assert text.endswith(
        "OK: every gradient agrees with finite differences "
        "(2 entries near a kink not judged)\n"
    )


def test_symbp_check_exits_1_on_a_wrong_generated_module(monkeypatch, capsys):
    real_load = codegen.load

    def load_with_a_sign_error(source, name="generated"):
        return _faked(real_load(source, name), WRONG["sign flipped"][0])

    monkeypatch.setattr(codegen, "load", load_with_a_sign_error)
    assert cli.main(["check", "xor"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "b2[0]: analytic" in out
    # Only b2 of the module fails; the derivation's own rows still pass.
    assert out.count("FAIL\n") == 1 and out.count("pass\n") == 7


def test_points_adds_random_points_beside_the_example(capsys):
    assert cli.main(["check", "xor", "--points", "2"]) == 0
    heads = [line for line in capsys.readouterr().out.splitlines() if " at " in line]
    assert [h.split(" (L")[0] for h in heads] == [
        f"{target} at {point}"
        for target in ("derivation", "generated module")
        for point in ("example", "random point 1", "random point 2")
    ]
    assert cli.main(["check", "xor"]) == 0
    assert capsys.readouterr().out.count(" at random point") == 0
    no_example = spec.Network(2, [spec.Dense(2, "tanh"), spec.Dense(1)], "mse")
    result = check(no_example, module=False)
    assert [r.point for r in result.reports] == [f"random point {k}" for k in (1, 2, 3)]
