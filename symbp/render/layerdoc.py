"""The layer (matrix) form of a document, and the numerically stable forms.

Walks a :class:`symbp.layers.LayerDerivation`: each layer's δ as an elementwise
expr over whole arrays, the matrix rules for ∂L/∂W and ∂L/∂b, and the shapes.
Where the generated code computes a quantity in a form other than the textbook
one (an activation's derivative through its output, a fused output δ, a
log-sum-exp), :func:`stable_section` shows both forms and says why. Needs only a
:class:`~symbp.spec.Network`, so it also serves networks too large for the
scalar derivation.
"""

from __future__ import annotations

import sympy as sp

from .. import layers as layerform
from .. import naming, rewrite
from ..functions import YHAT, A, Y, Z
from ..spec import Network
from . import texmath as tm
from .document import Para, Section, Table, math
from .texmath import Lines, partial, tex

_ODOT = r" \odot "


def _names(net: Network, index: int) -> dict[sp.Symbol, str]:
    """How the layer symbols of :mod:`symbp.layers` print for layer ``index``."""
    nxt = index + 1
    return {
        A: naming.latex_array(f"a{index}"),
        Z: naming.latex_array(f"z{index}"),
        Y: naming.latex_array("y"),
        layerform.N: "N",
        layerform.BACK: rf"\left({naming.latex_array(f'delta{nxt}')}\,"
        rf"{tm.transposed(naming.latex_array(f'W{nxt}'))}\right)",
        layerform.ROWSUM: rf"\operatorname{{rowsum}}({naming.latex_array('y')})",
        rewrite.SHIFTED: rf"\tilde{{\bm{{z}}}}^{{({index})}}",
        rewrite.EXPSUM: rf"\bm{{s}}^{{({index})}}",
    }


def elementwise(expr: sp.Expr, names: dict) -> str:
    """An elementwise array expr: products of arrays written with ⊙."""
    text = tex(expr, names, mul_symbol=_ODOT)
    for k in range(10):
        text = text.replace(f"{k}{_ODOT}", f"{k} ")
    return text


def _shape(shape) -> str:
    return r" \times ".join(tex(sp.sympify(s)) for s in shape)


def _derive(net: Network):
    return layerform.derive(net)


def layer_section(net: Network) -> Section:
    """Section 4: δ, the recursion, ∂L/∂W and ∂L/∂b over a batch, with shapes."""
    d = _derive(net)
    last = len(net.layers)
    blocks: list = [
        Para(
            "Over a batch of $N$ samples each quantity of a layer is an array whose "
            "rows are the samples: $\\bm{a}^{(0)}$ holds the inputs, $\\bm{y}$ the "
            "targets, and a bias row is added to every row. Products of arrays "
            "written $\\odot$ are elementwise; the others are matrix products."
        )
    ]
    rows = Lines()
    rows.equation(
        naming.latex_array("z1").replace("(1)", "(l)"),
        [
            r"\bm{a}^{(l-1)} \bm{W}^{(l)} + \bm{b}^{(l)},"
            r"\qquad \bm{a}^{(l)} = f\left(\bm{z}^{(l)}\right)"
        ],
    )
    blocks.append(math(rows))

    # Backward: the output layer first, then each hidden layer's recursion.
    rows = Lines()
    uses_step = False
    for form in reversed(d.layers):
        names = _names(net, form.index)
        lhs = naming.latex_array(f"delta{form.index}")
        if not form.output:
            z = naming.latex_array(f"z{form.index}")
            rows.equation(lhs, [rf"{names[layerform.BACK]} \odot f'({z})"])
            rows.equation("", [elementwise(form.delta, names)])
        else:
            rows.equation(lhs, [elementwise(form.delta, names)])
        uses_step |= form.delta.has(sp.Heaviside)
        rows.equation(
            partial("L", naming.latex_array(f"W{form.index}")),
            [tex(form.grad_weight)],
        )
        if form.grad_bias is not None:
            rows.equation(
                partial("L", naming.latex_array(f"b{form.index}")),
                [rf"\sum_{{n=1}}^{{N}} {lhs}_{{n}}"],
            )
        rows.gap()
    blocks += [
        Para(
            f"Backpropagation, from the output layer ${last}$ down; each hidden "
            f"layer's "
            "signal is the next layer's signal carried back through its weights, "
            "times the derivative of the activation:"
        ),
        math(rows),
    ]
    notes = []
    if uses_step:
        notes.append("$H$ is the unit step, the derivative of relu.")
    if d.output.rowsum is not None:
        notes.append(
            "$\\operatorname{rowsum}(\\bm{y})$ is each row's sum of targets, "
            "broadcast across the row; for one-hot targets it is 1, and "
            f"$\\bm{{\\delta}}^{{({last})}} = (\\bm{{a}}^{{({last})}} - \\bm{{y}})/N$."
        )
    blocks += [Para(" ".join(notes))] if notes else []
    blocks.append(Para("Shapes, with $N$ the number of samples:"))
    shape_rows = []
    for form in d.layers:
        s = form.shapes
        shape_rows.append(
            [
                str(form.index),
                f"${_shape(s['z'])}$",
                f"${_shape(s['W'])}$",
                f"${_shape(s['b'])}$" if "b" in s else "--",
            ]
        )
    header = [
        "layer $l$",
        r"$\bm{z}^{(l)}, \bm{a}^{(l)}, \bm{\delta}^{(l)}$",
        r"$\bm{W}^{(l)}$",
        r"$\bm{b}^{(l)}$",
    ]
    blocks.append(Table(header, shape_rows, "rccc"))
    return Section("Backpropagation in layer form", blocks)


