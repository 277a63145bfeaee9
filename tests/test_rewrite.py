"""The stability rewrites: each keeps the value and removes the overflow."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symbp import codegen, functions, rewrite
from symbp.functions import Y, Z

CASES = [
    ("softplus", sp.log(1 + sp.exp(Z)), rewrite.LogAddExp(0, Z)),
    (
        "log_sigmoid",
        sp.log(functions.ACTIVATIONS["sigmoid"].expr),
        -rewrite.LogAddExp(0, -Z),
    ),
    ("log_sigmoid", sp.log(1 - 1 / (1 + sp.exp(-Z))), -rewrite.LogAddExp(0, Z)),
    ("sigmoid", sp.exp(Z) / (1 + sp.exp(Z)), rewrite.Sigmoid(Z)),
    ("log_softmax", sp.log(sp.exp(Z) / rewrite.EXPSUM), Z - sp.log(rewrite.EXPSUM)),
    (
        "softmax_shift",
        sp.exp(Z) / rewrite.EXPSUM,
        sp.exp(rewrite.SHIFTED) / rewrite.EXPSUM,
    ),
]


def _rule(name):
    (found,) = [r for r in rewrite.CATALOGUE if r.name == name]
    return found


@pytest.mark.parametrize("name, before, after", CASES)
def test_each_rule_gives_its_form(name, before, after):
    assert sp.simplify(_rule(name)(before) - after) == 0


@pytest.mark.parametrize(
    "expr",
    [functions.ACTIVATIONS[name].derivative for name in ("sigmoid", "softplus", "silu")]
    + [functions.ACTIVATIONS[name].expr for name in ("sigmoid", "softplus", "silu")]
    + [
        -(
            Y * sp.log(1 / (1 + sp.exp(-Z)))
            + (1 - Y) * sp.log(1 - 1 / (1 + sp.exp(-Z)))
        ),
        Z * sp.exp(-Z) / (1 + sp.exp(-Z)) ** 2 + sp.tanh(Z),
    ],
    ids=str,
)
def test_rewrites_keep_the_value(expr):
    rewritten = rewrite.apply(expr)
    assert rewritten != expr or not expr.has(sp.exp)
    for z in (-3.0, -0.4, 0.0, 1.1, 4.0):
        point = {Z: z, Y: 0.3}
        before = complex(expr.subs(point).evalf())
        after = complex(rewritten.rewrite(sp.exp).subs(point).evalf())
        assert after == pytest.approx(before, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "silu"])
def test_printed_forms_stay_finite_at_huge_inputs(name):
    act = functions.ACTIVATIONS[name]
    z = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    for expr in (act.expr, act.derivative):
        code = codegen.CodePrinter().doprint(
            rewrite.apply(expr).xreplace({Z: sp.Symbol("z")})
        )
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            values = eval(code, {"np": np, "z": z})  # code printed by symbp itself
        assert np.isfinite(values).all()


def test_rules_leave_what_they_cannot_fix():
    assert rewrite.apply(sp.exp(Z)) == sp.exp(Z)
    assert rewrite.apply(sp.Abs(Z) / (1 + sp.Abs(Z))) == sp.Abs(Z) / (1 + sp.Abs(Z))


def test_catalogue_is_named_data():
    assert rewrite.names() == [r.name for r in rewrite.CATALOGUE]
    assert all(r.summary for r in rewrite.CATALOGUE)
    assert rewrite.apply(sp.log(1 + sp.exp(Z)), rules=()) == sp.log(1 + sp.exp(Z))
