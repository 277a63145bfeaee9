"""The content of a derivation document, shared by the LaTeX and Markdown renderers.

A :class:`Document` is a list of :class:`Section` s, each a list of blocks:

``Para``
    Prose written by symbp, with inline math in ``$…$`` (valid LaTeX and
    Markdown alike; it never holds user text).
``Math``
    The body of an ``aligned`` block, rows built by :class:`~.texmath.Lines`.
``Table``
    A header and rows of cells, each cell prose or ``$…$`` math.
``Code``
    A label and a piece of *user* text (a formula as the spec wrote it), which
    the template escapes for its format.

The templates lay the blocks out; they never build math. Everything here walks
the :class:`~symbp.derive.Derivation`: the chain rule comes from its signals and
gradients, the numbers from its :class:`~symbp.numeric.Numbers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import sympy as sp

from .. import __version__, naming
from ..functions import Z
from ..spec import Network
from . import texmath as tm
from .texmath import Lines, fmt, partial, tex


@dataclass
class Para:
    """Prose by symbp, inline math in ``$…$``."""

    text: str
    kind: str = "para"


@dataclass
class Math:
    """The body of one ``aligned`` block."""

    body: str
    kind: str = "math"


@dataclass
class Table:
    """A table: header cells, rows of cells, LaTeX column alignment (``lrr``)."""

    header: list[str]
    rows: list[list[str]]
    align: str
    kind: str = "table"


@dataclass
class Code:
    """A label by symbp and a piece of user text, escaped by the template."""

    label: str
    text: str
    kind: str = "code"


@dataclass
class Figure:
    """A picture in a file beside the document (a plain name), and its caption.

    The caption is prose by symbp, inline math in ``$…$``.
    """

    path: str
    caption: str
    kind: str = "figure"


@dataclass
class Section:
    """A titled section (level 1) or subsection (level 2) of blocks."""

    title: str
    blocks: list = field(default_factory=list)
    level: int = 1


@dataclass
class Document:
    """What a template needs: the spec's name (user text), version and sections."""

    name: str
    subtitle: str
    sections: list[Section]
    version: str = __version__

    @property
    def graphics(self) -> bool:
        """Whether a block shows a picture (LaTeX then loads graphicx)."""
        return any(b.kind == "figure" for s in self.sections for b in s.blocks)


def math(lines: Lines) -> Math:
    """A :class:`Math` block from laid-out rows."""
    return Math(lines.body())


# -- the network and its notation -----------------------------------------------


def activation_cell(network: Network, index: int) -> str:
    """The activation of layer ``index`` for the network table."""
    act = network.layers[index - 1].activation
    if act.name == "softmax":
        return r"$\operatorname{softmax}$: $a_j = e^{z_j} / \sum_k e^{z_k}$"
    if not act.builtin:
        return f"custom: $f(z) = {tex(act.expr, fold_short_frac=True)}$"
    if act.name == "identity":
        return "identity: $f(z) = z$"
    return f"{act.name}: ${act.latex}(z) = {tex(act.expr, fold_short_frac=True)}$"


def network_section(network: Network) -> Section:
    """Section 1: the layers, the loss and the notation, stated once."""
    rows = [["0 (input)", str(network.inputs), "$a^{(0)}_i = x_i$", "--"]]
    for lay in network.layers:
        rows.append(
            [
                str(lay.index),
                str(lay.units),
                activation_cell(network, lay.index),
                "yes" if lay.bias else "no",
            ]
        )
    blocks: list = [
        Para(
            f"The network has {network.inputs} inputs, {len(network.layers)} "
            f"layer{'s' if len(network.layers) > 1 else ''} and "
            f"{network.param_count()} parameters."
        ),
        Table(["layer $l$", "units", "activation $f$", "bias"], rows, "rrll"),
    ]
    blocks += [
        Code(
            f"Layer {lay.index}'s activation as the spec writes it:",
            lay.activation.source_text,
        )
        for lay in network.layers
        if not lay.activation.builtin
    ]
    blocks += loss_blocks(network)
    blocks += notation_blocks(network)
    return Section("The network", blocks)


