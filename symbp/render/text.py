"""The derivation as plain Unicode text for a terminal (readable in 100 columns)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import sympy as sp

from .. import __version__, naming
from ..derive import Derivation, Gradient, Signal
from ..output import MARKER
from ..spec import plain_name
from .printing import UnicodePrinter, partial, unicode, wrap_product

WIDTH = 100


def activation_text(derivation: Derivation, layer_index: int, z: sp.Symbol) -> str:
    """``σ(z⁽¹⁾₁)`` for a built-in, the formula itself for a custom activation."""
    act = derivation.network.layers[layer_index - 1].activation
    zt = naming.unicode(z)
    if not act.builtin:
        return unicode(act.expr.subs(sp.Symbol("z", real=True), z))
    if act.name == "identity":
        return zt
    if act.name == "softmax":
        return f"softmax(z⁽{layer_index}⁾)ⱼ".translate(
            str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
        )
    return f"{act.text}({zt})"


def describe(derivation: Derivation) -> list[str]:
    """The header: the network, the loss and the notation."""
    net = derivation.network
    sizes = " → ".join(
        [f"{net.inputs} inputs"]
        + [
            f"{lay.units} {lay.activation.name if lay.activation.builtin else 'custom'}"
            for lay in net.layers
        ]
    )
    loss = net.loss
    loss_text = loss.text if loss.builtin else f"Σₖ {unicode(loss.expr)} (custom)"
    return [
        f"{net.name}: backpropagation, scalar form",
        f"network  {sizes}",
        (
            f"loss     {loss.name} = {loss_text}   "
            f"(ŷ = a⁽{len(net.layers)}⁾, batch reduction: {net.reduction})"
        ).replace(
            f"⁽{len(net.layers)}⁾",
            "⁽"
            + str(len(net.layers)).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
            + "⁾",
        ),
        "notation w⁽ˡ⁾ᵢⱼ is W<l>[i−1][j−1], "
        "the weight from unit i of layer l−1 to unit j of layer l;",
        "         z⁽ˡ⁾ⱼ = Σᵢ a⁽ˡ⁻¹⁾ᵢ w⁽ˡ⁾ᵢⱼ + b⁽ˡ⁾ⱼ,  a⁽ˡ⁾ⱼ = f(z⁽ˡ⁾ⱼ),  "
        "a⁽⁰⁾ᵢ = xᵢ,  δ⁽ˡ⁾ⱼ = ∂L/∂z⁽ˡ⁾ⱼ.",
        "         L is one sample's loss; "
        f"batch gradients are the {net.reduction} over samples.",
    ]


def forward(derivation: Derivation) -> list[str]:
    graph = derivation.graph
    lines = ["Forward pass"]
    for layer in derivation.network.layers:
        for z, a in zip(graph.pre[layer.index], graph.act[layer.index], strict=True):
            lines.append(f"  {naming.unicode(z)} = {unicode(graph.nodes[z].expr)}")
            lines.append(
                f"  {naming.unicode(a)} = {activation_text(derivation, layer.index, z)}"
            )
    lines.append(
        "  L = "
        f"{UnicodePrinter({'order': 'none'}).doprint(graph.nodes[graph.loss].expr)}"
    )
    return lines


def signal_lines(signal: Signal) -> list[str]:
    """δ = Σ ∂L/∂child · ∂child/∂z, then the local derivatives, then the result."""
    name = naming.unicode(signal.symbol)
    pad = " " * (len(name) + 2)
    leibniz = " + ".join(
        f"{_adjoint_name(child)} · {partial(child, signal.pre)}"
        for child, _, _ in signal.upstream
    )
    written = " + ".join(
        f"{_grouped(adj)} · {wrap_product(local)}" for _, adj, local in signal.upstream
    )
    product = sp.Add(*(adj * local for _, adj, local in signal.upstream))
    lines = [f"  {name} = {leibniz}", f"  {pad}= {written}"]
    if sp.srepr(signal.expr) != sp.srepr(product):
        lines.append(f"  {pad}= {unicode(signal.expr)}")
    return lines


def _grouped(expr: sp.Expr) -> str:
    """A factor in parentheses unless it is a single symbol or number."""
    text = unicode(expr)
    return text if expr.is_Atom else f"({text})"


def _adjoint_name(symbol: sp.Symbol) -> str:
    return "∂L/∂" + naming.unicode(symbol)


def gradient_lines(
    derivation: Derivation, grad: Gradient, expanded: bool = False
) -> list[str]:
    """The chain for one parameter: Leibniz factors, local derivatives, result.

    With ``expanded``, the result once more in x, y, w and b alone.
    """
    head = f"  ∂L/∂{naming.unicode(grad.symbol)}   ({grad.ref})"
    lines = [head]
    if grad.paths:
        label = "chain" if grad.path_count == 1 else f"sum over {grad.path_count} paths"
        lines.append(f"    {label}")
        for k, path in enumerate(grad.paths):
            lead = "  " if k == 0 else "+ "
            parts = [partial(f.node, f.wrt) for f in path.factors]
            lines += fold("      " + lead, parts)
        lines.append("    local derivatives")
        for k, path in enumerate(grad.paths):
            lead = "  " if k == 0 else "+ "
            lines += fold("      " + lead, [wrap_product(f.expr) for f in path.factors])
    else:
        lines.append(f"    {grad.path_count} paths to the loss; summarised through δ")
    lines.append(f"    = {unicode(grad.expr)}")
    if expanded:
        lines.append("    in x, y, w and b alone")
        text = "= " + unicode(derivation.expanded(grad.symbol, named=True))
        lines += textwrap.wrap(
            text,
            WIDTH,
            initial_indent="    ",
            subsequent_indent="        ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def fold(lead: str, parts: list[str], width: int = WIDTH) -> list[str]:
    """``parts`` joined by ' · ' after ``lead``, broken before a factor that
    would pass ``width`` columns; continuation lines are indented past the lead.

    >>> fold("  ", ["∂L/∂a", "∂a/∂z", "∂z/∂w"], width=16)
    ['  ∂L/∂a · ∂a/∂z', '    · ∂z/∂w']
    """
    lines, line = [], lead + parts[0]
    for part in parts[1:]:
        if len(line) + 3 + len(part) > width:
            lines.append(line)
            line = " " * (len(lead) + 2) + "· " + part
        else:
            line += " · " + part
    return [*lines, line]


def _fmt(value: float) -> str:
    return f"{value: .6f}" if abs(value) >= 1e-4 or value == 0 else f"{value: .6e}"


def example_lines(derivation: Derivation, numbers, only=None) -> list[str]:
    """The worked example: forward values, loss, δ, gradients and the step."""
    graph, net = derivation.graph, derivation.network
    samples = len(numbers.x)
    cols = (
        "".join(f"  sample {s + 1:<6}" for s in range(samples)) if samples > 1 else ""
    )
    lines = [
        f"Worked example ({samples} sample{'s' if samples > 1 else ''}, "
        f"learning rate α = {numbers.learning_rate:g})",
        "  Forward values" + (" " * 8 + cols if cols else ""),
    ]

    def row(symbol: sp.Symbol) -> str:
        vals = numbers.values[symbol]
        return f"    {naming.unicode(symbol):<12}" + "".join(
            f"{_fmt(v):>16}" for v in vals
        )

    for sym in [*graph.inputs]:
        lines.append(row(sym))
    for layer in net.layers:
        for z, a in zip(graph.pre[layer.index], graph.act[layer.index], strict=True):
            lines += [row(z), row(a)]
    for sym in graph.targets:
        lines.append(row(sym))
    lines.append(row(graph.loss))
    lines.append(
        f"  Loss ({net.reduction} over {samples} sample{'s' if samples > 1 else ''}) "
        f"L = {numbers.loss:.6f}"
    )
    lines.append("  Error signals δ")
    for signal in derivation.signals:
        lines.append(row(signal.symbol))
    lines.append("  Gradients and one step w ← w − α·∂L/∂w")
    lines.append(f"    {'parameter':<12}{'value':>16}{'∂L/∂w':>16}{'updated':>16}")
    for g in only if only is not None else derivation.gradients:
        lines.append(
            f"    {g.ref:<12}{_fmt(numbers.params[g.param][g.index]):>16}"
            f"{_fmt(numbers.gradients[g.param][g.index]):>16}{_fmt(numbers.updated[g.param][g.index]):>16}"
        )
    return lines


def render(
    derivation: Derivation,
    numbers=None,
    *,
    only: list[Gradient] | None = None,
    expanded: bool = False,
) -> str:
    """The whole derivation as terminal text; ``expanded`` adds each gradient in
    x, y, w and b alone (networks of up to 40 parameters).

    Examples
    --------
    >>> from symbp.spec import example
    >>> text = render(Derivation(example("xor")))
    >>> print(text.splitlines()[0])
    xor: backpropagation, scalar form
    """
    grads = only if only is not None else derivation.gradients
    sections = [describe(derivation), forward(derivation)]
    signals = ["Error signals δ = ∂L/∂z (output layer first)"]
    for signal in derivation.signals:
        signals += signal_lines(signal)
    sections.append(signals)
    body = ["Gradients ∂L/∂w = Σ over paths of the product of local derivatives"]
    for g in grads:
        body += gradient_lines(derivation, g, expanded)
    sections.append(body)
    if numbers is not None:
        sections.append(example_lines(derivation, numbers, only))
    sections.append([signature(derivation.network)])
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def signature(network) -> str:
    """The last line: symbp's marker, so that ``-o`` may replace its own file.

    >>> from symbp.spec import example
    >>> signature(example("xor"))
    'Generated by symbp 0.1.0 from xor.toml.'
    """
    source = plain_name(Path(network.source).name)
    return f"{MARKER} {__version__} from {source}."
