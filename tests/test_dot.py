"""The DOT text of the computational graph: structure, numbers read back, escaping."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import sympy as sp

from symbp import naming
from symbp.derive import Derivation
from symbp.output import MARKER
from symbp.render import dot
from symbp.spec import example

HOSTILE = 'evil" ]; "pwn" -> "x_1"; <B>&amp;</B> \\\n// }\n# x'

_NODE = re.compile(
    r'^  "(?P<id>[^"]+)" \[label=<(?P<label>.*)>, (?:shape=\w+, )?fillcolor=', re.M
)
_EDGE = re.compile(r'^  "(?P<tail>[^"]+)" -> "(?P<head>[^"]+)"(?P<rest>.*)$', re.M)
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def nodes(text: str) -> dict[str, str]:
    """Node id → label, from the DOT text."""
    return {m["id"]: m["label"] for m in _NODE.finditer(text)}


def edges(text: str) -> list[tuple[str, str]]:
    """The visible edges (tail, head); the invisible ones only order a column."""
    return sorted(
        (m["tail"], m["head"]) for m in _EDGE.finditer(text) if "invis" not in m["rest"]
    )


def parse_number(text: str) -> float:
    """A number as :func:`dot.number` writes it, read back."""
    text = text.replace("−", "-")
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return float(mantissa) * 10.0 ** int(exponent.translate(_SUP))
    return float(text)


def annotations(label: str) -> tuple[float, float]:
    """The forward value and the adjoint a node's label shows."""
    value = re.search(r"<BR/>= (\S+)<BR/>", label)
    adjoint = re.search(r'<FONT COLOR="#b00020">\S+ = (\S+)</FONT>', label)
    assert value and adjoint, label
    return parse_number(value[1]), parse_number(adjoint[1])


def close(shown: float, exact: float) -> bool:
    """Equal to the 4 significant digits a label shows."""
    return abs(shown - exact) <= 5e-4 * abs(exact) + 1e-12


@pytest.mark.parametrize("name", ["xor", "homework", "deep"])
def test_scalar_form_has_every_node_and_edge_of_the_graph(name):
    d = Derivation(example(name))
    text = dot.scalar(d, d.evaluate_example(adjoints=True))
    graph = d.graph
    assert set(nodes(text)) == {s.name for s in graph.nodes}
    wanted = sorted(
        (p.name, s.name) for s, node in graph.nodes.items() for p in node.parents
    )
    assert edges(text) == wanted


def test_xor_counts():
    text = dot.render(example("xor"))
    assert len(nodes(text)) == 19
    assert len(edges(text)) == 20
    assert text.startswith(f"// {MARKER} ")
    assert "rankdir=LR" in text


@pytest.mark.parametrize(("name", "sample"), [("xor", 0), ("homework", 0), ("deep", 1)])
def test_annotations_are_the_derivations_numbers(name, sample):
    net = example(name)
    d = Derivation(net)
    numbers = d.evaluate_example(adjoints=True)
    labels = nodes(dot.scalar(d, numbers, sample=sample))
    for symbol, node in d.graph.nodes.items():
        value, adjoint = annotations(labels[symbol.name])
        assert close(value, numbers.value(symbol, sample)), symbol
        assert close(adjoint, numbers.adjoint(symbol, sample)), symbol
        if node.kind == "pre":  # the adjoint of z is its δ
            delta = naming.delta(node.layer, node.index[0])
            assert close(adjoint, numbers.values[delta][sample])
            assert f"{naming.unicode(delta)} = " in labels[symbol.name]


def test_one_sample_parameter_adjoints_are_the_gradients():
    d = Derivation(example("xor"))
    numbers = d.evaluate_example(adjoints=True)
    for g in d.gradients:
        exact = numbers.gradients[g.param][g.index]
        assert numbers.adjoint(g.symbol) == pytest.approx(exact, rel=1e-12, abs=1e-15)


def test_batch_gradient_is_shown_beside_a_parameters_sample_adjoint():
    d = Derivation(example("deep"))
    numbers = d.evaluate_example(adjoints=True)
    labels = nodes(dot.scalar(d, numbers, sample=0))
    for g in d.gradients:
        shown = re.search(r"batch mean: (\S+)</FONT>", labels[g.symbol.name])
        assert shown and close(
            parse_number(shown[1]), numbers.gradients[g.param][g.index]
        )
    assert np.allclose(
        [numbers.adjoints[g.symbol].mean() for g in d.gradients],
        [numbers.gradients[g.param][g.index] for g in d.gradients],
    )


