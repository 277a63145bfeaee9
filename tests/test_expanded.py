"""`symbp derive --expanded`: each gradient in x, y, w and b alone, in every format.

The expanded gradients are checked against sympy.diff of the expanded loss at
random points; the σ-named form that the documents print against the full one.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import sympy as sp

from symbp import cli, spec
from symbp.derive import MAX_EXPANDED_PARAMS, Derivation
from symbp.graph import Graph
from symbp.rewrite import Sigmoid

NETS = {
    "xor": spec.example("xor"),
    "tanh-softmax": spec.Network(
        2,
        [spec.Dense(2, "tanh"), spec.Dense(2, "softmax")],
        "cross_entropy",
    ),
    "silu-sigmoid-bce": spec.Network(
        1, [spec.Dense(2, "silu"), spec.Dense(1, "sigmoid")], "bce"
    ),
}


def _at(expr: sp.Expr, point: dict) -> float:
    return float(expr.xreplace(point).evalf(30))


@pytest.mark.parametrize("name", NETS)
def test_expanded_gradients_equal_sympy_diff_of_the_expanded_loss(name):
    d = Derivation(NETS[name])
    graph = Graph(d.network)
    loss = graph.expanded(graph.nodes[graph.loss].expr)
    rng = np.random.default_rng(5)
    point = {
        s: sp.Float(rng.uniform(-1.5, 1.5), 40)
        for s in sorted(loss.free_symbols, key=str)
    }
    for g in d.gradients:
        theirs = _at(sp.diff(loss, g.symbol), point)
        for named in (False, True):
            ours = d.expanded(g.symbol, named=named)
            assert ours.free_symbols <= loss.free_symbols, g.ref
            assert _at(ours, point) == pytest.approx(theirs, rel=1e-12, abs=1e-14)


def test_the_named_form_keeps_sigma_and_has_no_exponential():
    d = Derivation(NETS["xor"])
    for g in d.gradients:
        named = d.expanded(g.symbol, named=True)
        assert named.has(Sigmoid) and not named.has(sp.exp), g.ref


def _derive(capsys, *args):
    code = cli.main(["derive", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_writes_every_gradient_expanded_within_100_columns(capsys):
    code, out, err = _derive(capsys, "homework", "--expanded")
    assert code == 0 and err == ""
    d = Derivation(spec.example("homework"))
    assert out.count("in x, y, w and b alone") == len(d.gradients)
    assert "σ(b⁽¹⁾₁ + w⁽¹⁾₁₁·x₁ + w⁽¹⁾₂₁·x₂)" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    plain = _derive(capsys, "homework")[1]
    assert "alone" not in plain and len(plain) < len(out)


def test_json_gives_each_gradient_its_expanded_form(capsys):
    code, out, _ = _derive(capsys, "xor", "--expanded", "--format", "json")
    assert code == 0
    data = json.loads(out)
    d = Derivation(spec.example("xor"))
    by_name = {
        s.name: s for g in d.gradients for s in d.expanded(g.symbol).free_symbols
    }
    for g in d.gradients:
        entry = data["gradients"][g.ref]["expanded"]
        assert set(entry) == {"sympy", "text", "latex"}
        parsed = sp.sympify(entry["sympy"], locals=by_name)
        assert sp.simplify(parsed - d.expanded(g.symbol)) == 0, g.ref
        assert "σ(" in entry["text"] and r"\sigma" in entry["latex"]
    assert (
        "expanded"
        not in json.loads(_derive(capsys, "xor", "--format", "json")[1])["gradients"][
            "b2[0]"
        ]
    )


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_documents_write_every_gradient_expanded(capsys, fmt):
    code, out, _ = _derive(capsys, "xor", "--expanded", "--format", fmt)
    assert code == 0
    assert out.count("weights and biases alone") == len(
        Derivation(spec.example("xor")).gradients
    )
    assert r"\sigma" in out


def test_expanded_pdf_compiles(tmp_path, capsys):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    target = tmp_path / "homework.pdf"
    code, _, err = _derive(capsys, "homework", "--expanded", "--pdf", str(target))
    assert code == 0 and err == f"wrote {target}\n"
    assert target.read_bytes().startswith(b"%PDF")


def test_a_network_too_large_to_expand_gets_one_line(capsys):
    assert spec.example("digits").param_count() > MAX_EXPANDED_PARAMS
    for fmt in ("text", "markdown"):
        code, out, err = _derive(capsys, "digits", "--expanded", "--format", fmt)
        assert code == 2 and out == ""
        assert err == (
            "symbp: error: digits.toml: --expanded: the network has 2410 parameters; "
            f"the expanded form is offered up to {MAX_EXPANDED_PARAMS}\n"
        )
