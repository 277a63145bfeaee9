"""The loss curve of a training run, drawn as a PNG with matplotlib.

matplotlib is an optional extra (``pip install matplotlib``, or ``'.[plot]'``
from a clone). :func:`require` says so, as a
:class:`~symbp.errors.ToolMissingError`, before any training is done, and
:func:`png` draws the training loss of each epoch and the held-out loss after
it. The loss axis is logarithmic when the losses are positive and span more
than a factor of 10, and then runs from a whole decade to a whole decade.
"""

from __future__ import annotations

import io
import math

from . import __version__, output
from .errors import ToolMissingError
from .train import Result

#: Size of the picture in inches, and its resolution.
SIZE = (7.0, 4.4)
DPI = 120


def require() -> None:
    """Refuse early when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ToolMissingError(
            "drawing the loss curve needs matplotlib; pip install matplotlib",
            source="symbp train",
            key="--plot",
        ) from None


def png(result: Result) -> bytes:
    """The loss curve of ``result`` as the bytes of a PNG file."""
    require()
    from matplotlib.figure import Figure

    net, chosen = result.network, result.settings
    epochs = range(1, len(result.losses) + 1)
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.subplots()
    train = f"training ({result.train_rows} rows, mean over each epoch's batches)"
    axes.plot(epochs, result.losses, label=train, color="tab:blue")
    if result.test_losses:
        held = f"held out ({result.test_rows} rows, after each epoch"
        if result.test_accuracy is not None:
            held += f"; final accuracy {result.test_accuracy:.3f}"
        axes.plot(epochs, result.test_losses, label=held + ")", color="tab:orange")
    values = [*result.losses, *result.test_losses]
    if min(values) > 0 and max(values) / min(values) > 10:
        axes.set_yscale("log")
        # Whole decades at both ends, so that each end of the axis is labelled.
        low, high = math.log10(min(values)), math.log10(max(values))
        axes.set_ylim(10 ** math.floor(low), 10 ** math.ceil(high))
    axes.set_xlabel("epoch")
    axes.set_ylabel(f"loss ({net.loss.name}, {net.reduction} over the batch)")
    axes.set_xlim(1, max(len(result.losses), 2))
    sizes = "-".join(str(n) for n in [net.inputs, *(lay.units for lay in net.layers)])
    axes.set_title(
        f"{net.name} {sizes}: {chosen.optimizer}, learning rate "
        f"{chosen.learning_rate:g}, batch size {chosen.batch_size}"
    )
    axes.grid(True, which="major", alpha=0.4)
    axes.grid(True, which="minor", alpha=0.15)
    axes.legend()
    buffer = io.BytesIO()
    marker = f"{output.MARKER} {__version__}"
    figure.savefig(buffer, format="png", metadata={"Software": marker})
    return buffer.getvalue()
