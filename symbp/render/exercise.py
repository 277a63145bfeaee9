"""The question sheet and the answer key of an exercise, in Markdown and LaTeX.

Both are :class:`Sheet` s of the blocks :mod:`symbp.render.document` defines,
laid out by ``templates/exercise.md.j2`` and ``templates/exercise.tex.j2``. The
question reuses the derivation document's description of the network and its
forward equations, adds the numbers as tables and the numbered tasks, and ends
with an answer sheet of blanks. The answer key lists the answers, rounded as
the question asks, then the worked derivation of exactly the asked quantities:
the derivation document of :func:`symbp.render.document.build`, restricted to
the asked parameters, with the exercise's numbers. Nothing here computes a
number; every value is the exercise's :class:`~symbp.numeric.Numbers`.

No user text reaches these documents: the options are validated names and
numbers, so the templates need no escaping beyond what the shared blocks do.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import __version__, naming
from ..exercise import DECIMALS, Exercise
from ..output import MARKER
from . import document
from . import latex as latex_render
from . import markdown as markdown_render
from .document import Para, Section, Table


@dataclass
class Blanks:
    """An answer sheet: one row per quantity, label and math, with room to write."""

    rows: list[list[str]]
    kind: str = "blanks"


@dataclass
class PageBreak:
    """A new page in LaTeX (before the answer sheet); nothing in Markdown."""

    kind: str = "pagebreak"


@dataclass
class Sheet:
    """What an exercise template needs: titles, the command line and sections."""

    title: str
    subtitle: str
    command: str
    sections: list[Section]
    version: str = __version__


@dataclass(frozen=True)
class Quantity:
    """One asked number: its label (``3.2``), its LaTeX and its value."""

    label: str
    tex: str
    value: float


def rounded(value: float) -> str:
    """A value at the question's decimal places, never ``-0.0000``.

    >>> rounded(-0.00001), rounded(0.123456)
    ('0.0000', '0.1235')
    """
    text = f"{value:.{DECIMALS}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _given(value: float) -> str:
    """A number of the exercise (a multiple of 0.1) as the question prints it."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _partial(symbol) -> str:
    return rf"\partial L/\partial {naming.latex(symbol)}"


# -- what the tasks ask ------------------------------------------------------------


def tasks(ex: Exercise) -> list[tuple[str, list[Quantity]]]:
    """The four tasks, each a title and its quantities with their values."""
    numbers = ex.numbers
    count = len(numbers.x)

    def sample(n: int) -> str:
        return "" if count == 1 else rf"\ \text{{(sample {n + 1})}}"

    forward = [
        (naming.latex(symbol) + sample(n), numbers.values[symbol][n])
        for n in range(count)
        for symbol in _nodes(ex)
    ]
    loss = [("L" + sample(n), v) for n, v in enumerate(numbers.sample_losses)]
    if count > 1:
        loss.append((r"L\ \text{(the batch)}", numbers.loss))
    grads = [
        (_partial(g.symbol), numbers.gradients[g.param][g.index]) for g in ex.asked
    ]
    step = [
        (
            naming.latex(g.symbol) + r"\ \text{after the step}",
            numbers.updated[g.param][g.index],
        )
        for g in ex.asked
    ]
    titled = [
        ("The forward pass", forward),
        ("The loss", loss),
        ("The gradients", grads),
        ("One gradient step", step),
    ]
    return [
        (
            title,
            [
                Quantity(f"{t}.{k}", tex, float(value))
                for k, (tex, value) in enumerate(rows, start=1)
            ],
        )
        for t, (title, rows) in enumerate(titled, start=1)
    ]


# -- the question ------------------------------------------------------------------


def _samples_table(ex: Exercise) -> Table:
    graph, numbers = ex.derivation.graph, ex.numbers
    symbols = [*graph.inputs, *graph.targets]
    header = ["sample", *(f"${naming.latex(s)}$" for s in symbols)]
    rows = [
        [str(n + 1), *(f"${_given(v)}$" for v in [*numbers.x[n], *numbers.y[n]])]
        for n in range(len(numbers.x))
    ]
    return Table(header, rows, "r" * len(header))


def _layer_table(ex: Exercise, layer) -> Table:
    """Layer l's weights as the array W_l (row i: from unit i; column j: to unit j)."""
    graph, params = ex.derivation.graph, ex.numbers.params
    below = graph.act[layer.index - 1]
    header = [f"layer {layer.index}"] + [
        f"to ${naming.latex(z)}$" for z in graph.pre[layer.index]
    ]
    rows = []
    for i, source in enumerate(below):
        cells = [
            f"${naming.latex(naming.w(layer.index, i, j))} = "
            f"{_given(params[layer.weight][i, j])}$"
            for j in range(layer.units)
        ]
        rows.append([f"from ${naming.latex(source)}$", *cells])
    if layer.bias:
        rows.append(
            [
                "bias",
                *(
                    f"${naming.latex(naming.b(layer.index, j))} = "
                    f"{_given(params[layer.bias_name][j])}$"
                    for j in range(layer.units)
                ),
            ]
        )
    return Table(header, rows, "l" + "r" * layer.units)


def numbers_section(ex: Exercise) -> Section:
    """The inputs, targets, parameters and learning rate."""
    count = len(ex.numbers.x)
    blocks: list = [
        Para(
            f"The {'sample' if count == 1 else f'{count} samples'}: inputs $x$ and "
            "targets $y$"
            + ("." if count == 1 else "; the loss of the batch is their mean.")
        ),
        _samples_table(ex),
        Para(
            "The parameters: the weight $w^{(l)}_{ij}$ leads from unit $i$ below to "
            "unit $j$ of layer $l$."
        ),
    ]
    blocks += [_layer_table(ex, layer) for layer in ex.network.layers]
    blocks.append(
        Para(f"The learning rate is $\\alpha = {ex.numbers.learning_rate:g}$.")
    )
    return Section("The numbers", blocks)


