"""Network specifications: the validated description of a network.

A :class:`Network` is what every later stage reads: its inputs, its
:class:`Dense` layers, its loss and batch reduction, the ``[train]`` defaults for
generated code and, optionally, the ``[example]`` numbers of a worked example.
It is built from the Python API or from a TOML file (:func:`load`); either way it
is validated here, once, and every error names the source, the key and the fix.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import formula
from .errors import SpecError, suggest

if TYPE_CHECKING:
    from . import functions

#: Largest number of units in a layer, and of inputs.
MAX_UNITS = 100_000
#: Largest number of layers.
MAX_LAYERS = 64
#: Longest network name.
MAX_NAME = 80
#: Largest spec file, in bytes. TOML's parser reads about a megabyte of arrays a
#: second, and a spec (a worked example of a few samples at most) is far smaller.
MAX_SPEC_BYTES = 256 * 1024
_NAME = re.compile(r"\w[\w .+-]*")
OPTIMIZERS = ("sgd", "momentum", "adam")
#: The built-in activations and losses, by name. Their formulas live in
#: :mod:`symbp.functions`; the names are here so that a spec is validated
#: before SymPy is imported (a test keeps the two lists the same).
ACTIVATION_NAMES = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softplus",
    "silu",
    "softmax",
)
LOSS_NAMES = ("half_sse", "mse", "bce", "cross_entropy")
#: The output activation a built-in loss needs (it does not apply it itself).
LOSS_NEEDS = {"bce": "sigmoid", "cross_entropy": "softmax"}
REDUCTIONS = ("mean", "sum")

_TOP_KEYS = ("name", "inputs", "layers", "loss", "train", "example")
_LAYER_KEYS = ("units", "activation", "bias")
_LOSS_KEYS = ("name", "formula", "reduction")
_TRAIN_KEYS = ("optimizer", "learning_rate", "epochs", "batch_size")


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``units`` outputs, an activation, an optional bias.

    >>> Dense(3, "tanh")
    Dense(units=3, activation='tanh', bias=True)
    """

    units: int
    activation: Any = "sigmoid"
    bias: bool = True


@dataclass(frozen=True)
class Train:
    """Defaults for generated training code (the spec's ``[train]`` table)."""

    optimizer: str = "sgd"
    learning_rate: float = 0.1
    epochs: int = 100
    batch_size: int = 32


@dataclass(frozen=True)
class Example:
    """The numbers of a worked example: samples, targets, parameters, step size."""

    x: np.ndarray
    y: np.ndarray
    params: dict[str, np.ndarray]
    learning_rate: float


@dataclass(frozen=True)
class Layer:
    """A validated layer: its number (from 1), sizes and resolved activation."""

    index: int
    fan_in: int
    units: int
    activation: functions.Activation
    bias: bool

    @property
    def weight(self) -> str:
        return f"W{self.index}"

    @property
    def bias_name(self) -> str | None:
        return f"b{self.index}" if self.bias else None