def loss_blocks(network: Network) -> list:
    """The loss of one sample, and how a batch reduces it."""
    loss, last = network.loss, len(network.layers)
    if loss.builtin:
        definition = f"L = {loss.latex}"
        name = f"{loss.name.replace('_', ' ')}"
    else:
        ell = tex(
            loss.expr,
            {
                sp.Symbol("yhat", real=True): r"\hat y_k",
                sp.Symbol("y", real=True): "y_k",
            },
        )
        definition = (
            rf"L = \sum_k {ell}"
            if "+" not in ell and "-" not in ell
            else rf"L = \sum_k \left({ell}\right)"
        )
        name = "custom"
    reduction = "mean" if network.reduction == "mean" else "sum"
    blocks: list = [
        Para(f"The loss ({name}) of one sample, with $\\hat y_k = a^{{({last})}}_k$:"),
        Math(f"{definition}"),
    ]
    if not loss.builtin:
        blocks.append(
            Code("The loss of one output as the spec writes it:", loss.source_text)
        )
    blocks.append(
        Para(
            f"Over a batch of $N$ samples the loss and its gradients are the "
            f"{reduction} "
            "over the samples of the quantities derived below for one sample."
        )
    )
    return blocks


def notation_blocks(network: Network) -> list:
    """The notation, stated once for the whole document."""
    rows = Lines()
    rows.equation(
        "z^{(l)}_j",
        [
            r"\sum_i a^{(l-1)}_i\, w^{(l)}_{ij} + b^{(l)}_j,"
            r"\qquad a^{(l)}_j = f\left(z^{(l)}_j\right),"
            r"\qquad a^{(0)}_i = x_i,"
            r"\qquad \delta^{(l)}_j = \frac{\partial L}{\partial z^{(l)}_j}"
        ],
    )
    return [
        Para(
            "Notation: $w^{(l)}_{ij}$ is the weight from unit $i$ of layer $l-1$ to "
            "unit $j$ of layer $l$, entry $[i-1][j-1]$ of the array $W_l$ "
            "(indices in the document count from 1, in arrays from 0); "
            "$b^{(l)}_j$ is the bias of unit $j$; $z$ is a pre-activation, $a$ an "
            "activation and $\\delta$ an error signal:"
        ),
        math(rows),
    ]


# -- the forward pass ----------------------------------------------------------


def activation_tex(network: Network, graph, act_symbol: sp.Symbol, values=None) -> str:
    """a = f(z) as the document writes it, or with numbers in place of symbols."""
    node = graph.nodes[act_symbol]
    act = network.layers[node.layer - 1].activation
    z = node.parents[node.index[0]] if act.name == "softmax" else node.parents[0]
    if act.name == "softmax" or not act.builtin:
        expr = node.expr if act.name == "softmax" else act.expr.subs(Z, z)
        return tm.substituted(expr, values) if values is not None else tex(expr)
    arg = fmt(values[z]) if values is not None else naming.latex(z)
    if act.name == "identity":
        return arg
    return rf"{act.latex}({arg})"


def pre_terms(derivation, z: sp.Symbol) -> list[sp.Expr]:
    """z's terms in textbook order: a₁w₁ⱼ + a₂w₂ⱼ + … + bⱼ."""
    node = derivation.graph.nodes[z]
    fan_in = derivation.network.layers[node.layer - 1].fan_in
    below, rest = node.parents[:fan_in], node.parents[fan_in:]
    products = [
        sp.Mul(a, w, evaluate=False) for a, w in zip(below, rest[:fan_in], strict=True)
    ]
    return products + list(rest[fan_in:])


def pre_pieces(derivation, z: sp.Symbol, values=None) -> list[str]:
    """z's sum as breakable pieces, with numbers in place of symbols if given."""
    show = (lambda e: tm.substituted(e, values)) if values is not None else tex
    return tm.signed(show(t) for t in pre_terms(derivation, z))


