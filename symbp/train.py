"""Training a network on data with its generated NumPy module.

:func:`fit` generates the network's module in memory (:mod:`symbp.codegen`),
initialises it with ``init_params(seed)`` and trains it with the module's own
``make_train_step``, an epoch at a time, so that the held-out loss can be
recorded and progress reported after every epoch. One step function serves the
whole run, so the optimiser's state (momentum's velocity, Adam's moments and
step count) carries from epoch to epoch, and the shuffles come from one
generator seeded as ``train(..., seed=seed)`` seeds its own: the losses are
those that the module's ``train`` returns for the same arguments.

:func:`fit` returns a :class:`Result` (losses per epoch, final losses,
accuracies, time) and never prints; a progress callback receives a
:class:`Progress` after each epoch. :func:`npz` packs the trained parameters
for ``numpy.load``.

Accuracy is reported for classifiers: a softmax output whose targets are
one-hot rows (the predicted class is the largest output), or a sigmoid output
whose targets are all 0 or 1 (an output predicts 1 from 0.5 up, and a sample
counts as right when all its outputs are).

Examples
--------
>>> from symbp import data, spec
>>> net = spec.example("xor")
>>> xor = data.Dataset(np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]]),
...                    np.array([[0.0], [1], [1], [0]]), "<api>", ("a", "b"), ("y",))
>>> result = fit(net, xor, xor, settings(net))  # the spec's 5000 epochs of sgd
>>> len(result.losses), result.train_accuracy, round(result.train_loss, 4)
(5000, 1.0, 0.0007)
>>> sorted(npz_arrays(result))
['W1', 'W2', 'b1', 'b2', 'symbp']
"""

from __future__ import annotations

import io
import math
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, output
from .data import Dataset
from .errors import SpecError, TrainingError
from .spec import OPTIMIZERS, Network

#: Key of the npz entry that marks the file as symbp's (text, as bytes).
MARKER_KEY = "symbp"


@dataclass(frozen=True)
class Settings:
    """How to train: the spec's ``[train]`` values, or overrides of them."""

    epochs: int
    learning_rate: float
    batch_size: int
    optimizer: str
    seed: int = 0
    standardize: bool = False


