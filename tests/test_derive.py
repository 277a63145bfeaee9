"""The scalar derivation against independent oracles.

The oracles are sympy.diff and finite differences.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import sympy as sp

from symbp import naming
from symbp.derive import MAX_PATHS, Derivation
from symbp.errors import SelectionError, SpecError
from symbp.functions import ACTIVATIONS, LOSSES, _tidy_steps
from symbp.graph import Graph
from symbp.spec import Dense, Network, example
from symbp.spec import example_text as spec_text

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]


def pairings(outputs: int):
    """Every (hidden, output activation, loss) the spec allows, over all built-ins."""
    for loss in LOSSES.values():
        if loss.requires == "sigmoid":
            outs = ["sigmoid"]
        elif loss.requires == "softmax":
            outs = ["softmax"] if outputs > 1 else []
        else:
            outs = ELEMENTWISE + (["softmax"] if outputs > 1 else [])
        for out in outs:
            hidden = out if out in ELEMENTWISE else "tanh"
            yield pytest.param(hidden, out, loss.name, id=f"{hidden}-{out}-{loss.name}")
    for act in ELEMENTWISE:
        yield pytest.param(act, "identity", "mse", id=f"{act}-identity-mse")


def expanded_loss(net: Network) -> sp.Expr:
    graph = Graph(net)
    return graph.expanded(graph.nodes[graph.loss].expr)


def _zero(expr: sp.Expr) -> bool:
    """Whether an expression is identically zero, decided exactly.

    Step functions are normalised (H(c·u) = H(u) for c > 0), tanh is rewritten
    through exp, and each exponential of a linear combination is split into
    powers of one positive unknown per term, so that the question becomes
    whether a rational function is zero: sp.cancel decides that exactly.
    """
    expr = _tidy_steps(expr).rewrite(sp.exp)
    unknowns: dict[sp.Expr, sp.Dummy] = {}

    def split(arg: sp.Expr) -> sp.Expr:
        out = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(arg)):
            logs = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.log)]
            if len(logs) == 1:  # e^(c·ln u) = u^c
                out *= logs[0].args[0] ** (term / logs[0])
                continue
            coeff, rest = term.as_coeff_Mul()
            unknowns.setdefault(rest, sp.Dummy(positive=True))
            out *= unknowns[rest] ** coeff
        return out

    return sp.cancel(sp.together(expr.replace(sp.exp, split))) == 0


@pytest.mark.parametrize("hidden,out,loss", list(pairings(1)))
def test_equals_sympy_diff_exactly_2_2_1(hidden, out, loss):
    net = Network(2, [Dense(2, hidden), Dense(1, out)], loss)
    d = Derivation(net)
    total = expanded_loss(net)
    for g in d.gradients:
        assert _zero(sp.diff(total, g.symbol) - d.expanded(g.symbol)), g.ref


@pytest.mark.parametrize("hidden,out,loss", list(pairings(2)))
def test_equals_sympy_diff_exactly_2_2_2(hidden, out, loss):
    net = Network(2, [Dense(2, hidden), Dense(2, out)], loss)
    d = Derivation(net)
    total = expanded_loss(net)
    for g in d.gradients:
        assert _zero(sp.diff(total, g.symbol) - d.expanded(g.symbol)), g.ref


def _rational_point(symbols, rng: random.Random) -> dict:
    """A random rational point, held as 40-digit Floats.

    Substituting Floats (``xreplace``) evaluates each node once at 40 digits;
    ``evalf(subs=...)`` with exact rationals instead rebuilds Max/Min and exact
    tanh/exp arguments symbolically and takes minutes per network.
    """
    point = {}
    for s in symbols:
        if s.name.startswith("y"):
            value = sp.Rational(rng.randint(1, 9), 10)  # a probability, for bce
        else:
            value = sp.Rational(rng.randint(-90, 90), rng.randint(20, 60))
        point[s] = sp.Float(value, 40)
    return point


@pytest.mark.parametrize("hidden,out,loss", list(pairings(1)))
def test_equals_sympy_diff_at_rational_points_2_3_2_1(hidden, out, loss):
    net = Network(2, [Dense(3, hidden), Dense(2, hidden), Dense(1, out)], loss)
    d = Derivation(net)
    total = expanded_loss(net)
    rng = random.Random(7)
    leaves = sorted(total.free_symbols, key=str)
    for _ in range(3):
        point = _rational_point(leaves, rng)
        for g in d.gradients:
            ours = d.expanded(g.symbol).xreplace(point)
            theirs = sp.diff(total, g.symbol).xreplace(point)
            assert abs(ours - theirs) <= sp.Float(10) ** -28 * (1 + abs(theirs)), g.ref


def test_custom_formulas_equal_sympy_diff():
    net = Network(
        2,
        [Dense(2, "z/(1 + abs(z))"), Dense(2, "log(1 + exp(z)) - 0.5")],
        {"formula": "(yhat - y)**4/4 + abs(yhat - y)"},
    )
    d = Derivation(net)
    total = expanded_loss(net)
    rng = random.Random(3)
    for _ in range(3):
        point = _rational_point(sorted(total.free_symbols, key=str), rng)
        for g in d.gradients:
            ours = d.expanded(g.symbol).xreplace(point)
            theirs = sp.diff(total, g.symbol).xreplace(point)
            assert abs(ours - theirs) <= sp.Float(10) ** -28 * (1 + abs(theirs)), g.ref


def test_xor_chain_for_first_weight_as_a_user_sees_it():
    d = Derivation(example("xor"))
    g = d.gradient("W1[0][0]")
    assert g.path_count == 1
    chain = [(f.node.name, f.wrt.name) for f in g.paths[0].factors]
    assert chain == [
        ("L", "a2_1"),
        ("a2_1", "z2_1"),
        ("z2_1", "a1_1"),
        ("a1_1", "z1_1"),
        ("z1_1", "w1_1_1"),
    ]
    locals_ = [sp.sstr(f.expr) for f in g.paths[0].factors]
    assert locals_ == [
        "a2_1 - y_1",
        "a2_1*(1 - a2_1)",
        "w2_1_1",
        "a1_1*(1 - a1_1)",
        "x_1",
    ]
    assert g.expr == naming.delta(1, 0) * naming.x(0)


def test_two_hidden_layers_sum_over_paths():
    d = Derivation(example("deep"))
    g = d.gradient("W1[1][2]")
    assert g.path_count == 2 and len(g.paths) == 2
    middles = {g.paths[k].factors[2].wrt.name for k in range(2)}
    assert middles == {"a2_1", "a2_2"}
    assert g.expr == naming.delta(1, 2) * naming.x(1)
    delta = next(s for s in d.signals if s.symbol == naming.delta(1, 2))
    a = naming.a(1, 2)
    assert (
        sp.simplify(
            delta.expr
            - (1 - a**2)
            * (
                naming.delta(2, 0) * naming.w(2, 2, 0)
                + naming.delta(2, 1) * naming.w(2, 2, 1)
            )
        )
        == 0
    )


def test_paths_are_summarised_when_many():
    net = Network(2, [Dense(3), Dense(4), Dense(3)], "mse")
    d = Derivation(net)
    g = d.gradient("W1[0][0]")
    assert g.path_count == 12 > MAX_PATHS
    assert g.paths == ()


@pytest.mark.parametrize(
    "act,expected",
    [("sigmoid", "a*(1 - a)"), ("tanh", "1 - a**2")],
)
def test_textbook_derivatives_found_by_sympy(act, expected):
    assert sp.sstr(ACTIVATIONS[act].derivative_of_output) == expected


def test_fused_output_signals():
    d = Derivation(Network(2, [Dense(2, "tanh"), Dense(2, "sigmoid")], "bce"))
    a, y = naming.a(2, 0), naming.y(0)
    assert sp.simplify(d.signals[0].expr - (a - y) / 2) == 0
    assert sp.count_ops(d.signals[0].expr) <= 3
    d = Derivation(Network(2, [Dense(2, "tanh"), Dense(3, "softmax")], "cross_entropy"))
    ys = sp.Add(*(naming.y(k) for k in range(3)))
    for j, signal in enumerate(d.signals[:3]):
        assert sp.expand(signal.expr - (naming.a(2, j) * ys - naming.y(j))) == 0


def test_each_local_derivative_is_computed_once_per_edge():
    net = Network(8, [Dense(8), Dense(8), Dense(4)], "half_sse")
    d = Derivation(net)
    # Inputs and targets need no adjoint, so the edges out of them are skipped.
    edges = sum(
        len(children)
        for parent, children in d.graph.children.items()
        if d.graph.nodes[parent].kind not in ("input", "target")
    )
    assert len(d._local) == edges


def random_network(rng: random.Random) -> Network:
    depth = rng.randint(1, 4)
    sizes = [rng.randint(1, 3) for _ in range(depth)]
    hidden = [
        rng.choice(ELEMENTWISE + ["z/(1 + abs(z))", "tanh(z)*z"]) for _ in range(depth)
    ]
    loss = rng.choice(["half_sse", "mse", "bce", "cross_entropy"])
    if loss == "bce":
        hidden[-1] = "sigmoid"
    if loss == "cross_entropy":
        hidden[-1], sizes[-1] = "softmax", max(2, sizes[-1])
    layers = [
        Dense(n, act, rng.random() < 0.8) for n, act in zip(sizes, hidden, strict=True)
    ]
    return Network(
        rng.randint(1, 3),
        layers,
        {"name": loss, "reduction": rng.choice(["mean", "sum"])},
    )


@pytest.mark.parametrize("seed", range(25))
def test_agrees_with_finite_differences_on_random_architectures(seed):
    from symbp.check import check_derivation

    rng = random.Random(seed)
    net = random_network(rng)
    d = Derivation(net)
    x, y = net.random_data(samples=3, seed=seed)
    report = check_derivation(d, x, y, net.random_params(seed=seed))
    assert report.passed, net
    # Central differences in float64 carry a rounding error near ε^(2/3)·|L|
    # (about 4e-11·|L|), so 1e-7 relative is only resolvable where the
    # gradient is well above that.
    floor = 1e-3 * max(1.0, abs(report.loss))
    for p in report.params:
        for e in p.judged:
            if abs(e.analytic) > floor:
                assert e.rel_error < 1e-7, (net, e)


def test_evaluate_matches_hand_computation_for_xor():
    d = Derivation(example("xor"))
    n = d.evaluate_example()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h = sig(np.array([0.3, 0.4]))
    out = sig(h @ np.array([0.5, 0.6]))
    assert n.loss == pytest.approx(0.5 * (1 - out) ** 2, rel=1e-12)
    d2 = (out - 1) * out * (1 - out)
    assert n.gradients["b2"][0] == pytest.approx(d2, rel=1e-12)
    assert n.gradients["W2"][:, 0] == pytest.approx(h * d2, rel=1e-12)
    assert n.updated["b2"][0] == pytest.approx(-0.5 * d2, rel=1e-12)


# --- the Python API's errors -------------------------------------------------------


def test_gradient_of_an_unknown_entry_is_a_symbp_error():
    d = Derivation(example("xor"))
    assert d.gradient("W1[0, 1]") is d.gradient("W1[0][1]")
    for ref in ("W9", "W1", "W1[5][0]"):
        with pytest.raises(
            SelectionError, match=f"no parameter entry '{re.escape(ref)}'"
        ):
            d.gradient(ref)
    with pytest.raises(KeyError):  # as a lookup error, too
        d.gradient("b3[0]")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"x": [[0.0, 1.0, 99.0]]}, "x: expected shape (N, 2), got (1, 3)"),
        ({"x": [[0.0]]}, "x: expected shape (N, 2), got (1, 1)"),
        ({"y": [[1.0, 5.0]]}, "y: expected shape (N, 1), got (1, 2)"),
        ({"y": [[1.0], [0.0]]}, "y: x has 1 rows but y has 2"),
        ({"x": [[0.0, float("nan")]]}, "x: expected finite numbers"),
        ({"x": "ab"}, "x: expected an array of numbers of shape (N, 2)"),
        ({"drop": "b1"}, "params: missing 'b1'"),
        ({"params": {"W3": [[1.0]]}}, "params.W3: unknown key 'W3'"),
        (
            {"params": {"W2": [[1.0, 2.0]]}},
            "params.W2: expected shape (2, 1), got (1, 2)",
        ),
        ({"rate": -1.0}, "learning_rate: expected a positive finite number"),
    ],
)
def test_evaluate_refuses_numbers_that_do_not_fit_the_network(change, message):
    net = example("xor")
    d = Derivation(net)
    params = {k: v.tolist() for k, v in net.random_params(0).items()}
    params.pop(change.get("drop"), None)
    params.update(change.get("params", {}))
    x, y = change.get("x", [[0.0, 1.0]]), change.get("y", [[1.0]])
    with pytest.raises(SpecError, match=re.escape(message)):
        d.evaluate(x, y, params, change.get("rate", 0.5))


def test_evaluate_takes_arrays_lists_a_flat_sample_and_numpy_scalars():
    net = example("xor")
    d = Derivation(net)
    params = net.random_params(0)
    one = d.evaluate(np.array([[0.0, 1.0]]), np.array([[1.0]]), params, 0.5)
    flat = d.evaluate(
        [0, 1], [1], {k: v.tolist() for k, v in params.items()}, np.float32(0.5)
    )
    assert flat.loss == one.loss
    assert np.array_equal(flat.updated["W1"], one.updated["W1"])


def test_the_api_takes_a_name_or_a_path_and_refuses_anything_else(tmp_path):
    import symbp

    by_name = symbp.derive("xor")
    path = tmp_path / "net.toml"
    path.write_text(spec_text("xor"), "utf-8")
    by_path = symbp.derive(path)
    assert [g.expr for g in by_name.gradients] == [g.expr for g in by_path.gradients]
    assert symbp.generate("xor") == symbp.generate(example("xor"))
    for wrong in (None, 3, ["xor"]):
        for function in (symbp.derive, symbp.check, symbp.generate):
            with pytest.raises(SpecError, match="expected a symbp.Network"):
                function(wrong)
    with pytest.raises(SpecError, match="no such file"):
        symbp.derive(tmp_path / "nosuch.toml")
