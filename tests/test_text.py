"""The terminal text of a derivation: readable on 100 columns."""

from __future__ import annotations

import pytest

from symbp.derive import Derivation
from symbp.render import text
from symbp.spec import Dense, Network, example

SMALL = ["xor", "homework", "deep"]


@pytest.mark.parametrize("name", SMALL)
def test_builtin_examples_fit_100_columns(name):
    d = Derivation(example(name))
    lines = text.render(d, d.evaluate_example()).splitlines()
    assert max(len(line) for line in lines) <= text.WIDTH


def test_a_long_chain_is_folded_and_keeps_every_factor():
    net = Network(1, [Dense(1, "tanh") for _ in range(6)], "half_sse")
    d = Derivation(net)
    lines = text.gradient_lines(d, d.gradient("W1[0][0]"))
    assert max(len(line) for line in lines) <= text.WIDTH
    chain = " ".join(lines[2 : lines.index("    local derivatives")])
    # One ∂ quotient per edge from the loss down to the weight: 2 per layer + 1.
    assert chain.count("/∂") == 2 * 6 + 1
