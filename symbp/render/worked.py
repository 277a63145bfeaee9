"""The worked example of a document: formula, numbers substituted, result.

Each line is written as a careful student would: the formula from the
derivation, then the same formula with the example's numbers in place of its
symbols, then the value. The values are those of
:meth:`symbp.derive.Derivation.evaluate`, the same numbers as the JSON output and
``symbp check``; nothing is computed here but the display.
"""

from __future__ import annotations

import sympy as sp

from .. import naming
from . import texmath as tm
from .document import Math, Para, Section, Table, activation_tex, math, pre_pieces
from .texmath import Lines, fmt


def sample_values(derivation, numbers, sample: int) -> dict[sp.Symbol, float]:
    """Every symbol's value for one sample: nodes, signals and parameters."""
    values = {sym: float(v[sample]) for sym, v in numbers.values.items()}
    for name, entries in derivation.graph.params.items():
        for index, sym in entries:
            values[sym] = float(numbers.params[name][index])
    return values


def _vector(values: list[float]) -> str:
    return r"\left(" + ",\\ ".join(fmt(v) for v in values) + r"\right)"


def sample_block(derivation, numbers, sample: int, signals) -> list:
    """The forward pass and the error signals of one sample."""
    graph, net = derivation.graph, derivation.network
    values = sample_values(derivation, numbers, sample)
    rows = Lines()
    for lay in net.layers:
        for z, a in zip(graph.pre[lay.index], graph.act[lay.index], strict=True):
            rows.equation(naming.latex(z), pre_pieces(derivation, z))
            rows.equation(
                "", [*pre_pieces(derivation, z, values), "= " + fmt(values[z])]
            )
            rows.equation(naming.latex(a), [activation_tex(net, graph, a)])
            shown = activation_tex(net, graph, a, values)
            result = [] if shown == fmt(values[a]) else ["= " + fmt(values[a])]
            rows.equation("", [shown, *result])
            rows.gap()
    loss = graph.nodes[graph.loss].expr
    rows.equation("L", tm.split(loss))
    rows.equation("", [*tm.split(loss, values), "= " + fmt(values[graph.loss])])
    deltas = Lines()
    for s in signals:
        deltas.equation(naming.latex(s.symbol), tm.split(s.expr))
        deltas.equation("", [*tm.split(s.expr, values), "= " + fmt(values[s.symbol])])
        deltas.gap()
    x = _vector([values[s] for s in graph.inputs])
    y = _vector([values[s] for s in graph.targets])
    intro = f"$x = {x}$, target $y = {y}$. Forward pass:"
    blocks: list = [Para(intro), math(rows)]
    if signals:
        blocks += [Para("Error signals, output layer first:"), math(deltas)]
    return blocks


def loss_block(derivation, numbers) -> list:
    """The batch loss from the per-sample losses."""
    count = len(numbers.x)
    if count == 1:
        return []
    rows = Lines()
    parts = [fmt(v) for v in numbers.sample_losses]
    if numbers.reduction == "mean":
        rows.equation(
            "L", [rf"\frac{{1}}{{{count}}}\left(" + " + ".join(parts) + r"\right)"]
        )
    else:
        rows.equation("L", [" + ".join(parts)])
    rows.equation("", [fmt(numbers.loss)])
    return [
        Para(f"The loss of the batch is the {numbers.reduction} over its samples:"),
        math(rows),
    ]


def gradient_rows(derivation, numbers, grads) -> Lines:
    """Each gradient: its formula, the numbers, the batch's value."""
    count = len(numbers.x)
    per_sample = [sample_values(derivation, numbers, n) for n in range(count)]
    rows = Lines()
    for g in grads:
        lhs = rf"\partial L/\partial {naming.latex(g.symbol)}"
        rows.equation(lhs, tm.split(g.expr))
        result = "= " + fmt(numbers.gradients[g.param][g.index])
        if count == 1:
            if g.expr.is_Symbol:
                rows.rows[-1] += " " + result
            else:
                rows.equation("", [*tm.split(g.expr, per_sample[0]), result])
        else:
            scale = rf"\frac{{1}}{{{count}}}" if numbers.reduction == "mean" else ""
            terms = [tm.substituted(g.expr, v) for v in per_sample]
            pieces = [rf"{scale}\Big(" + terms[0]] + [f"+ {t}" for t in terms[1:]]
            pieces[-1] += r"\Big)"
            rows.equation("", [*pieces, result])
        rows.gap()
    return rows