def _above(graph, layer: int, expr: sp.Expr) -> sp.Expr:
    """``expr`` with every z and a of layers above ``layer`` written out."""
    subs = {
        s: n.expr
        for s, n in graph.nodes.items()
        if n.kind in ("pre", "act") and n.layer > layer
    }
    while expr.free_symbols & set(subs):
        expr = expr.xreplace(subs)
    return expr


@pytest.mark.parametrize("name", ["xor", "deep"])
def test_adjoints_of_activations_inputs_and_targets_match_sympy_diff(name):
    """The adjoints new to pictures, against sympy.diff of the loss written out."""
    d = Derivation(example(name))
    numbers = d.evaluate_example(adjoints=True)
    graph = d.graph
    point = {s: numbers.value(s) for s in graph.nodes if graph.nodes[s].kind != "loss"}
    for symbol, node in graph.nodes.items():
        if node.kind not in ("act", "input", "target"):
            continue
        layer = node.layer if node.kind == "act" else 0
        loss = _above(graph, layer, graph.nodes[graph.loss].expr)
        if node.kind == "target":
            loss = _above(graph, 0, loss)
        exact = float(sp.diff(loss, symbol).xreplace(point))
        assert numbers.adjoint(symbol) == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_without_an_example_the_graph_has_names_only():
    from symbp.spec import Dense, Network

    net = Network(2, [Dense(2, "sigmoid"), Dense(1, "sigmoid")], "half_sse")
    text = dot.render(net)
    assert len(nodes(text)) == 19
    assert "∂L/∂" not in text and "<BR/>= " not in text
    assert "×w⁽¹⁾₂₁" in text and "×x₂" in text  # which weight multiplies which input


def test_layer_form_of_digits_has_one_node_per_operation():
    net = example("digits")
    assert dot.choose_form(net) == "layer"
    labels = nodes(dot.render(net))
    assert set(labels) == {
        "a0", "W1", "matmul1", "b1", "add1", "act1",
        "W2", "matmul2", "b2", "add2", "act2", "y", "loss2",
    }  # fmt: skip
    assert "64×32" in labels["W1"] and "32×10" in labels["W2"]
    assert "N×32" in labels["add1"] and "δ⁽¹⁾" in labels["add1"]
    assert "relu" in labels["act1"] and "softmax" in labels["act2"]
    assert "mean over N" in labels["loss2"]
    assert len(edges(dot.render(net))) == 12


def test_layer_form_without_bias_feeds_the_activation_from_the_product():
    from symbp.spec import Dense, Network

    net = Network(3, [Dense(4, "tanh", bias=False), Dense(1, "identity")], "mse")
    text = dot.layered(net)
    assert "add1" not in nodes(text) and ("matmul1", "act1") in edges(text)
    assert "add2" in nodes(text)


def test_form_choice_and_override():
    assert dot.choose_form(example("xor")) == "scalar"
    assert dot.choose_form(example("xor"), "layer") == "layer"
    assert "matmul1" in nodes(dot.render(example("xor"), form="layer"))


@pytest.mark.parametrize("form", ["scalar", "layer"])
def test_hostile_name_and_formula_text_stay_inside_their_labels(form):
    net = example("xor")
    net.name = HOSTILE
    layer = net.layers[0]
    act = dataclasses.replace(layer.activation, builtin=False, source_text=HOSTILE)
    net.layers = (dataclasses.replace(layer, activation=act), *net.layers[1:])
    text = dot.render(net, form=form)
    first, body = text.split("\n", 1)
    assert first.endswith("'; do not edit.")  # one comment line, printable text only
    assert HOSTILE not in body and "<B>&amp;" not in body and '"pwn"' not in body
    # Nothing starts a line but symbp's own: no extra statements or comments.
    for line in text.splitlines():
        assert line.startswith(("//", "digraph", "  ", "}")), line
    assert text.count("\n//") == 1  # the second comment line only
    assert "evil&quot; ]; &quot;pwn&quot; -&gt;" in text
    expected = 19 if form == "scalar" else 13
    assert len(nodes(text)) == expected


def test_escape_and_number():
    assert dot.escape("<a href='x'>") == "&lt;a href=&#39;x&#39;&gt;"
    assert dot.escape("\x00\n") == "??"
    for value in (0.25, -0.0001234, 3.2e-9, 98765.4, -1.0):
        assert close(parse_number(dot.number(value)), value)
    assert dot.number(-0.0) == "0"
