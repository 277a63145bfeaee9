"""Exercises: a random small network with numbers, drawn from a seed.

An :class:`Exercise` is what ``symbp exercise`` writes: a network small enough
to work by hand, its ``[example]`` numbers (inputs, targets, parameters and
learning rate, every one a multiple of 0.1), the parameters whose gradients the
question asks for, and the spec file that holds it all. The question sheet and
the answer key are laid out by :mod:`symbp.render.exercise`; every answer is the
:class:`~symbp.derive.Derivation` of the spec file as written, evaluated by
symbp, never computed here.

The seed decides every choice the options leave open. Choices come from two
streams seeded by the seed alone, one for the architecture and one for the
numbers, and every architecture choice is drawn whether or not an option fixes
it: giving the options an exercise was made with (its header prints them)
reproduces it byte for byte.

Numbers are drawn again until the exercise is well conditioned: no sigmoid or
softmax unit saturated (outside 0.05 … 0.95), no tanh unit beyond ±0.9, no ReLU
unit dead for every sample or within 0.05 of its kink, every |z| at most 3, and
every asked gradient at least 0.001 in size, so that each answer shows at the
stated 4 decimal places, and no answer within 0.000001 of a rounding boundary,
so that working with 6 decimals rounds to the key's answer.

Examples
--------
>>> made = make(Options(seed=1, sizes=(2, 2, 1), activations=("sigmoid",)))
>>> made.network.param_shapes()
{'W1': (2, 2), 'b1': (2,), 'W2': (2, 1), 'b2': (1,)}
>>> made.command  # every choice, so that the command reproduces the exercise
'symbp exercise --seed 1 --sizes 2,2,1 --activation sigmoid,sigmoid --loss mse \
--bias --samples 1'
>>> [g.ref for g in made.asked]
['W1[1][0]', 'b1[1]', 'W2[0][0]']
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import __version__, functions, output
from .derive import Derivation, Gradient
from .errors import OutputError, SpecError, suggest
from .numeric import Numbers
from .spec import Network, loads

#: Largest number of units in a layer (and of inputs) in a by-hand exercise.
MAX_UNITS = 4
#: Largest number of layers (not counting the inputs).
MAX_LAYERS = 3
#: Largest number of samples.
MAX_SAMPLES = 4
#: Decimal places the question asks for.
DECIMALS = 4
#: Learning rates an exercise uses.
RATES = (0.1, 0.5, 1.0)
#: Networks with at most this many parameters are asked for every gradient.
ASK_ALL = 6
#: Numbers are drawn at most this many times before giving up.
MAX_DRAWS = 5000
#: The files an exercise writes, in order.
FILES = ("exercise.toml", "question.md", "question.tex", "answer.md", "answer.tex")

SOURCE = "symbp exercise"
_HIDDEN = ("sigmoid", "tanh", "relu")
_RELU = ("relu", "leaky_relu")
_Z_LIMIT = 3.0
_KINK_GAP = 0.05
_SQUASH_GAP = 0.05
_TANH_LIMIT = 0.9
_SMALLEST_GRADIENT = 1e-3
_LARGEST_GRADIENT = 5.0
_ROUNDING_GAP = 1e-6


# -- options ---------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What the user fixed; ``None`` leaves the choice to the seed.

    ``activations`` holds one name for every layer, or one per layer.
    """

    seed: int
    sizes: tuple[int, ...] | None = None
    activations: tuple[str, ...] | None = None
    loss: str | None = None
    bias: bool | None = None
    samples: int = 1

    def command(self) -> str:
        """The command line that makes this exercise (given options only)."""
        words = ["symbp exercise", f"--seed {self.seed}"]
        if self.sizes is not None:
            words.append("--sizes " + ",".join(map(str, self.sizes)))
        if self.activations is not None:
            words.append("--activation " + ",".join(self.activations))
        if self.loss is not None:
            words.append(f"--loss {self.loss}")
        if self.bias is not None:
            words.append("--bias" if self.bias else "--no-bias")
        words.append(f"--samples {self.samples}")
        return " ".join(words)


