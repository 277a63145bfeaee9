"""``symbp train``: the driver against the generated ``train``, the command line,
saved parameters, progress, the loss curve, and a real data set.
"""

from __future__ import annotations

import importlib.util
import io
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from symbp import cli, codegen, data, losscurve, spec, train
from symbp.errors import TrainingError

XOR_CSV = "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n"
#: The README's command for scikit-learn's bundled digits (no download).
DIGITS_COMMAND = (
    "from sklearn.datasets import load_digits; import numpy as np; "
    "d = load_digits(); np.savez('digits.npz', X=d.data / 16, Y=d.target)"
)
LINEAR_TOML = """
name = "line"
inputs = 1
[[layers]]
units = 1
activation = "identity"
[loss]
name = "mse"
[train]
optimizer = "sgd"
learning_rate = 0.1
epochs = 50
batch_size = 4
"""


def run(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = cli.main(["train", *args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def xor_csv(tmp_path) -> Path:
    path = tmp_path / "xor.csv"
    path.write_text(XOR_CSV)
    return path


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return float(found.group(1))


# --- the driver -----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_epoch_by_epoch_gives_the_losses_of_the_generated_train(optimizer):
    # Optimiser state must carry across epochs: resetting Adam's moments or
    # momentum's velocity each epoch would change every loss after the first.
    net = spec.example("digits")
    X, Y = net.random_data(samples=40, seed=1)
    rows = data.Dataset(X, Y, "<api>", (), ())
    chosen = train.settings(net, epochs=6, batch_size=8, optimizer=optimizer, seed=3)
    result = train.fit(net, rows, rows, chosen)

    module = codegen.load(codegen.generate(net))
    params = module.init_params(seed=3)
    expected = module.train(
        params,
        X,
        Y,
        epochs=6,
        batch_size=8,
        optimizer=optimizer,
        learning_rate=chosen.learning_rate,
        seed=3,
    )
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    for name, value in params.items():
        np.testing.assert_allclose(result.params[name], value, rtol=1e-12, atol=1e-15)
    # The held-out curve is the loss after each epoch; the last is the test loss.
    assert result.test_losses[-1] == pytest.approx(module.loss(params, X, Y), 1e-12)
    assert result.test_loss == pytest.approx(result.test_losses[-1], 1e-15)


def test_progress_comes_after_every_epoch_with_time_left():
    net = spec.example("xor")
    rows = data.Dataset(*net.random_data(4), "<api>", (), ())
    seen = []
    train.fit(net, rows, rows, train.settings(net, epochs=5), progress=seen.append)
    assert [p.epoch for p in seen] == [1, 2, 3, 4, 5]
    assert all(p.epochs == 5 and p.remaining >= 0 for p in seen)
    assert seen[-1].remaining == pytest.approx(0.0, abs=1e-12)


def test_a_diverging_run_stops_with_a_training_error(tmp_path, capsys):
    toml = tmp_path / "line.toml"
    toml.write_text(LINEAR_TOML)
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{i},{3 * i}\n" for i in range(1, 11)))
    out_file = tmp_path / "p.npz"
    code, _, err = run(
        [str(toml), "--data", str(csv), "--learning-rate", "1000", "-o", str(out_file)],
        capsys,
    )
    assert code == 2 and "--learning-rate: the loss became" in err
    assert err.splitlines()[-1].startswith("symbp: error:")
    assert not out_file.exists()
    with pytest.raises(TrainingError):
        net = spec.load(toml)
        rows = data.load(csv, net)
        train.fit(net, rows, rows, train.settings(net, learning_rate=1000.0))


@pytest.mark.parametrize(
    "option",
    [
        ["--epochs", "0"],
        ["--batch-size", "0"],
        ["--learning-rate", "-1"],
        ["--learning-rate", "inf"],
        ["--seed", "-1"],
        ["--optimizer", "adagrad"],
    ],
)
def test_bad_settings_exit_2_with_one_line(xor_csv, capsys, option):
    code, out, err = run(["xor", "--data", str(xor_csv), *option], capsys)
    assert code == 2 and err.count("\n") == 1 and out == ""
    assert option[0] in err


# --- the command line -----------------------------------------------------------------


def test_xor_trains_to_full_accuracy_and_the_saved_npz_reproduces_it(
    xor_csv, tmp_path, capsys
):
    params_file = tmp_path / "xor.npz"
    code, out, err = run(
        ["xor", "--data", str(xor_csv), "-o", str(params_file)], capsys
    )
    assert code == 0, err
    assert "3 training rows, 1 held out" in out
    assert "training loss" in out and "accuracy 1.0000 (3 of 3)" in out
    assert f"wrote {params_file}" in err

    # The file holds the parameters under their names, and they give the
    # training loss and accuracy printed.
    net = spec.example("xor")
    module = codegen.load(codegen.generate(net))
    with np.load(params_file) as saved:
        assert set(saved.files) == {"symbp", *module.PARAM_SHAPES}
        params = {name: saved[name] for name in module.PARAM_SHAPES}
    rows, _ = data.split(data.load(xor_csv, net), 0.2, seed=0)
    printed = _number(r"training loss (\S+),", out)
    assert module.loss(params, rows.X, rows.Y) == pytest.approx(printed, rel=1e-5)
    predicted = module.predict(params, rows.X) >= 0.5
    np.testing.assert_array_equal(predicted, rows.Y == 1)


def test_the_same_seed_gives_the_same_parameters_and_another_does_not(
    xor_csv, tmp_path, capsys
):
    files = []
    for i, seed in enumerate(["7", "7", "8"]):
        files.append(tmp_path / f"p{i}.npz")
        args = ["xor", "--data", str(xor_csv), "--epochs", "300", "--seed", seed]
        code, _, err = run([*args, "-o", str(files[-1])], capsys)
        assert code == 0, err
    first, same, other = (np.load(f) for f in files)
    for name in ["W1", "b1", "W2", "b2"]:
        np.testing.assert_array_equal(first[name], same[name])
    assert not np.allclose(first["W1"], other["W1"])


def test_progress_lines_when_standard_error_is_not_a_terminal(xor_csv, capsys):
    code, _, err = run(["xor", "--data", str(xor_csv), "--epochs", "50"], capsys)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("epoch")]
    assert [int(re.match(r"epoch (\d+)/50:", line).group(1)) for line in lines] == list(
        range(5, 51, 5)
    )
    pattern = r"epoch \d+/50: loss \S+, held-out \S+, \d+\.\d s, \d+\.\d s left"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert "\r" not in err


def test_progress_on_a_terminal_is_one_line_redrawn():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with cli._Meter(stream) as meter:
        for epoch in range(1, 4):
            meter(train.Progress(epoch, 3, 1.0 / epoch, 2.0, elapsed=0.5 * epoch))
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "epoch 3/3" in text.split("\r")[-1]


def test_standardisation_is_explicit_and_saved(tmp_path, capsys):
    toml = tmp_path / "line.toml"
    toml.write_text(LINEAR_TOML)
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{100 + i},{i / 10}\n" for i in range(20)))
    params_file = tmp_path / "p.npz"
    code, out, err = run(
        [
            str(toml),
            "--data",
            str(csv),
            "--standardize",
            "--epochs",
            "200",
            "-o",
            str(params_file),
        ],
        capsys,
    )
    assert code == 0, err
    assert "inputs standardised" in out
    net = spec.load(toml)
    module = codegen.load(codegen.generate(net))
    with np.load(params_file) as saved:
        mean, std = saved["input_mean"], saved["input_std"]
        params = {name: saved[name] for name in module.PARAM_SHAPES}
    rows, _ = data.split(data.load(csv, net), 0.2, seed=0)
    np.testing.assert_allclose(mean, rows.X.mean(axis=0))
    np.testing.assert_allclose(std, rows.X.std(axis=0))
    printed = _number(r"training loss (\S+)", out)
    got = module.loss(params, (rows.X - mean) / std, rows.Y)
    assert got == pytest.approx(printed, rel=1e-5)

    # Without the flag nothing is rescaled (inputs near 100 need a far smaller
    # learning rate), and nothing extra is saved.
    small = ["--learning-rate", "1e-5", "-o", str(params_file)]
    code, out, err = run([str(toml), "--data", str(csv), *small], capsys)
    assert code == 0, err
    assert "standardised" not in out
    assert "input_mean" not in np.load(params_file).files


def test_a_file_not_symbps_is_refused_before_training(xor_csv, tmp_path, capsys):
    mine = tmp_path / "mine.npz"
    mine.write_bytes(b"my own data")
    code, out, err = run(["xor", "--data", str(xor_csv), "-o", str(mine)], capsys)
    assert code == 2 and "--force" in err and out == ""
    assert mine.read_bytes() == b"my own data"
    code, _, _ = run(
        ["xor", "--data", str(xor_csv), "-o", str(mine), "--force"], capsys
    )
    assert code == 0 and mine.read_bytes() != b"my own data"
    # symbp's own npz is replaced without --force.
    code, _, _ = run(["xor", "--data", str(xor_csv), "-o", str(mine)], capsys)
    assert code == 0


# --- the loss curve -------------------------------------------------------------------


def test_without_matplotlib_plot_is_refused_before_training(
    xor_csv, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(train, "fit", no_training)
    out_file = tmp_path / "p.npz"
    code, out, err = run(
        [
            "xor",
            "--data",
            str(xor_csv),
            "-o",
            str(out_file),
            "--plot",
            str(tmp_path / "loss.png"),
        ],
        capsys,
    )
    assert code == 2 and err.count("\n") == 1 and out == ""
    assert "--plot" in err and "pip install matplotlib" in err
    assert not out_file.exists()


def test_the_plot_is_a_png_of_the_set_size(xor_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    picture = tmp_path / "loss.png"
    args = ["xor", "--data", str(xor_csv), "--epochs", "200", "--plot", str(picture)]
    code, _, err = run(args, capsys)
    assert code == 0, err
    png = picture.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    expected = tuple(round(side * losscurve.DPI) for side in losscurve.SIZE)
    assert (width, height) == expected
    assert len(png) > 10_000  # drawn, not blank
    # Marked as symbp's, so a second run replaces it without --force.
    code, _, err = run(args, capsys)
    assert code == 0, err


def test_plot_and_output_may_not_be_one_file(xor_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    same = str(tmp_path / "x.out")
    code, _, err = run(
        ["xor", "--data", str(xor_csv), "-o", same, "--plot", same], capsys
    )
    assert code == 2 and "same file" in err


# --- a real data set ------------------------------------------------------------------


def test_digits_reach_94_percent_on_held_out_images(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    exec(DIGITS_COMMAND, {})  # the README's command, as it is written there
    code, out, err = run(["digits", "--data", "digits.npz"], capsys)
    assert code == 0, err
    assert "1438 training rows, 359 held out, class labels from 'Y' made one-hot" in out
    assert _number(r"held-out loss \S+, accuracy (\S+)", out) >= 0.94


def test_test_fraction_zero_trains_on_every_row_and_reports_no_held_out(
    xor_csv, tmp_path, capsys
):
    plot = tmp_path / "loss.png"
    drawn = importlib.util.find_spec("matplotlib") is not None
    args = ["xor", "--data", str(xor_csv), "--test-fraction", "0"]
    if drawn:
        args += ["--plot", str(plot)]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert "4 training rows, none held out" in out
    assert "accuracy 1.0000 (4 of 4)" in out
    assert "held-out" not in out and "held-out" not in err
    if drawn:
        assert plot.read_bytes().startswith(b"\x89PNG")