def update_rows(derivation, numbers, grads) -> Lines:
    """One plain step: p ← p − α ∂L/∂p, formula, numbers, result."""
    rate = numbers.learning_rate
    rows = Lines()
    for g in grads:
        name = naming.latex(g.symbol)
        old = float(numbers.params[g.param][g.index])
        grad = float(numbers.gradients[g.param][g.index])
        new = float(numbers.updated[g.param][g.index])
        rows.equation(
            name,
            [
                rf"{name} - \alpha\, \partial L/\partial {name}",
                rf"= {fmt(old)} - {tm.number(rate)} \cdot {tm.number(grad)}",
                f"= {fmt(new)}",
            ],
            rel=r"\leftarrow",
        )
    return rows


def value_table(derivation, numbers, signals) -> Table:
    """Summary: every per-sample value, one column per sample."""
    graph, net = derivation.graph, derivation.network
    count = len(numbers.x)
    symbols = list(graph.inputs)
    for lay in net.layers:
        for z, a in zip(graph.pre[lay.index], graph.act[lay.index], strict=True):
            symbols += [z, a]
    symbols += [*graph.targets, graph.loss, *(s.symbol for s in signals)]
    header = ["quantity"] + (
        ["value"] if count == 1 else [f"sample {n + 1}" for n in range(count)]
    )
    rows = [
        [f"${naming.latex(s)}$"] + [f"${fmt(v)}$" for v in numbers.values[s]]
        for s in symbols
    ]
    return Table(header, rows, "l" + "r" * count)


def param_table(numbers, grads) -> Table:
    """Summary: each parameter's value, gradient and value after the step."""
    rows = []
    for g in grads:
        ref = f"{g.param}[{']['.join(map(str, g.index))}]"
        rows.append(
            [
                rf"$\mathtt{{{ref}}}$",
                f"${naming.latex(g.symbol)}$",
                f"${fmt(numbers.params[g.param][g.index])}$",
                f"${fmt(numbers.gradients[g.param][g.index])}$",
                f"${fmt(numbers.updated[g.param][g.index])}$",
            ]
        )
    header = [
        "entry",
        "parameter",
        "value",
        r"$\partial L/\partial p$",
        "after the step",
    ]
    return Table(header, rows, "llrrr")


def example_sections(derivation, numbers, grads, signals) -> list[Section]:
    """Section 6 and the summary tables."""
    count = len(numbers.x)
    blocks: list = [
        Para(
            f"The example has {count} sample{'s' if count > 1 else ''} and the "
            f"learning rate $\\alpha = {numbers.learning_rate:g}$. Each line gives the "
            "formula, the numbers substituted, and the result."
        )
    ]
    sections = [Section("Worked example", blocks)]
    for n in range(count):
        title = "The sample" if count == 1 else f"Sample {n + 1}"
        sections.append(
            Section(title, sample_block(derivation, numbers, n, signals), level=2)
        )
    grad_blocks = loss_block(derivation, numbers)
    intro = "Gradients" + (
        f" of the batch, the {numbers.reduction} of the per-sample values:"
        if count > 1
        else ":"
    )
    grad_blocks += [Para(intro), math(gradient_rows(derivation, numbers, grads))]
    sections.append(Section("Loss and gradients", grad_blocks, level=2))
    step = [
        Para(
            "One plain gradient step, $p \\leftarrow p - \\alpha\\, \\partial "
            "L/\\partial p$:"
        ),
        math(update_rows(derivation, numbers, grads)),
    ]
    sections.append(Section("One step", step, level=2))
    tables = [
        Para("Forward values and error signals:"),
        value_table(derivation, numbers, signals),
        Para(
            f"Parameters, gradients and one step with $\\alpha = "
            f"{numbers.learning_rate:g}$:"
        ),
        param_table(numbers, grads),
    ]
    sections.append(Section("Summary", tables))
    return sections


__all__ = ["Math", "example_sections"]