def forward_section(derivation) -> Section:
    """Section 2: each z and a of one sample, then its loss."""
    graph, net = derivation.graph, derivation.network
    rows = Lines()
    for lay in net.layers:
        for z, a in zip(graph.pre[lay.index], graph.act[lay.index], strict=True):
            rows.equation(naming.latex(z), pre_pieces(derivation, z))
            rows.equation(naming.latex(a), [activation_tex(net, graph, a)])
        rows.gap()
    rows.equation("L", tm.split(graph.nodes[graph.loss].expr))
    return Section("The forward pass", [Para("For one sample:"), math(rows)])


# -- the chain rule ------------------------------------------------------------


def _adjoint_name(symbol: sp.Symbol) -> str:
    return partial(naming.LOSS, symbol)


def signal_rows(rows: Lines, signal) -> None:
    """δ: the chain rule over z's children, the local derivatives, the result."""
    lhs = naming.latex(signal.symbol)
    leibniz = [
        [_adjoint_name(child), partial(child, signal.pre)]
        for child, _, _ in signal.upstream
    ]
    rows.equation(lhs, [p for group in tm.paths(leibniz) for p in group])
    written = [
        [tm.factor(adj), tm.factor(local)] if adj != 1 else [tm.factor(local)]
        for _, adj, local in signal.upstream
    ]
    rows.equation(
        "", [p for g in tm.paths([tm.product(g) for g in written]) for p in g]
    )
    product = sp.Add(*(adj * local for _, adj, local in signal.upstream))
    if sp.srepr(signal.expr) != sp.srepr(product):
        rows.equation("", tm.split(signal.expr))
    rows.gap()


def signals_section(derivation, signals) -> Section:
    """Section 3a: every error signal, output layer first."""
    blocks: list = [
        Para(
            "Each error signal $\\delta = \\partial L/\\partial z$ is the sum, over "
            "the "
            "nodes that use $z$, of that node's gradient times its local derivative. "
            "Signals of one layer are written through those of the next, so each "
            "formula stays short at any depth. Output layer first:"
        )
    ]
    rows = Lines()
    for s in signals:
        signal_rows(rows, s)
    if rows:
        blocks.append(math(rows))
    return Section("Error signals", blocks, level=2)


def gradient_blocks(derivation, grad, expanded: bool = False) -> list:
    """One parameter: the chain along each path, the local derivatives, the result.

    With ``expanded``, the result once more in x, y, w and b alone.
    """
    head = Para(
        f"$\\partial L/\\partial {naming.latex(grad.symbol)}$, "
        f"array entry $\\mathtt{{{grad.param}[{']['.join(map(str, grad.index))}]}}$"
        + (f", {grad.path_count} paths to the loss:" if grad.path_count > 1 else ":")
    )
    rows = Lines()
    lhs = partial(naming.LOSS, grad.symbol)
    if grad.paths:
        leibniz = [[partial(f.node, f.wrt) for f in p.factors] for p in grad.paths]
        locals_ = [tm.product(tm.factor(f.expr) for f in p.factors) for p in grad.paths]
        first, *rest = tm.paths(leibniz)
        rows.equation(lhs, first)
        for group in rest:
            rows.continued(group)
        first, *rest = tm.paths(locals_)
        rows.equation("", first)
        for group in rest:
            rows.continued(group)
    else:
        pre = derivation.graph.children[grad.symbol][0]
        rows.equation(lhs, [_adjoint_name(pre), partial(pre, grad.symbol)])
        head.text = head.text[:-1] + "; they are summed in the error signal:"
    rows.equation("", tm.split(grad.expr))
    if expanded:
        rows.text("in the inputs, targets, weights and biases alone:")
        rows.equation("", tm.split(derivation.expanded(grad.symbol, named=True)))
    return [head, math(rows)]


def gradients_section(derivation, grads, expanded: bool = False) -> Section:
    """Section 3b: each chosen parameter's chain."""
    blocks: list = [
        Para(
            "The gradient of a parameter is the sum over the paths from it to the loss "
            "of the product of the local derivatives along the path; grouped by error "
            "signals it is the signal of the unit the parameter feeds, times that "
            "unit's input."
        )
    ]
    for g in grads:
        blocks += gradient_blocks(derivation, g, expanded)
    return Section("Gradients of the parameters", blocks, level=2)