def _nodes(ex: Exercise) -> list:
    """Every z and a, layer by layer, unit by unit."""
    graph = ex.derivation.graph
    return [
        symbol
        for layer in ex.network.layers
        for pair in zip(graph.pre[layer.index], graph.act[layer.index], strict=True)
        for symbol in pair
    ]


def _math_list(quantities: list[Quantity]) -> str:
    return ", ".join(f"${q.tex}$" for q in quantities)


def tasks_section(ex: Exercise) -> list[Section]:
    """The rounding rule, then one subsection per task."""
    work = tasks(ex)
    count = len(ex.numbers.x)
    each = "the sample" if count == 1 else "each sample"
    intro = Section(
        "Tasks",
        [
            Para(
                f"Give every answer rounded to {DECIMALS} decimal places, and carry "
                "at least 6 decimal places through the intermediate steps (rounding "
                "as you go can change the last digit). Write your answers on the "
                "answer sheet at the end."
            )
        ],
    )
    grads = work[2][1]
    texts = [
        f"For {each}, compute every pre-activation and activation, layer by layer: "
        + ", ".join(f"${naming.latex(s)}$" for s in _nodes(ex))
        + ".",
        "Compute the loss $L$"
        + ("." if count == 1 else " of each sample, and of the batch (their mean)."),
        "Backpropagate: compute the gradients "
        + _math_list(grads)
        + " by the chain rule. The error signals "
        r"$\delta^{(l)}_j = \partial L/\partial z^{(l)}_j$ save work: "
        r"$\partial L/\partial w^{(l)}_{ij} = \delta^{(l)}_j\, a^{(l-1)}_i$."
        + (
            " Over the batch, each gradient is the mean over the samples."
            if count > 1
            else ""
        ),
        f"Take one step of gradient descent with $\\alpha = "
        f"{ex.numbers.learning_rate:g}$: compute the new value "
        r"$p \leftarrow p - \alpha\, \partial L/\partial p$ of each parameter $p$ "
        "of task 3: "
        + ", ".join(f"${naming.latex(g.symbol)}$" for g in ex.asked)
        + ".",
    ]
    sections = [intro]
    for t, ((title, _), text) in enumerate(zip(work, texts, strict=True), start=1):
        sections.append(Section(f"Task {t}: {title.lower()}", [Para(text)], level=2))
    return sections


def question_sheet(ex: Exercise) -> Sheet:
    """The question: the network, its numbers, the tasks and an answer sheet."""
    blanks = Blanks(
        [[q.label, f"${q.tex}$"] for _, quantities in tasks(ex) for q in quantities]
    )
    sections = [
        document.network_section(ex.network),
        document.forward_section(ex.derivation),
        numbers_section(ex),
        *tasks_section(ex),
        Section("Answer sheet", [blanks]),
    ]
    sections[-2].blocks.append(PageBreak())
    return Sheet(
        f"Exercise {ex.options.seed}: backpropagation by hand",
        _subtitle(ex),
        ex.command,
        sections,
    )


def _subtitle(ex: Exercise) -> str:
    arch = ex.arch
    return (
        f"a {'-'.join(map(str, arch.sizes))} network, {', '.join(arch.activations)}, "
        f"loss {arch.loss.replace('_', ' ')}"
    )


# -- the answer key ----------------------------------------------------------------


def answers_section(ex: Exercise) -> Section:
    """Every asked quantity's value, rounded as the question asks."""
    rows = [
        [q.label, f"${q.tex}$", f"${rounded(q.value)}$"]
        for _, quantities in tasks(ex)
        for q in quantities
    ]
    return Section(
        "Answers",
        [
            Para(
                f"Rounded to {DECIMALS} decimal places. The worked derivation below "
                "carries 6; every value is symbp's evaluation of the chain rule on "
                "the numbers of exercise.toml."
            ),
            Table(["task", "quantity", "answer"], rows, "llr"),
        ],
    )


def answer_sheet(ex: Exercise) -> Sheet:
    """The answer key: the answers, then the worked derivation of the asked entries."""
    worked = document.build(ex.derivation, ex.numbers, only=list(ex.asked))
    sections = [answers_section(ex), *worked.sections]
    return Sheet(
        f"Exercise {ex.options.seed}: answer key", _subtitle(ex), ex.command, sections
    )


# -- the files ---------------------------------------------------------------------


def _markdown(sheet: Sheet) -> str:
    filters = {
        "math": markdown_render.math,
        "code": markdown_render.code,
        "comment": markdown_render.comment,
    }
    template = document.load_template("exercise.md.j2", filters)
    return template.render(doc=sheet, marker=MARKER)


def _latex(sheet: Sheet) -> str:
    template = document.load_template(
        "exercise.tex.j2",
        {"e": latex_render.breakable, "comment": latex_render.comment},
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
    )
    return template.render(doc=sheet, marker=MARKER)


def question_markdown(ex: Exercise) -> str:
    """The question sheet as Markdown with ``$…$`` math."""
    return _markdown(question_sheet(ex))


def question_latex(ex: Exercise) -> str:
    """The question sheet as a standalone LaTeX document."""
    return _latex(question_sheet(ex))


def answer_markdown(ex: Exercise) -> str:
    """The answer key as Markdown with ``$…$`` math."""
    return _markdown(answer_sheet(ex))


def answer_latex(ex: Exercise) -> str:
    """The answer key as a standalone LaTeX document."""
    return _latex(answer_sheet(ex))
