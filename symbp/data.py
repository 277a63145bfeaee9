"""Data sets for training: a CSV or NPZ file read into inputs X and targets Y.

:func:`load` reads a file and fits it to a network, refusing anything that does
not fit with a :class:`~symbp.errors.DataError` that names the file and the
place (line and column, array and index, or option); :func:`split` divides the
rows into a training and a held-out part, by a seeded shuffle.

Two formats:

- **CSV**: a header row of column names, then one row of numbers per sample,
  separated by commas. The target columns are those named by ``targets``, or
  else the last columns, as many as the network has outputs; every other column
  is an input, in file order.
- **NPZ** (``numpy.savez``): an array ``X`` of shape (rows, inputs) and an array
  ``Y`` of shape (rows, outputs).

For a softmax output of K units the targets may also be one column of integer
class labels 0 … K-1 (in an NPZ, ``Y`` of shape (rows,) or (rows, 1)); they are
turned into one-hot rows. Targets must suit the loss: 0 … 1 for ``bce``, and
for ``cross_entropy`` rows of non-negative numbers that sum to 1. Nothing is
rescaled: inputs reach the network as the file holds them.

Examples
--------
>>> from symbp import spec
>>> path = getfixture("tmp_path") / "xor.csv"
>>> _ = path.write_text("x1,x2,y\\n0,0,0\\n0,1,1\\n1,0,1\\n1,1,0\\n")
>>> data = load(path, spec.example("xor"))
>>> data.X.shape, data.Y.shape, data.targets
((4, 2), (4, 1), ('y',))
>>> train, test = split(data, 0.25, seed=0)
>>> train.rows, test.rows
(3, 1)
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, suggest
from .spec import Network

#: How far a row of cross-entropy targets may sum from 1.
ROW_SUM_TOLERANCE = 1e-6
#: Salt for the split's random stream, so that it differs from the weights'.
_SPLIT_STREAM = 7


@dataclass(frozen=True)
class Dataset:
    """Rows of inputs and targets, fitted to a network.

    Attributes
    ----------
    X, Y
        Inputs (rows, inputs) and targets (rows, outputs), as float64.
    source
        The file the rows came from.
    inputs, targets
        The names of the input and target columns (for an NPZ, ``X[:, j]`` and
        ``Y[:, k]``).
    labels
        Whether the targets were class labels, turned into one-hot rows.
    """

    X: np.ndarray
    Y: np.ndarray
    source: str
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    labels: bool = False

    @property
    def rows(self) -> int:
        return self.X.shape[0]

    def subset(self, index: np.ndarray) -> Dataset:
        """The rows at ``index``, in that order."""
        return Dataset(
            self.X[index],
            self.Y[index],
            self.source,
            self.inputs,
            self.targets,
            self.labels,
        )


def _softmax(net: Network) -> bool:
    return net.layers[-1].activation.name == "softmax"


def load(
    path: str | Path, net: Network, *, targets: Sequence[str] | None = None
) -> Dataset:
    """Read a CSV or NPZ file and fit its columns to ``net``.

    Parameters
    ----------
    path
        The file: NPZ when it is a zip archive (``numpy.savez``), else CSV.
    net
        The network the data is for: its inputs, outputs and loss decide the
        columns expected.
    targets
        Names of the target columns of a CSV; by default the last columns.

    Raises
    ------
    DataError
        When the file is missing or unreadable, or its contents do not fit.
    """
    path = Path(path)
    source = str(path)
    if path.is_dir():
        raise DataError("is a folder; give a .csv or .npz file", source=source)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("no such file", source=source) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if not raw.strip():
        raise DataError(
            "the file is empty; expected a CSV header row of column names and "
            "then one row per sample, or an .npz with arrays X and Y",
            source=source,
        )
    if raw.startswith(b"PK\x03\x04") or path.suffix.lower() == ".npz":
        if targets:
            raise DataError(
                "--target names CSV columns; an .npz holds its targets in Y",
                source=source,
                key="--target",
            )
        return _load_npz(raw, net, source)
    return _load_csv(raw, net, source, list(targets or []))


# --- CSV ---------------------------------------------------------------------------


def _load_csv(raw: bytes, net: Network, source: str, wanted: list[str]) -> Dataset:
    header, values, lines = _read_csv(raw, source)

    # Which columns are targets: the named ones, or else the last ones.
    width = len(header)
    if wanted:
        picked = [_column(name, header, wanted, source) for name in wanted]
    else:
        picked = _last_columns(width, net, source)
    names = tuple(header[j] for j in picked)
    _target_count(len(picked), net, source, names)
    rest = [j for j in range(width) if j not in picked]
    if len(rest) != net.inputs:
        raise DataError(
            f"{len(rest)} input column(s) besides the target(s) "
            f"{', '.join(names)}; the network has {net.inputs} inputs",
            source=source,
            key="--target" if wanted else "line 1",
        )

    def where(i: int, k: int | None = None) -> str:
        line = f"line {lines[i]}"
        return line if k is None else f"{line}, column {names[k]!r}"

    Y, labels = _targets(values[:, picked], net, source, where)
    inputs = tuple(header[j] for j in rest)
    return Dataset(values[:, rest], Y, source, inputs, names, labels)


def _read_csv(raw: bytes, source: str) -> tuple[list[str], np.ndarray, list[int]]:
    """The header, the numbers (rows, columns) and each row's line number."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            "not a text file; expected a CSV file (UTF-8) or an .npz archive",
            source=source,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[float]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row:
                continue  # a blank line
            if header is None:
                header = _header(row, reader.line_num, source)
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{len(row)} cells, but the header names {len(header)} columns",
                    source=source,
                    key=f"line {reader.line_num}",
                )
            rows.append(
                [
                    _number(c, reader.line_num, n, source)
                    for c, n in zip(row, header, strict=True)
                ]
            )
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(
            f"not valid CSV: {exc}", source=source, key=f"line {reader.line_num}"
        ) from None
    if header is None:
        raise DataError("the file is empty; expected a header row", source=source)
    if not rows:
        raise DataError(
            "no data rows after the header; expected one row per sample",
            source=source,
        )
    return header, np.array(rows, dtype=np.float64), lines