class Network:
    """A validated network description.

    Parameters
    ----------
    inputs
        Number of inputs.
    layers
        The layers, first to last, as :class:`Dense`.
    loss
        A built-in loss name, a :class:`symbp.functions.Loss`, or a mapping with
        ``name`` or ``formula`` (and optionally ``reduction``).
    reduction
        How a batch's per-sample losses combine: ``"mean"`` or ``"sum"``.
    name, train, example, source
        The network's name, ``[train]`` defaults, ``[example]`` numbers (a
        mapping as in a spec file) and where the description came from.

    Examples
    --------
    >>> net = Network(inputs=2, layers=[Dense(2, "sigmoid"), Dense(1, "sigmoid")],
    ...               loss="half_sse")
    >>> net.param_shapes()
    {'W1': (2, 2), 'b1': (2,), 'W2': (2, 1), 'b2': (1,)}
    >>> Network(inputs=2, layers=[Dense(2, "softmax"), Dense(1)], loss="mse")
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: <api>: layers[0].activation: softmax is allowed only in
        the output layer
    """

    def __init__(
        self,
        inputs: int,
        layers: list[Dense],
        loss: Any = "half_sse",
        *,
        reduction: str = "mean",
        name: str = "network",
        train: Train | dict | None = None,
        example: dict | None = None,
        source: str = "<api>",
    ):
        self.source = source
        self.name = _name(name, source)
        self.inputs = _count(inputs, source, "inputs")
        # Everything is checked first, without SymPy; the activations and the
        # loss are resolved to their formulas last.
        plan = _layers(self.inputs, layers, source)
        loss_plan, self.reduction = _loss(loss, reduction, source)
        _check_pairing(plan, loss_plan, source)
        self.train = _train(train, source)
        shapes = _shapes(plan)
        if example is not None:
            example = _example(
                self.inputs, plan[-1].units, shapes, self.train, example, source
            )
        self.example = example

        from . import functions

        self.layers = tuple(
            Layer(
                p.index,
                p.fan_in,
                p.units,
                functions.activation(p.activation, source=source, key=p.key),
                p.bias,
            )
            for p in plan
        )
        self.loss = functions.loss(*loss_plan.args, source=source, key="loss")

    def __repr__(self) -> str:
        sizes = "-".join(
            str(n) for n in [self.inputs, *(lay.units for lay in self.layers)]
        )
        return f"<Network {self.name!r} {sizes} loss={self.loss.name}>"

    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's name and shape, in order ``W1, b1, W2, …``."""
        return _shapes(self.layers)

    def param_count(self) -> int:
        return sum(math.prod(shape) for shape in self.param_shapes().values())

    def random_params(self, seed: int = 0, scale: float = 1.0) -> dict[str, np.ndarray]:
        """Random parameters (Xavier or He scaled), for checks without an example."""
        rng = np.random.default_rng(seed)
        params = {}
        for layer in self.layers:
            gain = 2.0 if layer.activation.init == "he" else 1.0
            std = scale * math.sqrt(gain / layer.fan_in)
            params[layer.weight] = rng.normal(0.0, std, (layer.fan_in, layer.units))
            if layer.bias:
                params[layer.bias_name] = rng.normal(0.0, 0.1 * scale, layer.units)
        return params

    def random_data(
        self, samples: int = 4, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random inputs and targets that suit the loss (probabilities for bce, …)."""
        rng = np.random.default_rng(seed)
        x = rng.normal(0.0, 1.0, (samples, self.inputs))
        k = self.outputs
        if self.loss.name == "cross_entropy":
            y = np.eye(k)[rng.integers(0, k, samples)]
        elif self.loss.name == "bce":
            y = rng.uniform(0.05, 0.95, (samples, k))
        else:
            y = rng.uniform(-1.0, 1.0, (samples, k))
        return x, y


def _name(value: object, source: str) -> str:
    """A network name: it reaches generated code, file names and LaTeX, so it is
    held to letters, digits, spaces and ``_ - . +`` here, where it enters."""
    if not isinstance(value, str) or not value.strip():
        raise SpecError("expected a non-empty string", source=source, key="name")
    if len(value) > MAX_NAME:
        raise SpecError(
            f"name is longer than {MAX_NAME} characters", source=source, key="name"
        )
    if not _NAME.fullmatch(value):
        odd = next(ch for ch in value if not _NAME.fullmatch("a" + ch))
        raise SpecError(
            f"the character {odd!r} is not allowed in a name; "
            "use letters, digits, spaces and _ - . +",
            source=source,
            key="name",
        )
    return value


def plain_name(text: str) -> str:
    """``text`` made into a valid network name, as for a file's stem.

    >>> plain_name('my "net" (v2)')
    'my _net_ _v2_'
    """
    text = "".join(ch if _NAME.fullmatch("a" + ch) else "_" for ch in text)
    text = text[:MAX_NAME].strip()
    return text if text and _NAME.fullmatch(text) else "network"


def _count(
    value: object, source: str, key: str, *, low: int = 1, high: int = MAX_UNITS
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(
            f"expected a whole number, not {value!r}", source=source, key=key
        )
    if not low <= value <= high:
        raise SpecError(
            f"expected a number from {low} to {high}, not {value}",
            source=source,
            key=key,
        )
    return value


@dataclass(frozen=True)
class _LayerPlan:
    """A layer checked but not yet resolved: its activation is still a name or text."""

    index: int
    fan_in: int
    units: int
    activation: Any
    activation_name: str
    bias: bool
    key: str

    @property
    def weight(self) -> str:
        return f"W{self.index}"

    @property
    def bias_name(self) -> str | None:
        return f"b{self.index}" if self.bias else None


@dataclass(frozen=True)
class _LossPlan:
    """A loss checked but not yet resolved: the arguments for ``functions.loss``."""

    args: tuple[Any, Any]
    name: str
    needs: str | None


def _shapes(layers) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in layers:
        shapes[layer.weight] = (layer.fan_in, layer.units)
        if layer.bias:
            shapes[layer.bias_name] = (layer.units,)
    return shapes


def _activation_name(value: object, source: str, key: str) -> str:
    """Check an activation without SymPy: a built-in name or a formula in ``z``."""
    if not isinstance(value, str):
        name = getattr(value, "name", None)
        if hasattr(value, "local_derivative") and isinstance(name, str):
            return name  # an Activation object from the Python API
        raise SpecError(
            "expected an activation name or formula string, "
            f"not {type(value).__name__}",
            source=source,
            key=key,
        )
    name = value.strip()
    if name.isidentifier():
        if name in ACTIVATION_NAMES:
            return name
        hint = suggest(name, ACTIVATION_NAMES) or "; built-ins: " + ", ".join(
            ACTIVATION_NAMES
        )
        raise SpecError(f"unknown activation '{name}'" + hint, source=source, key=key)
    _, used = formula.check(name, ("z",), source=source, key=key)
    if "z" not in used:
        raise SpecError(
            f"activation formula {name!r} does not use z", source=source, key=key
        )
    return name


def _layers(inputs: int, layers: object, source: str) -> tuple[_LayerPlan, ...]:
    if not isinstance(layers, (list, tuple)) or not layers:
        raise SpecError("expected at least one layer", source=source, key="layers")
    if len(layers) > MAX_LAYERS:
        raise SpecError(
            f"at most {MAX_LAYERS} layers are supported", source=source, key="layers"
        )
    result, fan_in = [], inputs
    for i, dense in enumerate(layers):
        key = f"layers[{i}]"
        if not isinstance(dense, Dense):
            raise SpecError("expected a Dense layer", source=source, key=key)
        units = _count(dense.units, source, f"{key}.units")
        act = _activation_name(dense.activation, source, f"{key}.activation")
        if not isinstance(dense.bias, bool):
            raise SpecError(
                f"expected true or false, not {dense.bias!r}",
                source=source,
                key=f"{key}.bias",
            )
        if act == "softmax":
            if i != len(layers) - 1:
                raise SpecError(
                    "softmax is allowed only in the output layer",
                    source=source,
                    key=f"{key}.activation",
                )
            if units < 2:
                raise SpecError(
                    "softmax needs at least 2 units", source=source, key=f"{key}.units"
                )
        result.append(
            _LayerPlan(
                i + 1,
                fan_in,
                units,
                dense.activation,
                act,
                dense.bias,
                f"{key}.activation",
            )
        )
        fan_in = units
    return tuple(result)


def _loss(value: object, reduction: str, source: str) -> tuple[_LossPlan, str]:
    """Check a loss without SymPy.

    The loss is a built-in name, or a formula in ``yhat`` and ``y``.
    """
    if isinstance(value, dict):
        _unknown_keys(value, _LOSS_KEYS, source, "loss")
        reduction = value.get("reduction", reduction)
        name, text = value.get("name"), value.get("formula")
    elif isinstance(value, str):
        name, text = value, None
    elif hasattr(value, "sample_loss"):  # a Loss object from the Python API
        plan = _LossPlan((value, None), value.name, value.requires)
        name = text = None
    else:
        raise SpecError("expected a loss name or a table", source=source, key="loss")
    if not hasattr(value, "sample_loss"):
        if (name is None) == (text is None):
            raise SpecError(
                "give exactly one of 'name' and 'formula'", source=source, key="loss"
            )
        if name is not None:
            if not isinstance(name, str):
                raise SpecError(
                    f"expected a loss name, not {type(name).__name__}",
                    source=source,
                    key="loss.name",
                )
            if name not in LOSS_NAMES:
                hint = suggest(name, LOSS_NAMES) or "; built-ins: " + ", ".join(
                    LOSS_NAMES
                )
                raise SpecError(
                    f"unknown loss '{name}'" + hint, source=source, key="loss.name"
                )
            plan = _LossPlan((name, None), name, LOSS_NEEDS.get(name))
        else:
            _, used = formula.check(
                text, ("yhat", "y"), source=source, key="loss.formula"
            )
            if "yhat" not in used:
                raise SpecError(
                    f"loss formula {text!r} does not use yhat",
                    source=source,
                    key="loss.formula",
                )
            plan = _LossPlan((None, text), text, None)
    if reduction not in REDUCTIONS:
        raise SpecError(
            f"expected 'mean' or 'sum', not {reduction!r}",
            source=source,
            key="loss.reduction",
        )
    return plan, reduction


def _check_pairing(
    layers: tuple[_LayerPlan, ...], loss: _LossPlan, source: str
) -> None:
    out = layers[-1].activation_name
    if loss.needs and out != loss.needs:
        raise SpecError(
            f"loss '{loss.name}' needs a {loss.needs} output layer, not {out} "
            f"(it does not apply the {loss.needs} itself)",
            source=source,
            key=f"layers[{len(layers) - 1}].activation",
        )


def _train(value: object, source: str) -> Train:
    if value is None:
        return Train()
    if isinstance(value, Train):
        value = value.__dict__
    if not isinstance(value, dict):
        raise SpecError("expected a table", source=source, key="train")
    _unknown_keys(value, _TRAIN_KEYS, source, "train")
    opt = value.get("optimizer", Train.optimizer)
    if opt not in OPTIMIZERS:
        raise SpecError(
            f"unknown optimizer {opt!r}; choose one of {', '.join(OPTIMIZERS)}"
            + suggest(str(opt), OPTIMIZERS),
            source=source,
            key="train.optimizer",
        )
    return Train(
        optimizer=opt,
        learning_rate=_rate(
            value.get("learning_rate", Train.learning_rate),
            source,
            "train.learning_rate",
        ),
        epochs=_count(
            value.get("epochs", Train.epochs), source, "train.epochs", high=10**7
        ),
        batch_size=_count(
            value.get("batch_size", Train.batch_size),
            source,
            "train.batch_size",
            high=10**7,
        ),
    )


def _rate(value: object, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"expected a number, not {value!r}", source=source, key=key)
    if not math.isfinite(value) or value <= 0:
        raise SpecError(
            f"expected a positive finite number, not {value}", source=source, key=key
        )
    return float(value)


def _array(
    value: object, shape: tuple[int, ...], source: str, key: str, *, rows: bool
) -> np.ndarray:
    """A finite float array of the expected shape.

    With ``rows``, a flat list is accepted as a single row.
    """

    def bad(what: str) -> SpecError:
        return SpecError(what, source=source, key=key)

    if not isinstance(value, list):
        raise bad(
            f"expected an array of shape {_shape_text(shape)}, "
            f"not {type(value).__name__}"
        )
    if rows and value and not isinstance(value[0], list):
        value = [value]
    try:
        arr = np.array(value, dtype=object)
    except ValueError:
        raise bad("rows have different lengths") from None
    for item in arr.flat:
        if isinstance(item, list):
            raise bad("rows have different lengths")
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise bad(f"expected numbers, found {item!r}")
        if not math.isfinite(item):
            raise bad(f"expected finite numbers, found {item}")
    arr = arr.astype(float)
    want = shape if not rows else (arr.shape[0] if arr.ndim == 2 else -1, shape[1])
    if arr.shape != want:
        raise bad(f"expected shape {_shape_text(want)}, got {_shape_text(arr.shape)}")
    return arr


def _shape_text(shape: tuple[int, ...]) -> str:
    return (
        "("
        + ", ".join("N" if s == -1 else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _example(
    inputs: int, outputs: int, shapes: dict, train: Train, value: object, source: str
) -> Example:
    if not isinstance(value, dict):
        raise SpecError("expected a table", source=source, key="example")
    allowed = ("x", "y", "learning_rate", *shapes)
    _unknown_keys(value, allowed, source, "example")
    for key in ("x", "y", *shapes):
        if key not in value:
            raise SpecError(
                f"missing '{key}': an example gives x, y and every parameter",
                source=source,
                key="example",
            )
    x = _array(value["x"], (-1, inputs), source, "example.x", rows=True)
    y = _array(value["y"], (-1, outputs), source, "example.y", rows=True)
    if len(x) != len(y):
        raise SpecError(
            f"x has {len(x)} rows but y has {len(y)}", source=source, key="example.y"
        )
    params = {
        name: _array(value[name], shape, source, f"example.{name}", rows=False)
        for name, shape in shapes.items()
    }
    rate = value.get("learning_rate", train.learning_rate)
    return Example(x, y, params, _rate(rate, source, "example.learning_rate"))


def numbers(
    net: Network, x: object, y: object, params: object, learning_rate: object
) -> Example:
    """Samples, targets, parameters and a step size from Python, checked for ``net``.

    Arrays or nested lists are accepted; a flat x or y is one sample. Anything
    of the wrong shape, not finite, or missing is a :class:`SpecError` naming it.

    >>> net = example("xor")
    >>> numbers(net, [[0, 1, 99]], [[1]], net.random_params(), 0.5)
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: <api>: x: expected shape (N, 2), got (1, 3)
    """
    source = "<api>"

    def array(value: object, key: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            arr = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise SpecError(
                f"expected an array of numbers of shape {_shape_text(shape)}",
                source=source,
                key=key,
            ) from None
        if shape[0] == -1 and arr.ndim == 1:
            arr = arr[None, :]
        want = shape if shape[0] != -1 else (len(arr) if arr.ndim else -1, shape[1])
        if arr.shape != want or (shape[0] == -1 and len(arr) == 0):
            raise SpecError(
                f"expected shape {_shape_text(shape)}, got {_shape_text(arr.shape)}",
                source=source,
                key=key,
            )
        if not np.isfinite(arr).all():
            raise SpecError("expected finite numbers", source=source, key=key)
        return arr

    x_arr = array(x, "x", (-1, net.inputs))
    y_arr = array(y, "y", (-1, net.outputs))
    if len(x_arr) != len(y_arr):
        raise SpecError(
            f"x has {len(x_arr)} rows but y has {len(y_arr)}", source=source, key="y"
        )
    shapes = net.param_shapes()
    if not isinstance(params, dict):
        raise SpecError(
            f"expected a dict of arrays with keys {', '.join(shapes)}",
            source=source,
            key="params",
        )
    _unknown_keys(params, tuple(shapes), source, "params")
    for name in shapes:
        if name not in params:
            raise SpecError(f"missing '{name}'", source=source, key="params")
    checked = {
        name: array(params[name], f"params.{name}", shape)
        for name, shape in shapes.items()
    }
    if isinstance(learning_rate, np.generic):  # a NumPy scalar, such as float32
        learning_rate = learning_rate.item()
    rate = _rate(learning_rate, source, "learning_rate")
    return Example(x_arr, y_arr, checked, rate)


def _unknown_keys(
    table: dict, allowed: tuple[str, ...], source: str, where: str
) -> None:
    for key in table:
        if key not in allowed:
            place = f"{where}.{key}" if where else key
            hint = suggest(key, allowed) or f"; expected one of {', '.join(allowed)}"
            raise SpecError(f"unknown key '{key}'" + hint, source=source, key=place)


def from_dict(data: dict, source: str = "<api>") -> Network:
    """Build a network from the parsed contents of a spec file."""
    _unknown_keys(data, _TOP_KEYS, source, "")
    if "inputs" not in data:
        raise SpecError(
            "missing key: the number of inputs", source=source, key="inputs"
        )
    if "layers" not in data:
        raise SpecError(
            "missing [[layers]]: a network needs at least one",
            source=source,
            key="layers",
        )
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SpecError(
            "expected one or more [[layers]] tables", source=source, key="layers"
        )
    layers = []
    for i, table in enumerate(raw_layers):
        if not isinstance(table, dict):
            raise SpecError("expected a table", source=source, key=f"layers[{i}]")
        _unknown_keys(table, _LAYER_KEYS, source, f"layers[{i}]")
        if "units" not in table:
            raise SpecError(
                "missing key 'units'", source=source, key=f"layers[{i}].units"
            )
        layers.append(
            Dense(
                table["units"],
                table.get("activation", "sigmoid"),
                table.get("bias", True),
            )
        )
    if "loss" not in data:
        raise SpecError(
            "missing [loss]: give name or formula", source=source, key="loss"
        )
    return Network(
        data["inputs"],
        layers,
        data["loss"],
        name=data.get(
            "name", plain_name(Path(source).stem) if source != "<api>" else "network"
        ),
        train=data.get("train"),
        example=data.get("example"),
        source=source,
    )


def load(path: str | Path) -> Network:
    """Read and validate a TOML spec file.

    >>> load("no/such/file.toml")
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: no/such/file.toml: no such file
    """
    path = Path(path)
    source = str(path)
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", source=source) from None
    except IsADirectoryError:
        raise SpecError("is a folder, not a spec file", source=source) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", source=source) from None
    return loads(text, source)


def loads(text: bytes | str, source: str = "<string>") -> Network:
    """Validate the text of a TOML spec; ``source`` names it in error messages."""
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_SPEC_BYTES:
        raise SpecError(
            f"more than {MAX_SPEC_BYTES // 1024} KiB; a spec file is at most that "
            "(give a worked example a few samples, not a data set)",
            source=source,
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(
                "not UTF-8 text; a spec is a TOML file", source=source
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"TOML syntax error: {exc}", source=source) from None
    except RecursionError:
        raise SpecError("TOML is nested too deeply", source=source) from None
    return from_dict(data, source)


def example_names() -> list[str]:
    """The names of the built-in example specs."""
    folder = resources.files("symbp.examples")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def example_text(name: str) -> str:
    """The TOML text of a built-in example."""
    if name not in example_names():
        hint = suggest(name, example_names()) or "; run 'symbp examples' for the list"
        raise SpecError(f"no such file or built-in example{hint}", source=name)
    return resources.files("symbp.examples").joinpath(f"{name}.toml").read_text("utf-8")


def example(name: str) -> Network:
    """A built-in example network, by name.

    >>> example("xor")
    <Network 'xor' 2-2-1 loss=half_sse>
    """
    return loads(example_text(name), f"{name}.toml")


def resolve(spec: str | Path) -> Network:
    """A spec file's network, or a built-in example's when no such file exists."""
    path = Path(spec)
    if path.exists() or str(spec).endswith(".toml") or len(path.parts) > 1:
        return load(path)
    return example(str(spec))
