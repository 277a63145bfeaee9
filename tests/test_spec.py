"""Spec validation: what a valid spec becomes, and that checking needs no SymPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symbp import functions, spec
from symbp.errors import SpecError
from symbp.spec import Dense, Network

ROOT = Path(__file__).resolve().parent.parent

XOR_LIKE = """
inputs = 2
[[layers]]
units = 2
activation = "tanh(z) + z/10"
[[layers]]
units = 1
activation = "sigmoid"
bias = false
[loss]
formula = "(yhat - y)**2"
reduction = "sum"
[train]
optimizer = "adam"
learning_rate = 0.01
[example]
x = [0.5, -1.0]
y = [1.0]
W1 = [[0.1, 0.2], [0.3, 0.4]]
b1 = [0.0, 0.1]
W2 = [[0.5], [0.6]]
"""


def test_the_validation_vocabulary_is_the_registry():
    assert spec.ACTIVATION_NAMES == tuple(functions.ACTIVATIONS)
    assert spec.LOSS_NAMES == tuple(functions.LOSSES)
    assert spec.LOSS_NEEDS == {
        name: loss.requires for name, loss in functions.LOSSES.items() if loss.requires
    }


def test_a_spec_with_formulas_and_no_bias():
    net = spec.loads(XOR_LIKE, "mine.toml")
    assert net.name == "mine"
    assert net.param_shapes() == {"W1": (2, 2), "b1": (2,), "W2": (2, 1)}
    assert net.layers[0].activation.builtin is False
    assert net.loss.name == "(yhat - y)**2" and net.reduction == "sum"
    assert net.train.optimizer == "adam"
    # a flat list is one sample; the learning rate falls back to [train]
    assert net.example.x.shape == (1, 2) and net.example.y.shape == (1, 1)
    assert net.example.learning_rate == 0.01
    assert net.param_count() == 8


def test_every_builtin_example_is_valid_and_named_after_its_file():
    for name in spec.example_names():
        net = spec.example(name)
        assert net.source == f"{name}.toml"
        if net.example is not None:
            for pname, shape in net.param_shapes().items():
                assert net.example.params[pname].shape == shape


def test_the_api_accepts_resolved_functions_too():
    act, loss = functions.ACTIVATIONS["tanh"], functions.LOSSES["mse"]
    net = Network(inputs=3, layers=[Dense(2, act), Dense(1, "identity")], loss=loss)
    assert net.layers[0].activation is act and net.loss is loss
    with pytest.raises(SpecError, match="needs a softmax output layer"):
        Network(
            inputs=3, layers=[Dense(2, act)], loss=functions.LOSSES["cross_entropy"]
        )


def test_random_data_suits_the_loss():
    net = Network(2, [Dense(3, "softmax")], "cross_entropy")
    x, y = net.random_data(5, seed=1)
    assert x.shape == (5, 2) and np.allclose(y.sum(axis=1), 1)
    params = net.random_params(seed=1)
    assert params["W1"].shape == (2, 3)


def test_a_bad_spec_is_refused_before_sympy_is_imported(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(XOR_LIKE.replace('"tanh(z) + z/10"', '"tanh(z) + q"'), "utf-8")
    code = (
        "import sys\n"
        "from symbp import spec\n"
        "from symbp.errors import SymbpError\n"
        "try:\n"
        f"    spec.load({str(bad)!r})\n"
        "except SymbpError as exc:\n"
        "    print(exc)\n"
        "print('sympy' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    message, loaded = run.stdout.splitlines()
    assert message.startswith(f"{bad}: layers[0].activation: unknown variable 'q'")
    assert loaded == "False"


def test_odd_file_names_give_plain_default_names(tmp_path):
    path = tmp_path / "hw 3 (final).toml"
    path.write_text(XOR_LIKE, "utf-8")
    assert spec.load(path).name == "hw 3 _final_"
    assert spec.plain_name('"""') == "___"