def needed_signals(derivation, grads) -> list:
    """The signals the chosen gradients use, directly or through other signals."""
    wanted: set[sp.Symbol] = set()
    todo = [s for g in grads for s in g.expr.free_symbols]
    by_symbol = {s.symbol: s for s in derivation.signals}
    while todo:
        sym = todo.pop()
        if sym in by_symbol and sym not in wanted:
            wanted.add(sym)
            todo += list(by_symbol[sym].expr.free_symbols)
    return [s for s in derivation.signals if s.symbol in wanted]


# -- the whole document --------------------------------------------------------


def graph_section(figure: Figure) -> Section:
    """The computational graph as a picture (``--graph``)."""
    return Section("The computational graph", [figure])


def graph_caption(form: str, numbers=None) -> str:
    """The caption of the picture of a graph in ``form`` (scalar or layer)."""
    if form == "layer":
        return (
            "The computational graph in layer form, from the input to the loss: one "
            "node per operation, with the shapes of the arrays for a batch of $N$ "
            "samples."
        )
    text = (
        "The computational graph, one node per scalar, from the inputs to the loss. "
        "The two edges of each product $a^{(l-1)}_i w^{(l)}_{ij}$ share a colour "
        "and are labelled with the other factor."
    )
    if numbers is not None:
        sample = " of the first sample" if len(numbers.x) > 1 else ""
        text += (
            f" Each node shows its forward value{sample} and, in red, its adjoint "
            r"$\partial L/\partial$node ($\delta$ for a $z$)."
        )
    return text


def build(
    derivation, numbers=None, *, only=None, figure=None, expanded: bool = False
) -> Document:
    """The document of a derivation: every section, or one parameter's (``only``).

    A :class:`Figure` (``figure``) becomes a section after the network's; with
    ``expanded``, each gradient is also written in x, y, w and b alone.
    """
    from .layerdoc import layer_section, stable_section
    from .worked import example_sections

    net = derivation.network
    grads = list(only) if only is not None else list(derivation.gradients)
    signals = (
        needed_signals(derivation, grads) if only is not None else derivation.signals
    )
    chain = Section(
        "Backpropagation, one weight at a time",
        [
            Para(
                "The chain rule in Leibniz form, then with each local derivative "
                "written out, then simplified."
            )
        ],
    )
    sections = [
        network_section(net),
        *([graph_section(figure)] if figure is not None else []),
        forward_section(derivation),
        chain,
        signals_section(derivation, signals),
        gradients_section(derivation, grads, expanded),
    ]
    if only is None:
        sections.append(layer_section(net))
        stable = stable_section(net)
        sections += [stable] if stable else []
    if numbers is not None:
        from .worked import example_sections

        sections += example_sections(derivation, numbers, grads, signals)
    subtitle = "backpropagation"
    if only is not None:
        subtitle += (
            " of "
            + ", ".join(g.ref for g in grads[:6])
            + (", ..." if len(grads) > 6 else "")
        )
    return Document(net.name, subtitle, sections)


def build_network(network: Network, *, figure=None) -> Document:
    """The document of a network too large for the scalar derivation: layer form."""
    from .layerdoc import network_only_sections

    reason = (
        f"The network has {network.param_count()} parameters, too many to derive "
        "one weight at a time; this document derives backpropagation for whole "
        "layers, which does not depend on their width."
    )
    sections = [
        network_section(network),
        *([graph_section(figure)] if figure is not None else []),
        *network_only_sections(network, reason),
    ]
    return Document(network.name, "backpropagation in layer form", sections)


# -- templates -----------------------------------------------------------------


def template_folder() -> Path:
    """The folder of symbp's Jinja templates (package ``symbp.templates``).

    In a source checkout that has not been installed the package is the
    top-level ``templates/`` folder beside ``symbp/``.
    """
    try:
        from importlib.resources import files

        return Path(str(files("symbp.templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "templates"


def load_template(name: str, filters: dict, **syntax: str) -> jinja2.Template:
    """A template that fails on any undefined name, with the given filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_folder())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        **syntax,
    )
    env.filters.update(filters)
    return env.get_template(name)
