"""Data files for ``symbp train``: CSV and NPZ read and fitted to a network.

Good files are read into the arrays written by hand here; every kind of bad file
goes through the command line and must give exit status 2, one line on standard
error naming the file and the place, nothing on standard output, and no file
written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symbp import cli, data, spec
from symbp.errors import DataError

XOR_CSV = "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n"
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])

# Three classes from two inputs, and a sigmoid with bce: small classifiers.
SOFTMAX_TOML = """
name = "three"
inputs = 2
[[layers]]
units = 3
activation = "softmax"
[loss]
name = "cross_entropy"
"""
BCE_TOML = """
name = "binary"
inputs = 2
[[layers]]
units = 1
activation = "sigmoid"
[loss]
name = "bce"
"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def run(args: list[str], capsys) -> tuple[int, str, str]:
    """The command line's exit status, standard output and standard error."""
    try:
        code = cli.main(["train", *args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def three(tmp_path) -> spec.Network:
    return spec.load(write(tmp_path, "three.toml", SOFTMAX_TOML))


# --- good files ----------------------------------------------------------------------


def test_csv_last_column_is_the_target(tmp_path):
    got = data.load(write(tmp_path, "xor.csv", XOR_CSV), spec.example("xor"))
    np.testing.assert_allclose(got.X, XOR_X)
    np.testing.assert_allclose(got.Y, XOR_Y)
    assert got.inputs == ("x1", "x2") and got.targets == ("y",) and not got.labels


def test_csv_target_by_name_anywhere_and_inputs_in_file_order(tmp_path):
    text = " y , x2,x1\r\n0,0,0\r\n1,1,0\r\n1,0,1\r\n0,1,1\r\n\r\n"  # CRLF, spaces
    got = data.load(write(tmp_path, "d.csv", text), spec.example("xor"), targets=["y"])
    assert got.inputs == ("x2", "x1")
    np.testing.assert_allclose(got.X, XOR_X[:, ::-1])
    np.testing.assert_allclose(got.Y, XOR_Y)


def test_npz_arrays_x_and_y(tmp_path):
    path = tmp_path / "xor.npz"
    np.savez(path, X=XOR_X, Y=XOR_Y.ravel().astype(int))  # (rows,) for one output
    got = data.load(path, spec.example("xor"))
    np.testing.assert_allclose(got.X, XOR_X)
    np.testing.assert_allclose(got.Y, XOR_Y)


def test_a_label_column_and_one_hot_columns_give_the_same_targets(tmp_path, three):
    labels = data.load(write(tmp_path, "l.csv", "a,b,c\n1,2,0\n3,4,2\n5,6,1\n"), three)
    onehot = data.load(
        write(tmp_path, "o.csv", "a,b,c0,c1,c2\n1,2,1,0,0\n3,4,0,0,1\n5,6,0,1,0\n"),
        three,
    )
    expected = np.array([[1.0, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(labels.Y, expected)
    np.testing.assert_allclose(onehot.Y, expected)
    assert labels.labels and not onehot.labels
    np.testing.assert_allclose(labels.X, onehot.X)


def test_npz_labels_of_shape_rows_or_rows_by_one(tmp_path, three):
    for shape in [(3,), (3, 1)]:
        path = tmp_path / f"l{len(shape)}.npz"
        np.savez(path, X=np.ones((3, 2)), Y=np.array([2, 0, 1]).reshape(shape))
        got = data.load(path, three)
        np.testing.assert_allclose(got.Y.argmax(axis=1), [2, 0, 1])
        assert got.labels


def test_split_is_seeded_disjoint_and_covers_every_row():
    rows = 50
    whole = data.Dataset(
        np.arange(rows, dtype=float)[:, None],
        np.zeros((rows, 1)),
        "<api>",
        ("x",),
        ("y",),
    )
    train, test = data.split(whole, 0.3, seed=5)
    again, _ = data.split(whole, 0.3, seed=5)
    other, _ = data.split(whole, 0.3, seed=6)
    assert (train.rows, test.rows) == (35, 15)
    seen = np.concatenate([train.X[:, 0], test.X[:, 0]])
    assert sorted(seen.tolist()) == list(range(rows))
    np.testing.assert_array_equal(train.X, again.X)
    assert not np.array_equal(train.X, other.X)


def test_errors_are_data_errors_naming_file_and_place(tmp_path):
    path = write(tmp_path, "bad.csv", "x1,x2,y\n0,0,0\n0,zero,1\n")
    with pytest.raises(DataError) as caught:
        data.load(path, spec.example("xor"))
    assert caught.value.source == str(path)
    assert caught.value.key == "line 3, column 'x2'"


# --- bad files, through the command line ---------------------------------------------


def _npz(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# name: (spec, file name, content, extra options, text the error must hold)
BAD = {
    "missing file": ("xor", "none.csv", None, [], "no such file"),
    "empty file": ("xor", "e.csv", "", [], "empty"),
    "blank lines only": ("xor", "e.csv", "\n\n  \n", [], "empty"),
    "header only": ("xor", "h.csv", "x1,x2,y\n", [], "no data rows"),
    "no header": (
        "xor",
        "n.csv",
        "0,0,0\n1,1,0\n",
        [],
        "line 1: this line holds numbers",
    ),
    "too many columns": (
        "xor",
        "w.csv",
        "a,b,c,d\n0,0,0,0\n",
        [],
        "line 1: 4 columns; the network expects 3",
    ),
    "too few columns": ("xor", "w.csv", "a,b\n0,0\n", [], "expects 3: 2 inputs"),
    "ragged row": (
        "xor",
        "r.csv",
        "x1,x2,y\n0,0,0\n0,1\n",
        [],
        "line 3: 2 cells, but the header names 3 columns",
    ),
    "non-numeric cell": (
        "xor",
        "t.csv",
        "x1,x2,y\n0,0,0\n1,one,1\n",
        [],
        "line 3, column 'x2': 'one' is not a number",
    ),
    "empty cell": ("xor", "t.csv", "x1,x2,y\n0,,0\n", [], "line 2, column 'x2': empty"),
    "nan": ("xor", "t.csv", "x1,x2,y\n0,0,0\n1,1,nan\n", [], "line 3, column 'y'"),
    "inf": ("xor", "t.csv", "x1,x2,y\n0,0,0\n-inf,1,1\n", [], "line 3, column 'x1'"),
    "semicolons": ("xor", "s.csv", "x1;x2;y\n0;0;0\n", [], "separate the columns"),
    "not text": ("xor", "b.csv", b"\xff\xfe\x00\x81x,y\n", [], "not a text file"),
    "duplicate column": ("xor", "d.csv", "x,x,y\n0,0,0\n", [], "'x' appears twice"),
    "target not in header": (
        "xor",
        "t.csv",
        XOR_CSV,
        ["--target", "yy"],
        "--target: no column 'yy' in the header (x1, x2, y); did you mean 'y'?",
    ),
    "two targets for one output": (
        "xor",
        "t.csv",
        XOR_CSV,
        ["--target", "x2", "y"],
        "2 target column(s) (x2, y); the network has 1 outputs",
    ),
    "target leaves too few inputs": (
        "xor",
        "t.csv",
        "a,x1,x2,y\n0,0,0,0\n",
        ["--target", "y"],
        "3 input column(s) besides the target(s) y; the network has 2 inputs",
    ),
    "npz without X": ("xor", "m.npz", _npz(x=XOR_X, Y=XOR_Y), [], "X: no array 'X'"),
    "npz without Y": ("xor", "m.npz", _npz(X=XOR_X), [], "Y: no array 'Y'"),
    "npz X wrong width": (
        "xor",
        "m.npz",
        _npz(X=np.ones((4, 3)), Y=XOR_Y),
        [],
        "X: shape (4, 3); expected (rows, 2)",
    ),
    "npz Y wrong width": (
        "xor",
        "m.npz",
        _npz(X=XOR_X, Y=np.ones((4, 2))),
        [],
        "2 target column(s)",
    ),
    "npz Y wrong rows": (
        "xor",
        "m.npz",
        _npz(X=XOR_X, Y=np.ones((3, 1))),
        [],
        "Y: shape (3, 1); expected 4 rows",
    ),
    "npz nan": (
        "xor",
        "m.npz",
        _npz(X=np.array([[0.0, np.nan]]), Y=np.ones((1, 1))),
        [],
        "X[0, 1]: nan is not a finite number",
    ),
    "npz of strings": (
        "xor",
        "m.npz",
        _npz(X=np.array([["a", "b"]]), Y=np.ones((1, 1))),
        [],
        "X: dtype <U1; expected numbers",
    ),
    "npz of objects": (
        "xor",
        "m.npz",
        _npz(X=np.array([[{}, 1]], dtype=object), Y=np.ones((1, 1))),
        [],
        "X: holds Python objects",
    ),
    "npz that is text": ("xor", "m.npz", XOR_CSV, [], "not a readable .npz archive"),
    "--target with npz": (
        "xor",
        "m.npz",
        _npz(X=XOR_X, Y=XOR_Y),
        ["--target", "y"],
        "--target: --target names CSV columns",
    ),
    "label out of range": (
        "three",
        "l.csv",
        "a,b,c\n1,2,0\n3,4,3\n",
        [],
        "line 3, column 'c': class label 3 is out of range; the 3 outputs take "
        "integer labels 0 to 2",
    ),
    "negative label": ("three", "l.csv", "a,b,c\n1,2,-1\n", [], "class label -1"),
    "fractional label": (
        "three",
        "l.csv",
        "a,b,c\n1,2,0.5\n",
        [],
        "line 2, column 'c'",
    ),
    "npz label out of range": (
        "three",
        "l.npz",
        _npz(X=np.ones((2, 2)), Y=np.array([0, 7])),
        [],
        "Y[1]: class label 7 is out of range",
    ),
    "cross_entropy row not summing to 1": (
        "three",
        "p.csv",
        "a,b,c0,c1,c2\n1,2,1,1,0\n",
        [],
        "line 2: the targets of the row sum to 2",
    ),
    "bce target above 1": (
        "binary",
        "b.csv",
        "a,b,y\n1,2,0\n1,2,2\n",
        [],
        "line 3, column 'y': target 2 is outside 0 ... 1",
    ),
    "test fraction 1": (
        "xor",
        "t.csv",
        XOR_CSV,
        ["--test-fraction", "1"],
        "--test-fraction: test fraction 1.0; expected a number from 0 (hold out "
        "nothing) up to but not including 1",
    ),
    "test fraction negative": (
        "xor",
        "t.csv",
        XOR_CSV,
        ["--test-fraction", "-0.2"],
        "expected a number from 0",
    ),
    "test fraction nan": ("xor", "t.csv", XOR_CSV, ["--test-fraction", "nan"], "nan"),
    "no training rows left": (
        "xor",
        "t.csv",
        "x1,x2,y\n0,0,0\n",
        [],
        "--test-fraction: test fraction 0.2 of 1 row(s) holds out 1 and leaves no "
        "training rows",
    ),
    "a folder": ("xor", "folder", None, [], "is a folder"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_data_exits_2_with_one_line_naming_file_and_place(tmp_path, capsys, case):
    name, filename, content, extra, expected = case
    specs = {"three": SOFTMAX_TOML, "binary": BCE_TOML}
    net = str(write(tmp_path, f"{name}.toml", specs[name])) if name in specs else name
    path = tmp_path / filename
    if content is not None:
        write(tmp_path, filename, content)
    elif filename == "folder":
        path.mkdir()
    out_file = tmp_path / "params.npz"
    code, out, err = run(
        [net, "--data", str(path), *extra, "-o", str(out_file)], capsys
    )
    assert code == 2, err
    assert err.startswith(f"symbp: error: {path}: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err and out == ""
    assert not out_file.exists()