def settings(
    net: Network,
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    optimizer: str | None = None,
    seed: int = 0,
    standardize: bool = False,
    source: str = "symbp train",
) -> Settings:
    """The spec's ``[train]`` defaults with the given values in their place.

    Raises
    ------
    SpecError
        When a value is out of range; the key is the command-line option.

    Examples
    --------
    >>> from symbp import spec
    >>> settings(spec.example("digits"), epochs=5)
    Settings(epochs=5, learning_rate=0.01, batch_size=32, optimizer='adam', \
seed=0, standardize=False)
    """
    chosen = Settings(
        epochs=net.train.epochs if epochs is None else epochs,
        learning_rate=net.train.learning_rate
        if learning_rate is None
        else learning_rate,
        batch_size=net.train.batch_size if batch_size is None else batch_size,
        optimizer=net.train.optimizer if optimizer is None else optimizer,
        seed=seed,
        standardize=standardize,
    )
    for key, value in (
        ("--epochs", chosen.epochs),
        ("--batch-size", chosen.batch_size),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(
                f"{value!r}; expected a whole number, at least 1",
                source=source,
                key=key,
            )
    rate = chosen.learning_rate
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise SpecError(
            f"{rate!r}; expected a positive number",
            source=source,
            key="--learning-rate",
        )
    if chosen.optimizer not in OPTIMIZERS:
        raise SpecError(
            f"{chosen.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}",
            source=source,
            key="--optimizer",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(
            f"{seed!r}; expected a whole number, at least 0",
            source=source,
            key="--seed",
        )
    return chosen


@dataclass(frozen=True)
class Progress:
    """Where a run stands after an epoch: losses so far and time."""

    epoch: int
    epochs: int
    loss: float
    test_loss: float | None  # None without held-out rows
    elapsed: float

    @property
    def remaining(self) -> float:
        """Seconds left, if the epochs still to come take as long as the past ones."""
        return self.elapsed / self.epoch * (self.epochs - self.epoch)


@dataclass(frozen=True)
class Result:
    """A finished run.

    Attributes
    ----------
    losses
        Each epoch's training loss: the mean of its batch losses, as the
        generated ``train`` returns it.
    test_losses
        The held-out loss after each epoch.
    train_loss, test_loss
        The loss of the trained parameters on the training and held-out rows.
    train_accuracy, test_accuracy
        The fraction of rows classified right, or None when the network is not
        a classifier of these targets.
    mean, std
        The input standardisation applied (with ``standardize``), else None.
    """

    network: Network
    settings: Settings
    params: dict[str, np.ndarray]
    losses: list[float]
    test_losses: list[float]
    train_loss: float
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None
    train_rows: int
    test_rows: int
    elapsed: float
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    source: str = field(default="<api>")


def classifier(net: Network, Y: np.ndarray) -> str | None:
    """``"softmax"`` or ``"sigmoid"`` when accuracy applies to targets ``Y``, else None.

    >>> from symbp import spec
    >>> classifier(spec.example("xor"), np.array([[0.0], [1.0]]))
    'sigmoid'
    >>> classifier(spec.example("xor"), np.array([[0.2], [1.0]])) is None
    True
    """
    name = net.layers[-1].activation.name
    binary = bool(np.all((Y == 0) | (Y == 1)))
    if name == "softmax" and binary and np.all(Y.sum(axis=1) == 1):
        return "softmax"
    if name == "sigmoid" and binary:
        return "sigmoid"
    return None


def accuracy(kind: str, outputs: np.ndarray, Y: np.ndarray) -> float:
    """The fraction of rows whose outputs give the target class.

    >>> accuracy("softmax", np.array([[0.7, 0.3], [0.6, 0.4]]), np.eye(2))
    0.5
    >>> accuracy("sigmoid", np.array([[0.9], [0.4]]), np.array([[1.0], [0.0]]))
    1.0
    """
    if kind == "softmax":
        right = outputs.argmax(axis=1) == Y.argmax(axis=1)
    else:
        right = np.all((outputs >= 0.5) == (Y == 1), axis=1)
    return float(np.mean(right))


def _module(net: Network) -> types.ModuleType:
    from . import codegen

    return codegen.load(codegen.generate(net), name=f"symbp_train_{net.name}")


def fit(
    net: Network,
    train: Dataset,
    test: Dataset,
    chosen: Settings,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> Result:
    """Train ``net`` on the ``train`` rows; measure it on both sets after each epoch.

    Raises
    ------
    TrainingError
        When a loss becomes infinite or NaN (a learning rate too large).
    """
    module = _module(net)

    # Standardise the inputs only when asked, with the training rows' statistics.
    mean = std = None
    X_train, X_test = train.X, test.X
    if chosen.standardize:
        mean = train.X.mean(axis=0)
        std = train.X.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_train, Y_train, X_test, Y_test = (
        np.ascontiguousarray(a, dtype=module.DTYPE)
        for a in (X_train, train.Y, X_test, test.Y)
    )

    # One step function for the whole run keeps the optimiser's state; the
    # shuffles follow train()'s, from one generator seeded with the seed.
    params = module.init_params(seed=chosen.seed)
    step = module.make_train_step(
        params, learning_rate=chosen.learning_rate, optimizer=chosen.optimizer
    )
    rng = np.random.default_rng(chosen.seed)
    rows, size = X_train.shape[0], chosen.batch_size
    losses: list[float] = []
    test_losses: list[float] = []
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, chosen.epochs + 1):
            order = rng.permutation(rows)
            total, batches = 0.0, 0
            for first in range(0, rows, size):
                batch = order[first : first + size]
                total += step(X_train[batch], Y_train[batch])
                batches += 1
            losses.append(total / batches)
            if test.rows:
                test_losses.append(module.loss(params, X_test, Y_test))
            held = test_losses[-1] if test.rows else None
            _finite(losses[-1], held, epoch, chosen)
            if progress is not None:
                elapsed = time.perf_counter() - start
                progress(Progress(epoch, chosen.epochs, losses[-1], held, elapsed))
        elapsed = time.perf_counter() - start

        # The trained parameters, measured on both sets.
        kind = classifier(net, np.concatenate([Y_train, Y_test]))
        scores = [
            accuracy(kind, module.predict(params, X), Y) if kind and len(X) else None
            for X, Y in ((X_train, Y_train), (X_test, Y_test))
        ]
        final = module.loss(params, X_train, Y_train)
    return Result(
        network=net,
        settings=chosen,
        params=params,
        losses=losses,
        test_losses=test_losses,
        train_loss=final,
        test_loss=test_losses[-1] if test_losses else None,
        train_accuracy=scores[0],
        test_accuracy=scores[1],
        train_rows=train.rows,
        test_rows=test.rows,
        elapsed=elapsed,
        mean=mean,
        std=std,
        source=train.source,
    )


def _finite(loss: float, test_loss: float | None, epoch: int, chosen: Settings) -> None:
    if test_loss is None:
        test_loss = 0.0
    if not (math.isfinite(loss) and math.isfinite(test_loss)):
        raise TrainingError(
            f"the loss became {loss if not math.isfinite(loss) else test_loss} at "
            f"epoch {epoch}; try a learning rate below {chosen.learning_rate:g}, or "
            "--standardize if the inputs are large",
            source="symbp train",
            key="--learning-rate",
        )


def npz_arrays(result: Result) -> dict[str, np.ndarray]:
    """What :func:`npz` saves: a marker, every parameter, and any standardisation.

    The parameters are saved under their PARAM_SHAPES names (``W1``, ``b1``, …);
    with standardisation also ``input_mean`` and ``input_std``, which inputs
    need before ``predict``: ``(X - input_mean) / input_std``.
    """
    net = result.network
    marker = (
        f"{output.MARKER} {__version__}: parameters of '{net.name}' trained on "
        f"{Path(result.source).name}"
    )
    arrays = {MARKER_KEY: np.array(marker.encode("utf-8"))}
    arrays.update({name: result.params[name] for name in net.param_shapes()})
    if result.mean is not None:
        arrays["input_mean"] = result.mean
        arrays["input_std"] = result.std
    return arrays


def npz(result: Result) -> bytes:
    """The trained parameters as the bytes of an ``.npz`` file (uncompressed).

    The marker comes first, so that :func:`symbp.output.write` recognises the
    file as symbp's and replaces it without ``--force`` next time.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **npz_arrays(result))
    return buffer.getvalue()
