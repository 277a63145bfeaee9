"""``symbp exercise``: reproducible, well-posed exercises whose answer keys are right.

The answers in answer.md are checked twice, against oracles that share no code
with the answer key: a Derivation of the written exercise.toml evaluated anew,
and a plain NumPy forward pass of the numbers read with tomllib, differentiated
by central finite differences.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from symbp import cli, exercise, load, naming
from symbp.derive import Derivation
from symbp.latex import compile_pdf
from symbp.render.exercise import rounded

CASES = {
    "seed only": ["--seed", "3"],
    "relu": ["--seed", "11", "--sizes", "2,3,1", "--activation", "relu,identity"],
    "softmax": ["--seed", "4", "--sizes", "3,2,3", "--activation", "tanh,softmax"],
    "bce batch": ["--seed", "5", "--loss", "bce", "--samples", "3"],
    "tiny": ["--seed", "6", "--sizes", "2,1", "--no-bias", "--activation", "sigmoid"],
}


def run(args: list[str], capsys) -> tuple[int, str, str]:
    """The command line's exit status, standard output and standard error."""
    try:
        code = cli.main(["exercise", *args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """Each case's folder, written once by the command line."""
    folders = {}
    for name, args in CASES.items():
        folder = tmp_path_factory.mktemp(name.replace(" ", "-"))
        assert cli.main(["exercise", *args, "-o", str(folder)]) == 0
        folders[name] = folder
    return folders


def files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in exercise.FILES}


# -- reproducible ------------------------------------------------------------------


def test_same_seed_and_options_give_byte_identical_files(made, tmp_path, capsys):
    code, _, _ = run([*CASES["relu"], "-o", str(tmp_path)], capsys)
    assert code == 0
    assert files(tmp_path) == files(made["relu"])


def test_the_command_in_the_header_reproduces_the_exercise(made, tmp_path, capsys):
    first = (made["seed only"] / "exercise.toml").read_text().splitlines()[0]
    command = first.split(": ", 1)[1]
    assert command.startswith("symbp exercise --seed 3 --sizes ")
    code, _, _ = run([*command.split()[2:], "-o", str(tmp_path)], capsys)
    assert code == 0
    assert files(tmp_path) == files(made["seed only"])


def test_different_seeds_give_different_exercises():
    specs = {exercise.make(exercise.options(seed)).spec for seed in range(6)}
    examples = {spec.split("[example]")[1] for spec in specs}
    assert len(examples) == 6


# -- the spec file -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_spec_loads_and_derive_runs_on_it(made, case, capsys):
    path = made[case] / "exercise.toml"
    net = load(path)
    assert net.example is not None
    assert cli.main(["derive", str(path)]) == 0
    assert "Gradients" in capsys.readouterr().out


def read(folder: Path) -> dict:
    return tomllib.loads((folder / "exercise.toml").read_text())


@pytest.mark.parametrize("case", CASES)
def test_numbers_are_tenths_in_small_ranges(made, case):
    data = read(made[case])
    ex = data["example"]
    assert ex["learning_rate"] in exercise.RATES
    for key, value in ex.items():
        if key == "learning_rate":
            continue
        arr = np.asarray(value, float)
        np.testing.assert_allclose(arr * 10, np.round(arr * 10), atol=1e-9)
        assert np.all(np.abs(arr) <= 1.0 + 1e-12), key
        if key == "x" or key.startswith("W"):
            assert np.all(arr != 0), f"{key} has a zero"


def test_options_are_respected(made):
    relu = read(made["relu"])
    assert relu["inputs"] == 2
    assert [(t["units"], t["activation"]) for t in relu["layers"]] == [
        (3, "relu"),
        (1, "identity"),
    ]
    soft = read(made["softmax"])
    assert soft["loss"]["name"] == "cross_entropy"
    assert [t["activation"] for t in soft["layers"]] == ["tanh", "softmax"]
    batch = read(made["bce batch"])
    assert batch["loss"]["name"] == "bce"
    assert batch["layers"][-1]["activation"] == "sigmoid"
    assert len(batch["example"]["x"]) == 3
    tiny = read(made["tiny"])
    assert all(t["bias"] is False for t in tiny["layers"])
    assert set(tiny["example"]) == {"x", "y", "W1", "learning_rate"}


# -- the answer key ----------------------------------------------------------------

_ANSWER = re.compile(r"^\| (\d+\.\d+) \| \$(.+?)\$ \| \$(-?\d+\.\d{4})\$ \|$", re.M)
_SAMPLE = r"(?:\\ \\text\{\(sample (\d)\)\})?"
_NODE = re.compile(r"^([za])\^\{\((\d)\)\}_\{(\d)\}" + _SAMPLE + "$")
_LOSS = re.compile(r"^L" + _SAMPLE + "$")
_GRAD = re.compile(r"^\\partial L/\\partial ([wb])\^\{\((\d)\)\}_\{(\d+)\}$")
_STEP = re.compile(r"^([wb])\^\{\((\d)\)\}_\{(\d+)\}\\ \\text\{after the step\}$")


def answers(folder: Path) -> list[tuple[str, str, str]]:
    """The answers table of answer.md: (label, quantity, value)."""
    found = _ANSWER.findall((folder / "answer.md").read_text())
    assert found, "no answers table in answer.md"
    return found


def _entry(kind: str, layer: str, digits: str) -> tuple[str, tuple[int, ...]]:
    index = tuple(int(d) - 1 for d in digits)
    return ("W" if kind == "w" else "b") + layer, index


def test_the_question_asks_exactly_what_the_key_answers(made):
    for folder in made.values():
        question = (folder / "question.md").read_text()
        asked = re.findall(r"^\| (\d+\.\d+) \| \$(.+?)\$ \| \|$", question, re.M)
        assert asked == [(label, tex) for label, tex, _ in answers(folder)]
        assert "rounded to 4 decimal places" in question
        assert "Worked example" not in question


@pytest.mark.parametrize("case", CASES)
def test_answers_equal_an_independent_derivation(made, case):
    folder = made[case]
    d = Derivation(load(folder / "exercise.toml"))
    numbers = d.evaluate_example()
    for label, tex, value in answers(folder):
        if m := _NODE.match(tex):
            kind, layer, unit, sample = m.groups()
            make = naming.z if kind == "z" else naming.a
            symbol = make(int(layer), int(unit) - 1)
            expected = numbers.values[symbol][int(sample or 1) - 1]
        elif m := _LOSS.match(tex):
            expected = numbers.sample_losses[int(m.group(1) or 1) - 1]
        elif tex == r"L\ \text{(the batch)}":
            expected = numbers.loss
        elif m := _GRAD.match(tex):
            expected = numbers.gradients[_entry(*m.groups())[0]][_entry(*m.groups())[1]]
        elif m := _STEP.match(tex):
            expected = numbers.updated[_entry(*m.groups())[0]][_entry(*m.groups())[1]]
        else:
            raise AssertionError(f"unexpected quantity {tex!r} ({label})")
        assert value == rounded(expected), (label, tex)
        # clear of a rounding boundary: 6 decimals of working round the same way
        assert abs(abs(expected) * 1e4 % 1 - 0.5) >= 0.01, (label, expected)


# -- an oracle that shares no code with symbp: NumPy and finite differences -------


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


_ACT = {
    "identity": lambda z: z,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "silu": lambda z: z * _sigmoid(z),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
}
_LOSSES = {
    "half_sse": lambda p, y: 0.5 * ((y - p) ** 2).sum(axis=1),
    "mse": lambda p, y: ((y - p) ** 2).mean(axis=1),
    "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1),
    "cross_entropy": lambda p, y: -(y * np.log(p)).sum(axis=1),
}


def forward(data: dict, params: dict) -> tuple[list, np.ndarray]:
    """Each layer's (z, a), and the per-sample losses, from the spec's numbers."""
    a = np.asarray(data["example"]["x"], float)
    layers = []
    for index, table in enumerate(data["layers"], start=1):
        z = a @ params[f"W{index}"] + (params[f"b{index}"] if table["bias"] else 0.0)
        a = _ACT[table["activation"]](z)
        layers.append((z, a))
    y = np.asarray(data["example"]["y"], float)
    return layers, _LOSSES[data["loss"]["name"]](a, y)


@pytest.mark.parametrize("case", CASES)
def test_answers_agree_with_numpy_and_central_differences(made, case):
    folder = made[case]
    data = read(folder)
    params = {
        k: np.asarray(v, float)
        for k, v in data["example"].items()
        if k[0] in "Wb" and k[1:].isdigit()
    }
    rate = data["example"]["learning_rate"]
    layers, losses = forward(data, params)

    def batch_loss(p):
        return forward(data, p)[1].mean()

    def central(name, index, h=1e-6):
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus[name][index] += h
        minus[name][index] -= h
        return (batch_loss(plus) - batch_loss(minus)) / (2 * h)

    tolerance = 0.5e-4 + 1e-6
    for label, tex, value in answers(folder):
        if m := _NODE.match(tex):
            kind, layer, unit, sample = m.groups()
            z, a = layers[int(layer) - 1]
            expected = (z if kind == "z" else a)[int(sample or 1) - 1, int(unit) - 1]
        elif m := _LOSS.match(tex):
            expected = losses[int(m.group(1) or 1) - 1]
        elif tex == r"L\ \text{(the batch)}":
            expected = losses.mean()
        elif m := _GRAD.match(tex):
            expected = central(*_entry(*m.groups()))
        elif m := _STEP.match(tex):
            name, index = _entry(*m.groups())
            expected = params[name][index] - rate * central(name, index)
        else:
            raise AssertionError(f"unexpected quantity {tex!r} ({label})")
        assert abs(float(value) - expected) <= tolerance, (label, tex, expected)


@pytest.mark.parametrize("case", CASES)
def test_exercises_are_well_conditioned(made, case):
    data = read(made[case])
    params = {
        k: np.asarray(v, float) for k, v in data["example"].items() if k[0] in "Wb"
    }
    layers, _ = forward(data, params)
    for table, (z, a) in zip(data["layers"], layers, strict=True):
        assert np.all(np.abs(z) <= 3.0)
        if table["activation"] in ("sigmoid", "softmax"):
            assert np.all((a >= 0.05) & (a <= 0.95))
        if table["activation"] == "relu":
            assert np.all(np.abs(z) >= 0.05)
            assert np.all((z > 0).any(axis=0)), "a ReLU unit is dead for every sample"
    grads = [v for _, tex, v in answers(made[case]) if tex.startswith(r"\partial")]
    assert grads and all(abs(float(v)) >= 0.001 for v in grads)


def test_tiny_networks_ask_for_every_gradient(made):
    grads = [tex for _, tex, _ in answers(made["tiny"]) if tex.startswith(r"\partial")]
    assert len(grads) == 2  # W1 is 2 x 1, no bias


def test_larger_networks_ask_one_weight_per_layer_and_a_bias(made):
    grads = [tex for _, tex, _ in answers(made["relu"]) if tex.startswith(r"\partial")]
    assert [g.split("partial ")[-1][0] for g in grads] == ["w", "b", "w"]
    assert {g.split("{(")[1][0] for g in grads} == {"1", "2"}


# -- options and files -------------------------------------------------------------

BAD = {
    "a letter in sizes": ["--sizes", "2,x"],
    "a zero size": ["--sizes", "2,0,1"],
    "too wide": ["--sizes", "2,5,1"],
    "too deep": ["--sizes", "2,2,2,2,1"],
    "no layer": ["--sizes", "2"],
    "unknown activation": ["--activation", "sigmod"],
    "a formula": ["--activation", "z/(1 + abs(z))"],
    "unknown loss": ["--loss", "hinge"],
    "loss and activation disagree": ["--loss", "bce", "--activation", "tanh"],
    "softmax hidden": ["--activation", "softmax,sigmoid"],
    "softmax of one unit": ["--sizes", "2,1", "--activation", "softmax"],
    "activations and layers disagree": [
        "--sizes",
        "2,2,1",
        "--activation",
        "tanh,tanh,sigmoid",
    ],
    "no samples": ["--samples", "0"],
    "too many samples": ["--samples", "9"],
    "negative seed": ["--seed", "-1"],
    "seed not a number": ["--seed", "x"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_bad_options_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args):
    folder = tmp_path / "out"
    seed = [] if "--seed" in args else ["--seed", "1"]
    code, out, err = run([*seed, *args, "-o", str(folder)], capsys)
    assert code == 2
    assert err.startswith("symbp: error:") and err.count("\n") == 1, err
    assert out == ""
    assert not folder.exists()


def test_no_overwrite_without_force_and_nothing_half_written(tmp_path, capsys):
    mine = tmp_path / "question.md"
    mine.write_text("my own notes\n")
    code, _, err = run(["--seed", "2", "-o", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "question.md" in err and "--force" in err
    assert mine.read_text() == "my own notes\n"
    assert not (tmp_path / "exercise.toml").exists()

    code, _, _ = run(["--seed", "2", "-o", str(tmp_path), "--force"], capsys)
    assert code == 0 and mine.read_text().startswith("<!-- Generated by symbp")
    # symbp's own files are replaced without --force
    code, _, _ = run(["--seed", "2", "-o", str(tmp_path)], capsys)
    assert code == 0


def test_a_file_in_place_of_the_folder_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = run(["--seed", "2", "-o", str(target)], capsys)
    assert code == 2 and "folder" in err


def test_the_folder_is_created_and_a_summary_printed(tmp_path, capsys):
    folder = tmp_path / "a" / "b"
    code, out, err = run(["--seed", "9", "-o", str(folder)], capsys)
    assert code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(exercise.FILES)
    assert out.startswith("exercise 9: ") and out.count("\n") == 1
    assert err.count("wrote ") == len(exercise.FILES)


def test_markdown_math_is_balanced(made):
    for folder in made.values():
        for name in ("question.md", "answer.md"):
            for line in (folder / name).read_text().splitlines():
                if not line.startswith("$$"):
                    assert line.count("$") % 2 == 0, (name, line)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
@pytest.mark.parametrize("case", ["softmax", "bce batch"])
def test_latex_compiles(made, case):
    for name in ("question.tex", "answer.tex"):
        pdf = compile_pdf((made[case] / name).read_text(), source=name)
        assert pdf.startswith(b"%PDF")