def _header(row: list[str], line: int, source: str) -> list[str]:
    names = [cell.strip() for cell in row]
    if len(names) == 1 and any(sep in names[0] for sep in ";\t"):
        raise DataError(
            "one column only; separate the columns with commas",
            source=source,
            key=f"line {line}",
        )
    if all(_is_number(name) for name in names):
        raise DataError(
            "this line holds numbers; the first line must be a header row of "
            "column names",
            source=source,
            key=f"line {line}",
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(
                f"column {name!r} appears twice; give the columns distinct names",
                source=source,
                key=f"line {line}",
            )
        seen.add(name)
    return names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(cell: str, line: int, column: str, source: str) -> float:
    place = f"line {line}, column {column!r}"
    text = cell.strip()
    if not text:
        raise DataError("empty cell; expected a number", source=source, key=place)
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{text[:40]!r} is not a number", source=source, key=place
        ) from None
    if not math.isfinite(value):
        raise DataError(
            f"{text!r} is not a finite number; remove or fill in the sample",
            source=source,
            key=place,
        )
    return value


def _column(name: str, header: list[str], wanted: list[str], source: str) -> int:
    if wanted.count(name) > 1:
        raise DataError(
            f"column {name!r} is named twice", source=source, key="--target"
        )
    if name not in header:
        same = [h for h in header if h.casefold() == name.casefold()]
        hint = f"; did you mean {same[0]!r}?" if same else suggest(name, header)
        raise DataError(
            f"no column {name!r} in the header ({', '.join(header)})" + hint,
            source=source,
            key="--target",
        )
    return header.index(name)


def _last_columns(width: int, net: Network, source: str) -> list[int]:
    """The target columns when none are named: the last ``outputs`` ones."""
    k = net.outputs
    if width == net.inputs + k:
        return list(range(net.inputs, width))
    if _softmax(net) and width == net.inputs + 1:
        return [width - 1]  # a class-label column
    label = ""
    if _softmax(net):
        label = f" (or {net.inputs + 1}: the inputs, then a class-label column)"
    raise DataError(
        f"{width} columns; the network expects {net.inputs + k}: {net.inputs} "
        f"inputs, then {k} target(s){label}; or name the targets with --target",
        source=source,
        key="line 1",
    )


# --- NPZ ---------------------------------------------------------------------------


def _load_npz(raw: bytes, net: Network, source: str) -> Dataset:
    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise DataError(
            "not a readable .npz archive; write one with "
            "numpy.savez(path, X=inputs, Y=targets)",
            source=source,
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            "a single .npy array, not an .npz archive; save X and Y with numpy.savez",
            source=source,
        )
    with archive:
        X = _array(archive, "X", source)
        Y = _array(archive, "Y", source)
    if X.ndim != 2 or X.shape[1] != net.inputs or X.shape[0] == 0:
        raise DataError(
            f"shape {X.shape}; expected (rows, {net.inputs}): {net.inputs} inputs "
            "for each of at least one row",
            source=source,
            key="X",
        )
    rows = Y.shape[0] if Y.ndim else 0
    if rows != X.shape[0] or Y.ndim > 2:
        raise DataError(
            f"shape {Y.shape}; expected {X.shape[0]} rows, one per row of X, of "
            f"{net.outputs} target(s)",
            source=source,
            key="Y",
        )
    _finite(X, "X", source)
    _finite(Y, "Y", source)
    flat = Y.ndim == 1
    Y = Y.reshape(rows, -1).astype(np.float64)
    names = (
        ("Y",) if Y.shape[1] == 1 else tuple(f"Y[:, {j}]" for j in range(Y.shape[1]))
    )
    _target_count(Y.shape[1], net, source, names, key="Y")

    def where(i: int, k: int | None = None) -> str:
        return f"Y[{i}]" if flat or k is None else f"Y[{i}, {k}]"

    Y, labels = _targets(Y, net, source, where)
    inputs = tuple(f"X[:, {j}]" for j in range(net.inputs))
    return Dataset(X.astype(np.float64), Y, source, inputs, names, labels)