def stable_section(net: Network) -> Section | None:
    """Section 5: where the code's form differs from the textbook's, both, and why."""
    d = _derive(net)
    blocks: list = []
    seen: set[str] = set()

    # Activation derivatives written through the activation's own output.
    for form in d.layers:
        act = form.activation
        if act.name in seen or not act.elementwise or form.output:
            continue
        seen.add(act.name)
        through = act.derivative_of_output
        if through is None or through == act.derivative:
            continue
        rows = Lines()
        rows.equation("f'(z)", [tex(act.derivative)])
        rows.equation("", [tex(through), r"\quad\text{with } a = f(z)"])
        blocks += [
            Para(
                f"The derivative of {_act_name(act)} is written through the "
                "activation $a$ itself, which the forward pass has already computed; "
                "the code evaluates no exponential for it:"
            ),
            math(rows),
        ]

    # Activations whose forward formula is rewritten to avoid overflow.
    if any(f.forward.has(rewrite.Sigmoid) for f in d.layers):
        blocks.append(
            Para(
                "The sigmoid $\\sigma(z) = 1/(1 + e^{-z})$ overflows $e^{-z}$ for "
                "large "
                "negative $z$; the code computes $e^{z}/(1 + e^{z})$ there instead, "
                "the same value."
            )
        )
    if any(f.forward.has(rewrite.LogAddExp) for f in d.layers):
        blocks.append(
            Para(
                "$\\log(1 + e^{z})$ is computed as "
                "$\\operatorname{logaddexp}(0, z) = \\max(0, z) + \\log(1 + "
                "e^{-|z|})$, "
                "which never overflows."
            )
        )

    # The output layer: the loss and its activation fused into one δ.
    out = d.output
    names = _names(net, out.index)
    if out.softmax:
        blocks.append(
            Para(
                "Softmax and cross-entropy are differentiated together: with "
                "$g_k = \\partial \\ell/\\partial \\hat y_k$ the softmax rule "
                "$\\delta_k = \\hat y_k (g_k - \\sum_j \\hat y_j g_j)$ collapses to "
                "the "
                f"expression of $\\bm{{\\delta}}^{{({out.index})}}$ above, "
                "which divides by no $\\hat y$. The softmax itself is computed from "
                "$\\tilde{\\bm z} = \\bm z - \\max_j z_j$ (row by row), so no "
                "exponential "
                "overflows, with $\\bm s$ the row sums of $e^{\\tilde{\\bm z}}$."
            )
        )
    elif out.activation.elementwise:
        textbook = (
            sp.diff(net.loss.expr, YHAT).subs(YHAT, A) * out.activation.local_derivative
        )
        if sp.srepr(textbook) != sp.srepr(out.derivative):
            rows = Lines()
            rows.equation(
                r"\frac{\partial \ell}{\partial \hat y}\, f'(z)",
                [elementwise(textbook, names)],
            )
            rows.equation("", [elementwise(out.derivative, names)])
            blocks += [
                Para(
                    "At the output the loss's derivative and the activation's are "
                    "multiplied and simplified together (for one output, before the "
                    "batch's scale); the code uses the simplified form:"
                ),
                math(rows),
            ]

    # The loss, where it holds a log: computed from z, not from the output.
    if net.loss.expr.has(sp.log) and d.loss_terms.has(Z, rewrite.SHIFTED):
        rows = Lines()
        rows.equation(r"\ell", [elementwise(net.loss.expr.subs(YHAT, A), names)])
        rows.equation("", [elementwise(d.loss_terms, names)])
        blocks += [
            Para(
                "The loss holds a logarithm of the output, which is $-\\infty$ when "
                "the "
                "output underflows to 0; the code computes it from the pre-activation "
                "as a log-sum-exp, which stays finite:"
            ),
            math(rows),
        ]
    if not blocks:
        return None
    intro = Para(
        "Where the generated code computes a quantity in another form than the "
        "textbook's, here are both, and why."
    )
    return Section("Numerically stable forms", [intro, *blocks])


def _act_name(act) -> str:
    return f"${act.latex}$" if act.builtin else "the custom activation"


def network_only_sections(net: Network, reason: str) -> list[Section]:
    """Sections for a network with no scalar derivation: layer form only."""
    sections = [layer_section(net)]
    sections[0].blocks.insert(0, Para(reason))
    stable = stable_section(net)
    return sections + ([stable] if stable else [])


__all__ = ["layer_section", "stable_section", "network_only_sections", "tm"]
