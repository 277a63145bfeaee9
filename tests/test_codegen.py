"""Generated NumPy modules: gradients, interface, stability, training, lint, wheel."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import helpers
import numpy as np
import pytest

from symbp import codegen, output, spec
from symbp.functions import ACTIVATIONS

ROOT = Path(__file__).resolve().parents[1]
ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.expr is not None]
CUSTOM_ACTIVATIONS = ["z/(1 + abs(z))", "tanh(z) + z/10", "log(1 + exp(z))/2"]
CUSTOM_LOSSES = ["(yhat - y)**4", "abs(y - yhat) + (y - yhat)**2"]


module = helpers.module
_net = helpers.network


def _data(net, samples=5, seed=0):
    x, y = net.random_data(samples, seed)
    return x, y


# --- gradients against finite differences ---------------------------------------------


@pytest.mark.parametrize("act", ELEMENTWISE + CUSTOM_ACTIVATIONS)
@pytest.mark.parametrize("loss", ["half_sse", "mse", *CUSTOM_LOSSES])
def test_gradients_match_finite_differences(act, loss):
    mod, net = module(
        ((3, 4, 2), (act, act), ("formula", loss) if "y" in loss else loss)
    )
    x, y = _data(net)
    assert mod.gradient_check(net.random_params(1), x, y) < 1e-5


@pytest.mark.parametrize(
    "key",
    [
        ((3, 4, 2), ("tanh", "sigmoid"), "bce"),
        ((3, 5, 4), ("silu", "softmax"), "cross_entropy"),
        ((3, 5, 4), ("relu", "softmax"), "mse"),
        ((2, 3, 3, 1), ("softplus", "leaky_relu", "identity"), "half_sse", False),
        ((4, 2), ("sigmoid",), "bce", True, "sum"),
        ((4, 3), ("softmax",), "cross_entropy", False, "sum"),
    ],
)
def test_gradients_of_mixed_networks(key):
    mod, net = module(key)
    x, y = _data(net, 6, seed=3)
    assert mod.gradient_check(net.random_params(2), x, y) < 1e-5


def test_float32_module_computes_in_float32():
    mod, net = module(((3, 5, 4), ("tanh", "softmax"), "cross_entropy"), "float32")
    params = mod.init_params(0)
    assert all(p.dtype == np.float32 for p in params.values())
    x, y = _data(net, 8)
    value, grads = mod.loss_and_gradients(params, x, y)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert mod.predict(params, x).dtype == np.float32
    assert mod.gradient_check(params, x, y) < 2e-2
    losses = mod.train(params, x, y, epochs=20, learning_rate=0.05, batch_size=4)
    assert losses[-1] < losses[0]


def test_softmax_cross_entropy_gradient_is_exact_for_any_targets():
    # Rows summing to 1 give a - y; rows that do not still get the exact gradient.
    mod, net = module(((3, 4), ("softmax",), "cross_entropy"))
    x, _ = _data(net, 4)
    params = net.random_params(0)
    for y in (
        np.eye(4)[[0, 1, 2, 3]],
        np.abs(np.random.default_rng(1).normal(size=(4, 4))),
    ):
        _, grads = mod.loss_and_gradients(params, x, y)
        a = mod.predict(params, x)
        delta = (a * y.sum(axis=1, keepdims=True) - y) / 4
        assert np.allclose(grads["W1"], x.T @ delta)
        assert mod.gradient_check(params, x, y) < 1e-6


@pytest.mark.parametrize(
    "key",
    [
        ((3, 5, 4), ("relu", "softmax"), "cross_entropy"),
        ((4, 3), ("softmax",), "cross_entropy", False, "sum"),
        ((3, 4, 2), ("tanh", "sigmoid"), "bce"),
        ((3, 4, 2), ("tanh", "sigmoid"), "half_sse"),
        ((3, 4, 1), ("tanh", "identity"), "mse"),
        ((3, 2), ("identity",), "half_sse", True, "sum"),
        ((3, 2), ("identity",), ("formula", "(yhat - y)**2/2"), True, "sum"),
        ((3, 4, 2), ("tanh", "tanh"), ("formula", "(yhat - y)**4")),
    ],
    ids=str,
)
def test_scaled_backprop_scales_every_gradient_and_changes_no_input(key):
    # The output delta is built in place and scaled by the loss's factor times
    # ``scale``: X, Y and the parameters must come out as they went in.
    mod, net = module(key)
    x, y = _data(net, 40, seed=4)
    params = net.random_params(3)
    before = {k: v.copy() for k, v in params.items()}
    x0, y0 = x.copy(), y.copy()
    value, grads = mod.loss_and_gradients(params, x, y)
    assert value == pytest.approx(mod.loss(params, x, y), rel=1e-12)
    backprop = getattr(mod, "_backprop_arrays", mod._backprop)
    for scale in (None, 0.25):
        scaled = {k: np.full(v.shape, np.nan) for k, v in params.items()}
        assert backprop(params, x, y, scaled, scale) == pytest.approx(value, rel=1e-12)
        for name, grad in grads.items():
            expect = grad if scale is None else scale * grad
            np.testing.assert_allclose(scaled[name], expect, rtol=1e-12, atol=1e-300)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
    assert all(np.array_equal(params[k], before[k]) for k in params)


# --- the interface of DESIGN.md -------------------------------------------------------


def test_interface_and_shapes():
    mod, net = module(((3, 4, 2), ("tanh", "sigmoid"), "half_sse", False))
    assert mod.PARAM_SHAPES == {"W1": (3, 4), "W2": (4, 2)}
    params = mod.init_params(seed=0)
    assert set(params) == {"W1", "W2"}
    assert np.array_equal(params["W1"], mod.init_params(seed=0)["W1"])
    x, y = _data(net)
    assert mod.predict(params, x).shape == (5, 2)
    value, grads = mod.loss_and_gradients(params, x, y)
    assert value == pytest.approx(mod.loss(params, x, y))
    again, grads2 = mod.loss_and_gradients(params, x, y)
    assert grads["W1"] is not grads2["W1"]
    assert np.array_equal(grads["W1"], grads2["W1"])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_train_updates_in_place_and_lowers_the_loss(optimizer):
    mod, net = module(((3, 6, 2), ("tanh", "identity"), "mse"))
    x, y = _data(net, 32)
    params = mod.init_params(0)
    w1 = params["W1"]
    losses = mod.train(
        params, x, y, epochs=30, learning_rate=0.05, batch_size=8, optimizer=optimizer
    )
    assert params["W1"] is w1
    assert len(losses) == 30 and losses[-1] < 0.8 * losses[0]
    again = mod.init_params(0)
    assert (
        mod.train(
            again,
            x,
            y,
            epochs=30,
            learning_rate=0.05,
            batch_size=8,
            optimizer=optimizer,
        )
        == losses
    )
    with pytest.raises(ValueError, match="unknown optimizer"):
        mod.train(params, x, y, optimizer="rmsprop")


def test_epoch_loss_is_the_mean_of_batch_losses():
    mod, net = module(((3, 6, 2), ("tanh", "identity"), "mse"))
    x, y = _data(net, 12)
    params = mod.init_params(0)
    first = mod.loss(params, x[:6], y[:6])
    second_params = {k: v.copy() for k, v in params.items()}
    losses = mod.train(params, x, y, epochs=1, learning_rate=1e-12, batch_size=6)
    halves = [
        mod.loss(second_params, x[i], y[i])
        for i in np.array_split(np.random.default_rng(0).permutation(12), 2)
    ]
    assert losses[0] == pytest.approx(np.mean(halves), rel=1e-6)
    assert first > 0


def test_generated_module_imports_only_numpy_and_stdlib():
    source = codegen.generate(spec.example("digits"))
    imports = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imports |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imports.add(node.module.split(".")[0])
    assert imports <= {"numpy"} | set(sys.stdlib_module_names)


def test_header_names_source_version_and_marker():
    source = codegen.generate(spec.example("xor"))
    first = source.splitlines()[0]
    assert output.MARKER in first and "0.1.0" in first and "xor.toml" in first
    assert "grad_W1" in source and "delta2" in source
    assert "# δ⁽¹⁾ = (δ⁽²⁾ W⁽²⁾ᵀ) ⊙ a⁽¹⁾*(1 - a⁽¹⁾)" in source


@pytest.mark.parametrize(
    "key, forms",
    [
        (((2, 2, 1), ("sigmoid", "sigmoid"), "half_sse"), ["σ(u) as"]),
        (((2, 3, 2), ("tanh", "sigmoid"), "bce"), ["σ(u) as", "logaddexp(0, u)"]),
        (((2, 3, 2), ("relu", "softmax"), "cross_entropy"), ["row maximum", "log-sum"]),
        (((2, 3, 1), ("relu", "identity"), "mse"), []),
    ],
    ids=str,
)
def test_the_docstring_names_the_stable_forms_its_code_uses(key, forms):
    mod, _ = module(key)
    doc = " ".join(mod.__doc__.split())
    for form in forms:
        assert form in doc
    every = ["σ(u) as", "logaddexp(0, u)", "row maximum", "log-sum"]
    for form in set(every) - set(forms):
        assert form not in doc
    assert ("Numerically stable forms" in doc) == bool(forms)


@pytest.mark.parametrize(
    "name",
    [
        'x"""; open("PWNED", "w"); """',
        "x'''\nimport os\nos.system('touch PWNED')\n'''",
        "a\\\n__import__('os')",
    ],
)
def test_a_hostile_name_cannot_reach_the_code(tmp_path, monkeypatch, name):
    # A spec's name is refused where it enters (tests/test_hostile.py); one set
    # on the object afterwards through the API is made plain in the module.
    monkeypatch.chdir(tmp_path)
    net = spec.example("xor")
    with pytest.raises(spec.SpecError, match="not allowed in a name"):
        spec.Network(2, [spec.Dense(1)], "mse", name=name)
    net.name = name
    source = codegen.generate(net)
    tree = ast.parse(source)
    assert ast.get_docstring(tree).startswith(output.MARKER)
    assert not any(isinstance(n, ast.Expr) for n in tree.body[1:])
    codegen.load(source, name="hostile")
    assert not (tmp_path / "PWNED").exists()
    assert name not in source


def test_unknown_dtype_is_refused():
    with pytest.raises(spec.SpecError, match="dtype"):
        codegen.generate(spec.example("xor"), dtype="float16")


# --- numerical stability --------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ELEMENTWISE)
@pytest.mark.parametrize("loss", ["half_sse", "mse", "bce", "cross_entropy"])
def test_no_overflow_for_huge_inputs(act, loss, dtype):
    out = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, act)
    mod, net = module(((3, 4, 3), (act, out), loss), dtype)
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], dtype)
    y = (np.eye(3) if loss != "half_sse" else np.eye(3) * 2 - 1).astype(dtype)
    params = {k: v.astype(dtype) for k, v in net.random_params(0, scale=3.0).items()}
    # A step of 1e-3 on an unbounded output at |x| = 1e4 truly leaves float32's
    # range after one epoch; the smaller step still runs every line of train.
    rate = 1e-3 if dtype == "float64" else 1e-12
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        value, grads = mod.loss_and_gradients(params, x, y)
        mod.train(params, x, y, epochs=2, learning_rate=rate, batch_size=2)
    assert np.isfinite(value)
    assert all(np.isfinite(g).all() and g.dtype == dtype for g in grads.values())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_targets_of_exactly_zero_and_one(loss, dtype):
    out = "sigmoid" if loss == "bce" else "softmax"
    mod, net = module(((2, 3, 2), ("tanh", out), loss), dtype)
    x = np.array([[50.0, -50.0], [-50.0, 50.0]], dtype)
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype)
    params = {k: v.astype(dtype) for k, v in net.random_params(0, scale=5.0).items()}
    values = []
    for targets in (y, y[:, ::-1].copy()):  # one of the two is confidently wrong
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            value, grads = mod.loss_and_gradients(params, x, targets)
        assert np.isfinite(value) and all(np.isfinite(g).all() for g in grads.values())
        values.append(value)
    assert max(values) > 1.0  # saturated: the logs neither round to 0 nor to -inf


# --- training to a result -------------------------------------------------------------


def test_xor_trains_to_full_accuracy_from_the_builtin_spec():
    mod = codegen.load(codegen.generate(spec.example("xor")))
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    params = mod.init_params(0)
    mod.train(params, x, y)
    assert np.array_equal(mod.predict(params, x) > 0.5, y > 0.5)


def test_digits_classifier_reaches_94_percent():
    datasets = pytest.importorskip("sklearn.datasets")
    selection = pytest.importorskip("sklearn.model_selection")
    digits = datasets.load_digits()
    x, y = digits.data / 16.0, np.eye(10)[digits.target]
    x_train, x_test, y_train, y_test = selection.train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target
    )
    mod = codegen.load(codegen.generate(spec.example("digits")))
    params = mod.init_params(0)
    mod.train(params, x_train, y_train)
    accuracy = np.mean(mod.predict(params, x_test).argmax(1) == y_test.argmax(1))
    assert accuracy >= 0.94


# --- the text itself ------------------------------------------------------------------


def test_generation_is_deterministic_across_hash_seeds():
    script = (
        "import sys, symbp.codegen as c, symbp.spec as s;"
        "sys.stdout.write(c.generate(s.example('digits')))"
    )
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        outs.append(run.stdout)
    assert outs[0] == outs[1]
    assert str(ROOT) not in outs[0]


@pytest.mark.parametrize("name", spec.example_names())
def test_generated_folder_is_up_to_date(name):
    path = ROOT / "generated" / f"{name}.py"
    assert path.read_text("utf-8") == codegen.generate(spec.example(name))


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_generated_code_is_lint_clean(tmp_path):
    nets = {name: spec.example(name) for name in spec.example_names()}
    nets["custom"] = _net(
        (3, 7, 5, 2),
        ("z/(1 + abs(z))", "silu", "identity"),
        ("formula", CUSTOM_LOSSES[1]),
    )
    nets["long"] = _net((3, 4, 4), ("leaky_relu", "softmax"), "mse", False, "sum")
    for name, net in nets.items():
        (tmp_path / f"{name}.py").write_text(codegen.generate(net), "utf-8")
    options = ["--isolated", "--line-length", "88"]
    check = [*options, "--select", "E,F,W,I,B"]
    for command in (["check", *check, "."], ["format", *options, "--check", "."]):
        run = subprocess.run(
            ["ruff", *command], cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_module_runs_its_self_test_as_a_script(tmp_path):
    path = tmp_path / "deep.py"
    path.write_text(codegen.generate(spec.example("deep"), dtype="float32"), "utf-8")
    run = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gradient check" in run.stdout and "trained" in run.stdout


def test_wheel_ships_the_templates(tmp_path):
    # Build from a copy, so that the checkout gets no build folders.
    tree = tmp_path / "tree"
    tree.mkdir()
    for part in ("pyproject.toml", "README.md", "symbp", "templates"):
        if (ROOT / part).is_dir():
            shutil.copytree(
                ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif (ROOT / part).exists():
            shutil.copy(ROOT / part, tree / part)
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "-o", str(dist)],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.fail(build.stdout[-2000:] + build.stderr[-2000:])
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [str(env_dir / "bin" / "symbp"), "generate", "xor", "-o", "out.py"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = (work / "out.py").read_text("utf-8")
    assert output.MARKER in text
    check = subprocess.run(
        [str(python), "out.py"], cwd=work, capture_output=True, text=True, env=env
    )
    assert check.returncode == 0, check.stdout + check.stderr


# --- size: the scalar form's limit, the layer form's lack of one ----------------------


def test_too_large_for_the_scalar_form_stops_at_once_and_the_layer_form_works():
    import time

    from symbp.derive import Derivation
    from symbp.graph import MAX_SCALAR_PARAMS, TooLargeError

    net = _net((784, 4096, 1000), ("relu", "softmax"), "cross_entropy")
    start = time.perf_counter()
    with pytest.raises(TooLargeError) as info:
        Derivation(net)
    assert time.perf_counter() - start < 0.5
    message = info.value.message
    assert f"at most {MAX_SCALAR_PARAMS}" in message and "layer form" in message
    assert "symbp generate SPEC" in message

    mod = codegen.load(codegen.generate(net), name="wide")
    shapes = {"W1": (784, 4096), "b1": (4096,), "W2": (4096, 1000), "b2": (1000,)}
    assert mod.PARAM_SHAPES == shapes
    params = mod.init_params(0)
    x = np.random.default_rng(0).normal(size=(2, 784))
    y = np.eye(1000)[[3, 7]]
    value, grads = mod.loss_and_gradients(params, x, y)
    assert np.isfinite(value) and grads["W1"].shape == (784, 4096)
    # One entry of each gradient against a central difference.
    for name, index in (("W2", (5, 3)), ("b1", (17,))):
        h = 1e-5
        params[name][index] += h
        up = mod.loss(params, x, y)
        params[name][index] -= 2 * h
        down = mod.loss(params, x, y)
        params[name][index] += h
        assert grads[name][index] == pytest.approx(
            (up - down) / (2 * h), rel=1e-5, abs=1e-9
        )


def test_check_of_a_network_too_large_for_the_scalar_form_checks_its_module():
    from symbp.check import check

    net = _net((40, 30, 2), ("tanh", "sigmoid"), "bce")
    assert net.param_count() > 1000
    result = check(net, count=1)
    assert result.skipped and "at most 1000" in result.skipped
    assert [r.target for r in result.reports] == ["generated module"]
    assert result.passed