def _array(archive: np.lib.npyio.NpzFile, key: str, source: str) -> np.ndarray:
    if key not in archive.files:
        held = ", ".join(archive.files) or "no arrays"
        raise DataError(
            f"no array {key!r}" + suggest(key, archive.files) + f" (the file holds "
            f"{held}); save inputs as X and targets as Y with numpy.savez",
            source=source,
            key=key,
        )
    try:
        value = archive[key]
    except ValueError:
        raise DataError(
            "holds Python objects; save a numeric array", source=source, key=key
        ) from None
    if value.dtype.kind not in "biuf":
        raise DataError(
            f"dtype {value.dtype}; expected numbers", source=source, key=key
        )
    return value


def _finite(values: np.ndarray, key: str, source: str) -> None:
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        index = ", ".join(str(i) for i in bad[0])
        raise DataError(
            f"{values[tuple(bad[0])]} is not a finite number",
            source=source,
            key=f"{key}[{index}]",
        )


# --- Targets -----------------------------------------------------------------------


def _target_count(
    count: int, net: Network, source: str, names: tuple[str, ...], key="--target"
) -> None:
    """Refuse target columns that are neither one per output nor a label column."""
    k = net.outputs
    if count == k or (count == 1 and _softmax(net)):
        return
    label = ", or one class-label column" if _softmax(net) else ""
    raise DataError(
        f"{count} target column(s) ({', '.join(names)}); the network has {k} "
        f"outputs, so give {k} target column(s){label}",
        source=source,
        key=key,
    )


def _targets(
    Y: np.ndarray, net: Network, source: str, where: Callable[..., str]
) -> tuple[np.ndarray, bool]:
    """Targets fitted to the outputs: class labels made one-hot, values checked."""
    labels = Y.shape[1] == 1 and net.outputs > 1
    if labels:
        Y = _one_hot(Y[:, 0], net.outputs, source, where)
    _check_range(Y, net, source, where)
    return Y, labels


def _one_hot(column: np.ndarray, k: int, source: str, where: Callable) -> np.ndarray:
    whole = np.round(column)
    bad = np.flatnonzero((whole != column) | (whole < 0) | (whole >= k))
    if bad.size:
        i = bad[0]
        what = "is out of range" if whole[i] == column[i] else "is not a whole number"
        raise DataError(
            f"class label {column[i]:g} {what}; the {k} outputs take "
            f"integer labels 0 to {k - 1}",
            source=source,
            key=where(i, 0),
        )
    return np.eye(k)[whole.astype(int)]


def _check_range(Y: np.ndarray, net: Network, source: str, where: Callable) -> None:
    """Refuse targets the loss cannot take."""
    if net.loss.name == "bce":
        bad = np.argwhere((Y < 0) | (Y > 1))
        if len(bad):
            i, k = bad[0]
            raise DataError(
                f"target {Y[i, k]:g} is outside 0 ... 1, as bce needs",
                source=source,
                key=where(i, k),
            )
    if net.loss.name == "cross_entropy":
        bad = np.argwhere(Y < 0)
        if len(bad):
            i, k = bad[0]
            raise DataError(
                f"target {Y[i, k]:g} is negative; cross_entropy needs one-hot rows "
                "or probabilities",
                source=source,
                key=where(i, k),
            )
        sums = Y.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOLERANCE)
        if bad.size:
            raise DataError(
                f"the targets of the row sum to {sums[bad[0]]:g}, not 1; "
                "cross_entropy needs one-hot rows or probabilities (or one "
                "class-label column)",
                source=source,
                key=where(bad[0]),
            )


# --- Split -------------------------------------------------------------------------


def split(data: Dataset, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Training and held-out rows: ``fraction`` of the rows held out.

    A fraction of 0 holds out nothing (the held-out part is empty); any other
    holds out at least one row.

    The rows are drawn by a shuffle seeded with ``seed``, so the same seed and
    data give the same split; each part keeps the file's order.

    Raises
    ------
    DataError
        When ``fraction`` is not in [0, 1), or leaves no training row.

    Examples
    --------
    >>> data = Dataset(np.arange(10.0)[:, None], np.zeros((10, 1)), "<api>",
    ...                ("x",), ("y",))
    >>> train, test = split(data, 0.2, seed=3)
    >>> test.X[:, 0].tolist(), train.rows
    ([3.0, 5.0], 8)
    """
    if not (isinstance(fraction, (int, float)) and 0 <= fraction < 1):
        raise DataError(
            f"test fraction {fraction!r}; expected a number from 0 (hold out "
            "nothing) up to but not including 1",
            source=data.source,
            key="--test-fraction",
        )
    held = max(1, int(fraction * data.rows + 0.5)) if fraction > 0 else 0
    if held >= data.rows:
        raise DataError(
            f"test fraction {fraction:g} of {data.rows} row(s) holds out {held} and "
            "leaves no training rows; give more rows or a smaller fraction",
            source=data.source,
            key="--test-fraction",
        )
    order = np.random.default_rng([_SPLIT_STREAM, seed]).permutation(data.rows)
    return data.subset(np.sort(order[held:])), data.subset(np.sort(order[:held]))