def options(
    seed: int,
    *,
    sizes: str | None = None,
    activation: str | None = None,
    loss: str | None = None,
    bias: bool | None = None,
    samples: int = 1,
) -> Options:
    """Validate command-line text into :class:`Options`; errors name the option.

    >>> options(3, sizes="2,2,1", activation="tanh,sigmoid").activations
    ('tanh', 'sigmoid')
    >>> options(3, sizes="2,x")
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: symbp exercise: --sizes: expected whole numbers \
separated by commas, such as 2,2,1, not '2,x'
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"expected a whole number >= 0, not {seed!r}", **_at("--seed"))
    if isinstance(samples, bool) or not 1 <= samples <= MAX_SAMPLES:
        raise SpecError(
            f"expected a number of samples from 1 to {MAX_SAMPLES}, not {samples!r}",
            **_at("--samples"),
        )
    parsed_sizes = parse_sizes(sizes) if sizes is not None else None
    acts = parse_activations(activation) if activation is not None else None
    if loss is not None and loss not in functions.LOSSES:
        hint = suggest(loss, functions.LOSSES) or "; built-ins: " + ", ".join(
            functions.LOSSES
        )
        raise SpecError(f"unknown loss '{loss}'{hint}", **_at("--loss"))
    made = Options(seed, parsed_sizes, acts, loss, bias, samples)
    _check_layers(made)
    return made


def _at(option: str) -> dict:
    return {"source": SOURCE, "key": option}


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"2,2,1"``: the inputs, then the units of each layer.

    >>> parse_sizes(" 3, 2 ,1")
    (3, 2, 1)
    >>> parse_sizes("2,5,1")
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: symbp exercise: --sizes: every size must be from 1 to \
4 in a by-hand exercise, not 5
    """
    parts = [p.strip() for p in str(text).split(",")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise SpecError(
            f"expected whole numbers separated by commas, such as 2,2,1, not {text!r}",
            **_at("--sizes"),
        )
    sizes = tuple(int(p) for p in parts)
    if len(sizes) < 2:
        raise SpecError(
            "give the inputs and at least one layer, such as 2,1", **_at("--sizes")
        )
    if len(sizes) - 1 > MAX_LAYERS:
        raise SpecError(
            f"at most {MAX_LAYERS} layers (and the inputs) in a by-hand exercise, "
            f"not {len(sizes) - 1}",
            **_at("--sizes"),
        )
    for size in sizes:
        if not 1 <= size <= MAX_UNITS:
            raise SpecError(
                f"every size must be from 1 to {MAX_UNITS} in a by-hand exercise, "
                f"not {size}",
                **_at("--sizes"),
            )
    return sizes


def parse_activations(text: str) -> tuple[str, ...]:
    """One built-in activation name for every layer, or a comma list, one per layer.

    >>> parse_activations("relu, identity")
    ('relu', 'identity')
    """
    names = tuple(p.strip() for p in str(text).split(","))
    if len(names) > MAX_LAYERS:
        raise SpecError(
            f"at most {MAX_LAYERS} activations, one per layer", **_at("--activation")
        )
    for name in names:
        if name not in functions.ACTIVATIONS:
            hint = suggest(name, functions.ACTIVATIONS) or "; built-ins: " + ", ".join(
                functions.ACTIVATIONS
            )
            raise SpecError(
                f"unknown activation {name!r}{hint} (an exercise takes built-in "
                "names, not formulas)",
                **_at("--activation"),
            )
    return names


def _check_layers(opts: Options) -> None:
    """Options that contradict one another, refused before anything is drawn."""
    acts, sizes = opts.activations, opts.sizes
    if acts and sizes and len(acts) > 1 and len(acts) != len(sizes) - 1:
        raise SpecError(
            f"{len(acts)} activations for {len(sizes) - 1} "
            f"layer{'s' if len(sizes) > 2 else ''}; give one name, "
            "or one per layer",
            **_at("--activation"),
        )
    if acts and "softmax" in acts[:-1]:
        raise SpecError(
            "softmax is allowed only in the output layer", **_at("--activation")
        )
    if acts == ("softmax",) and not (sizes and len(sizes) == 2):
        raise SpecError(
            "softmax is allowed only in the output layer; give one name per layer, "
            "such as sigmoid,softmax",
            **_at("--activation"),
        )
    needs = functions.LOSSES[opts.loss].requires if opts.loss else None
    if needs and acts and acts[-1] != needs:
        raise SpecError(
            f"loss '{opts.loss}' needs a {needs} output layer, and --activation "
            f"gives {acts[-1]}",
            **_at("--loss"),
        )
    softmax_out = (acts and acts[-1] == "softmax") or needs == "softmax"
    if softmax_out and sizes and sizes[-1] < 2:
        raise SpecError(
            "a softmax output layer needs at least 2 units (over one unit it is "
            "always 1)",
            **_at("--sizes"),
        )


# -- the architecture -------------------------------------------------------------


@dataclass(frozen=True)
class Architecture:
    """Every choice about the network, the options' or the seed's."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    bias: bool
    learning_rate: float
    samples: int


class _Dice:
    """A fixed sequence of draws, so that fixing one choice moves no other."""

    def __init__(self, stream: random.Random, count: int):
        self._values = [stream.random() for _ in range(count)]
        self._next = 0

    def pick(self, choices):
        value = self._values[self._next]
        self._next += 1
        return choices[int(value * len(choices))]


def _stream(seed: int, purpose: str) -> random.Random:
    return random.Random(f"symbp-exercise:{seed}:{purpose}")


def architecture(opts: Options) -> Architecture:
    """The network the options and the seed describe (sizes, activations, loss)."""
    dice = _Dice(_stream(opts.seed, "architecture"), 16)
    sizes, acts = opts.sizes, opts.activations

    # How many layers: from the sizes, a list of activations, or the seed.
    drawn_layers = dice.pick((1, 2, 2, 2, 2, 3))
    if sizes is not None:
        layers = len(sizes) - 1
    elif acts is not None and len(acts) > 1:
        layers = len(acts)
    else:
        layers = drawn_layers

    # The output activation and the loss, which must suit each other.
    loss = functions.LOSSES[opts.loss] if opts.loss else None
    out_choices = ["sigmoid", "sigmoid", "identity"]
    if sizes is None or sizes[-1] >= 2:
        out_choices.append("softmax")
    drawn_out = dice.pick(out_choices if loss is None else ("sigmoid", "identity"))
    out = acts[-1] if acts else (loss.requires if loss and loss.requires else drawn_out)
    if out == "softmax":
        drawn_loss = dice.pick(("cross_entropy",))
    elif out == "sigmoid":
        drawn_loss = dice.pick(("half_sse", "half_sse", "mse", "bce"))
    else:
        drawn_loss = dice.pick(("half_sse", "half_sse", "mse"))
    loss_name = loss.name if loss else drawn_loss

    # Hidden activations: one for all hidden layers unless the user gave a list.
    drawn_hidden = dice.pick(_HIDDEN)
    if acts is not None and len(acts) > 1:
        activations = acts
    elif acts is not None:
        activations = (acts[0],) * layers
    else:
        activations = (drawn_hidden,) * (layers - 1) + (out,)

    # Sizes: a few units per layer, at least two outputs for a softmax.
    drawn = [dice.pick((1, 2, 2, 3))]
    drawn += [dice.pick((1, 2, 2, 3) if layers < 3 else (1, 2, 2)) for _ in range(2)]
    drawn_outputs = dice.pick((2, 2, 3) if out == "softmax" else (1, 1, 2))
    if sizes is None:
        inputs = max(drawn[0], 2) if layers == 1 else drawn[0]
        sizes = (inputs, *drawn[1:layers], drawn_outputs)

    drawn_bias = dice.pick((True, True, True, False))
    drawn_rate = dice.pick(RATES)
    return Architecture(
        sizes=sizes,
        activations=activations,
        loss=loss_name,
        bias=opts.bias if opts.bias is not None else drawn_bias,
        learning_rate=drawn_rate,
        samples=opts.samples,
    )


def _network(arch: Architecture, name: str, source: str) -> Network:
    """The network of an architecture, without numbers (for drawing them)."""
    text = spec_text(arch, name, header="", numbers=None)
    return loads(text, source)


# -- the numbers ------------------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """One exercise's numbers, in tenths (exact in decimal): x, y, params."""

    x: tuple[tuple[int, ...], ...]
    y: tuple[tuple[int, ...], ...]
    params: dict[str, tuple]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        params = {k: np.array(v, float) / 10 for k, v in self.params.items()}
        return np.array(self.x, float) / 10, np.array(self.y, float) / 10, params


def _draw(stream: random.Random, net: Network, arch: Architecture) -> Draw:
    """Inputs, targets and parameters, each a nonzero-ish multiple of 0.1."""

    def tenths(low: int, high: int, *, zero: bool = True) -> int:
        while True:
            k = low + int(stream.random() * (high - low + 1))
            if zero or k:
                return k

    n, out = arch.samples, arch.activations[-1]
    x = tuple(
        tuple(tenths(-10, 10, zero=False) for _ in range(net.inputs)) for _ in range(n)
    )
    if arch.loss == "cross_entropy":
        y = []
        for _ in range(n):
            hot = int(stream.random() * net.outputs)
            y.append(tuple(10 if k == hot else 0 for k in range(net.outputs)))
        y = tuple(y)
    else:
        low, high = {"sigmoid": (0, 1), "tanh": (-9, 9), "relu": (0, 10)}.get(
            out, (-10, 10)
        )
        step = 10 if out == "sigmoid" else 1
        y = tuple(
            tuple(step * tenths(low, high) for _ in range(net.outputs))
            for _ in range(n)
        )
    params: dict[str, tuple] = {}
    for layer in net.layers:
        params[layer.weight] = tuple(
            tuple(tenths(-8, 8, zero=False) for _ in range(layer.units))
            for _ in range(layer.fan_in)
        )
        if layer.bias:
            params[layer.bias_name] = tuple(tenths(-5, 5) for _ in range(layer.units))
    return Draw(x, y, params)


def _revive(draw: Draw, derivation: Derivation, arch: Architecture) -> Draw:
    """Turn each ReLU unit that is dead for every sample around, layer by layer.

    A unit whose z is negative for every sample gets its weights and bias
    negated, which negates z: the unit then passes every sample. Without this, a
    ReLU network's draws would be wasted on dead units, one in two per unit for
    one sample.
    """
    params = dict(draw.params)
    for layer in derivation.network.layers:
        if layer.activation.name not in _RELU:
            continue
        x, y, arrays = replace(draw, params=params).arrays()
        numbers = derivation.evaluate(x, y, arrays, arch.learning_rate)
        pre = derivation.graph.pre[layer.index]
        dead = [j for j, z in enumerate(pre) if np.all(numbers.values[z] < 0)]
        if not dead:
            continue
        sign = [-1 if j in dead else 1 for j in range(layer.units)]
        params[layer.weight] = tuple(
            tuple(s * k for s, k in zip(sign, row, strict=True))
            for row in params[layer.weight]
        )
        if layer.bias:
            params[layer.bias_name] = tuple(
                s * k for s, k in zip(sign, params[layer.bias_name], strict=True)
            )
    return replace(draw, params=params)


def well_conditioned(derivation: Derivation, numbers: Numbers, asked) -> bool:
    """Whether numbers make a fair exercise (see the module's docstring)."""
    graph = derivation.graph
    for layer in derivation.network.layers:
        name = layer.activation.name
        for z, a in zip(graph.pre[layer.index], graph.act[layer.index], strict=True):
            zs, acts = numbers.values[z], numbers.values[a]
            if np.any(np.abs(zs) > _Z_LIMIT):
                return False
            if name in ("sigmoid", "softmax") and np.any(
                (acts < _SQUASH_GAP) | (acts > 1 - _SQUASH_GAP)
            ):
                return False
            if name == "tanh" and np.any(np.abs(acts) > _TANH_LIMIT):
                return False
            if name in _RELU and (np.any(np.abs(zs) < _KINK_GAP) or not np.any(zs > 0)):
                return False
    if not _SMALLEST_GRADIENT <= numbers.loss:
        return False
    if not _clear_of_rounding(_answers(derivation, numbers, asked)):
        return False
    return all(
        _SMALLEST_GRADIENT
        <= abs(float(numbers.gradients[g.param][g.index]))
        <= _LARGEST_GRADIENT
        for g in asked
    )


def _answers(derivation: Derivation, numbers: Numbers, asked) -> list[float]:
    """Every value the question asks for: z, a, the losses, gradients, steps."""
    graph = derivation.graph
    nodes = [s for layer in graph.pre for s in (*graph.pre[layer], *graph.act[layer])]
    values = [float(v) for s in nodes for v in numbers.values[s]]
    values += [*map(float, numbers.sample_losses), numbers.loss]
    for g in asked:
        values += [
            numbers.gradients[g.param][g.index],
            numbers.updated[g.param][g.index],
        ]
    return values


def _clear_of_rounding(values: list[float]) -> bool:
    """Whether no value is within :data:`_ROUNDING_GAP` of a rounding boundary.

    >>> _clear_of_rounding([0.12345]), _clear_of_rounding([0.1234, -0.98761])
    (False, True)
    """
    scaled = np.abs(np.asarray(values)) * 10**DECIMALS
    return bool(np.all(np.abs(scaled % 1 - 0.5) >= _ROUNDING_GAP * 10**DECIMALS))


# -- which gradients to ask for ---------------------------------------------------


def asked_refs(net: Network, seed: int) -> tuple[str, ...]:
    """Every entry of a tiny network; else one weight per layer and one bias.

    The bias is one of the first layer that has biases: its gradient needs the
    whole chain back from the loss.
    """
    shapes = net.param_shapes()
    if net.param_count() <= ASK_ALL:
        return tuple(
            name + "".join(f"[{i}]" for i in index)
            for name, shape in shapes.items()
            for index in np.ndindex(*shape)
        )
    dice = _Dice(_stream(seed, "asked"), MAX_LAYERS + 1)
    refs = []
    for layer in net.layers:
        i, j = dice.pick(list(np.ndindex(layer.fan_in, layer.units)))
        refs.append((layer.weight, f"{layer.weight}[{i}][{j}]"))
    biased = [layer for layer in net.layers if layer.bias]
    if biased:
        first = biased[0]
        (j,) = dice.pick(list(np.ndindex(first.units)))
        refs.append((first.bias_name, f"{first.bias_name}[{j}]"))
    order = list(shapes)
    return tuple(ref for _, ref in sorted(refs, key=lambda r: order.index(r[0])))


# -- the exercise -----------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """An exercise: its spec file, network, derivation, numbers and asked entries.

    ``network`` is loaded from ``spec`` and ``numbers`` are that network's
    ``[example]`` evaluated by its derivation, so the answers are the numbers
    ``symbp derive exercise.toml`` prints.
    """

    options: Options
    arch: Architecture
    command: str
    spec: str
    network: Network
    derivation: Derivation
    numbers: Numbers
    asked: tuple[Gradient, ...]

    @property
    def name(self) -> str:
        return self.network.name

    def summary(self) -> str:
        """One line: the network and what the question asks."""
        arch = self.arch
        samples = f"{arch.samples} sample{'s' if arch.samples > 1 else ''}"
        return (
            f"exercise {self.options.seed}: "
            f"{'-'.join(map(str, arch.sizes))} network "
            f"({', '.join(arch.activations)}), loss {arch.loss}, {samples}, "
            f"learning rate {arch.learning_rate:g}; asks for "
            f"dL/d {', '.join(g.ref for g in self.asked)}"
        )

    def files(self) -> dict[str, str]:
        """Every file's name and text, in the order of :data:`FILES`."""
        from .render import exercise as sheets

        return {
            "exercise.toml": self.spec,
            "question.md": sheets.question_markdown(self),
            "question.tex": sheets.question_latex(self),
            "answer.md": sheets.answer_markdown(self),
            "answer.tex": sheets.answer_latex(self),
        }


def make(opts: Options) -> Exercise:
    """Draw the exercise the options and the seed describe.

    Raises
    ------
    SpecError
        When no well-conditioned numbers turn up in :data:`MAX_DRAWS` draws.
    """
    arch = architecture(opts)
    name = f"exercise-{opts.seed}"
    resolved = replace(
        opts,
        sizes=arch.sizes,
        activations=arch.activations,
        loss=arch.loss,
        bias=arch.bias,
    )
    command = resolved.command()

    # Draw numbers until they make a fair exercise; the derivation is built once.
    net = _network(arch, name, "exercise.toml")
    derivation = Derivation(net)
    refs = asked_refs(net, opts.seed)
    asked = [derivation.gradient(ref) for ref in refs]
    stream = _stream(opts.seed, "numbers")
    for _ in range(MAX_DRAWS):
        draw = _revive(_draw(stream, net, arch), derivation, arch)
        x, y, params = draw.arrays()
        numbers = derivation.evaluate(x, y, params, arch.learning_rate)
        if well_conditioned(derivation, numbers, asked):
            break
    else:
        raise SpecError(
            f"no well-conditioned numbers in {MAX_DRAWS} draws for this network; "
            "try another --seed, or smaller --sizes",
            source=SOURCE,
        )

    # The answers come from the spec file as written, loaded like any other.
    header = _header(command, refs)
    text = spec_text(arch, name, header=header, numbers=draw)
    net = loads(text, "exercise.toml")
    derivation = Derivation(net)
    numbers = derivation.evaluate_example()
    asked = tuple(derivation.gradient(ref) for ref in refs)
    return Exercise(opts, arch, command, text, net, derivation, numbers, asked)


def _header(command: str, refs: tuple[str, ...]) -> str:
    return (
        f"# {output.MARKER} {__version__}: {command}\n"
        "# A backpropagation exercise. question.md and question.tex ask for the\n"
        "# forward pass, the loss, the gradients of\n"
        f"#   {', '.join(refs)}\n"
        "# and one gradient step; answer.md and answer.tex answer them.\n"
    )


def _tenths(k: int) -> str:
    return f"{k / 10:.1f}"


def _rows(rows) -> str:
    """A TOML array of arrays of tenths (or of one array)."""
    if rows and isinstance(rows[0], tuple):
        return "[" + ", ".join(_rows(r) for r in rows) + "]"
    return "[" + ", ".join(_tenths(k) for k in rows) + "]"


def spec_text(
    arch: Architecture, name: str, *, header: str, numbers: Draw | None
) -> str:
    """The spec file of an exercise, with its ``[example]`` when numbers are given."""
    lines = [header + f'name = "{name}"', f"inputs = {arch.sizes[0]}", ""]
    for units, act in zip(arch.sizes[1:], arch.activations, strict=True):
        lines += [
            "[[layers]]",
            f"units = {units}",
            f'activation = "{act}"',
            f"bias = {'true' if arch.bias else 'false'}",
            "",
        ]
    rate = f"{arch.learning_rate:.1f}"
    lines += ["[loss]", f'name = "{arch.loss}"', 'reduction = "mean"', ""]
    lines += [
        "[train]",
        'optimizer = "sgd"',
        f"learning_rate = {rate}",
        f"batch_size = {arch.samples}",
    ]
    if numbers is not None:
        lines += ["", "[example]", f"x = {_rows(numbers.x)}", f"y = {_rows(numbers.y)}"]
        lines += [f"{key} = {_rows(value)}" for key, value in numbers.params.items()]
        lines.append(f"learning_rate = {rate}")
    return "\n".join(lines) + "\n"


def check_folder(folder: str | Path, *, force: bool = False) -> None:
    """Refuse a folder that is a file, or holds files symbp did not generate.

    :func:`write` checks again; calling this first refuses before any work.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            "is a file; give a folder for the exercise", source=str(folder)
        )
    refused = [
        name
        for name in FILES
        if (folder / name).exists()
        and not force
        and not output.generated_by_symbp(folder / name)
    ]
    if refused:
        raise OutputError(
            "refusing to overwrite files symbp did not generate: "
            + ", ".join(refused)
            + "; pass --force to replace them, or choose another folder",
            source=str(folder),
        )


def write(exercise: Exercise, folder: str | Path, *, force: bool = False) -> list[Path]:
    """Write the exercise's files into ``folder`` (created if missing).

    Every target is checked before any is written (:func:`check_folder`): when
    one exists and symbp did not generate it, nothing is written (unless
    ``force``).
    """
    check_folder(folder, force=force)
    files = exercise.files()
    folder = Path(folder)
    return [
        output.write(folder / name, text, force=force) for name, text in files.items()
    ]
