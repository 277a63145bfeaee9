"""The registry of primitives: activations and losses, each one SymPy formula.

Every activation and loss symbp knows is one entry here, carrying its SymPy
formula and its names in text and LaTeX. Derivatives are never written down:
they are derived from the formula by SymPy (:attr:`Activation.derivative`), and
re-expressed through the activation's own output where SymPy finds such a form
(:attr:`Activation.derivative_of_output`, for example σ' = σ(1 − σ)).

Contract for an entry: an activation's formula uses the real symbol :data:`Z`;
a loss's formula is the loss of one output in :data:`YHAT` and :data:`Y`, and
``over_outputs`` says whether a sample's loss sums or averages them. ``softmax``
is the one activation that is not elementwise: its formula is built per layer
by :func:`softmax`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from . import formula
from .errors import SpecError, suggest

Z = sp.Symbol("z", real=True)
A = sp.Symbol("a", real=True)
YHAT = sp.Symbol("yhat", real=True)
Y = sp.Symbol("y", real=True)


@dataclass(frozen=True)
class Activation:
    """An activation function: a built-in name or a formula in ``z``.

    Examples
    --------
    >>> ACTIVATIONS["sigmoid"].derivative_of_output
    a*(1 - a)
    >>> ACTIVATIONS["tanh"].derivative_of_output
    1 - a**2
    >>> ACTIVATIONS["relu"].derivative
    Heaviside(z)
    """

    name: str
    expr: sp.Expr | None
    text: str
    latex: str
    init: str = "xavier"
    builtin: bool = True
    source_text: str = field(default="", compare=False)

    @property
    def elementwise(self) -> bool:
        return self.expr is not None

    def apply(self, u: sp.Expr) -> sp.Expr:
        """The activation of ``u``, for an elementwise activation."""
        return self.expr.subs(Z, u)

    @cached_property
    def derivative(self) -> sp.Expr:
        """f'(z), derived by SymPy from the formula."""
        return _tidy_steps(sp.diff(self.expr, Z))

    @cached_property
    def derivative_of_output(self) -> sp.Expr | None:
        """f'(z) written through a = f(z) alone, when SymPy finds such a form."""
        return _through_output(self.expr, self.derivative)

    @cached_property
    def local_derivative(self) -> sp.Expr:
        """∂a/∂z as shown in derivations.

        Written through ``a`` where possible, else in ``z``.
        """
        out = self.derivative_of_output
        return out if out is not None else self.derivative

    @cached_property
    def kinks(self) -> tuple[sp.Expr, ...]:
        """Expressions in ``z`` that are zero where the activation has a kink."""
        return kinks(self.expr) if self.expr is not None else ()


@dataclass(frozen=True)
class Loss:
    """A loss: one output's loss in ``yhat`` and ``y``, summed or averaged over outputs.

    Examples
    --------
    >>> LOSSES["bce"].expr
    -y*log(yhat) - (1 - y)*log(1 - yhat)
    """

    name: str
    expr: sp.Expr
    over_outputs: str
    text: str
    latex: str
    requires: str | None = None
    builtin: bool = True
    source_text: str = field(default="", compare=False)

    def sample_loss(self, outputs: list[sp.Expr], targets: list[sp.Expr]) -> sp.Expr:
        """The loss of one sample, as the definition reduces over its outputs."""
        total = sp.Add(
            *(
                self.expr.subs({YHAT: o, Y: t})
                for o, t in zip(outputs, targets, strict=False)
            )
        )
        return total / len(outputs) if self.over_outputs == "mean" else total

    @cached_property
    def kinks(self) -> tuple[sp.Expr, ...]:
        return kinks(self.expr)


def kinks(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """Expressions that vanish where ``expr`` is not differentiable.

    >>> kinks(sp.Max(0, Z) + sp.Abs(Z - 1))
    (z, z - 1)
    """
    found: list[sp.Expr] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            found.append(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            found.extend(args[i] - args[j] for i in range(len(args)) for j in range(i))
    unique = list(dict.fromkeys(found))
    return tuple(sorted(unique, key=sp.default_sort_key))


def _tidy_steps(expr: sp.Expr) -> sp.Expr:
    """Drop constant factors inside step functions: H(c·u) is H(u) for c > 0."""

    def rule(arg: sp.Expr, *_: sp.Expr) -> sp.Expr:
        coeff, rest = sp.factor_terms(arg).as_coeff_Mul()
        if coeff.is_positive:
            return sp.Heaviside(rest)
        if coeff.is_negative:
            return sp.Heaviside(-rest)
        return sp.Heaviside(arg)

    return expr.replace(sp.Heaviside, rule)


def _through_output(f: sp.Expr, d: sp.Expr) -> sp.Expr | None:
    """Write d = f'(z) in terms of a = f(z), if f is rational in one kernel.

    The kernels are e^z and tanh z: when f and d are rational functions of one
    of them, a = f(kernel) is solved for the kernel (a rational equation) and
    substituted into d. The result is kept only if SymPy confirms it equals d and
    it is no longer than d.
    """
    if f is None or not f.has(Z):
        return None
    k = sp.Dummy("k", positive=True)
    for kernel in (sp.exp(Z), sp.tanh(Z)):
        fk, dk = f.subs(kernel, k), d.subs(kernel, k)
        if fk.has(Z) or dk.has(Z) or not fk.has(k):
            continue
        try:
            solutions = sp.solve(sp.Eq(A, fk), k)
        except NotImplementedError:
            continue
        if len(solutions) != 1:
            continue
        g = sp.simplify(dk.subs(k, solutions[0]))
        if g.has(k) or g.has(Z) or sp.simplify(g.subs(A, f) - d) != 0:
            continue
        if sp.count_ops(g) <= sp.count_ops(d):
            return g
    return None


def softmax(zs: list[sp.Expr]) -> list[sp.Expr]:
    """The softmax of a layer's pre-activations, one expression per unit."""
    total = sp.Add(*(sp.exp(u) for u in zs))
    return [sp.exp(u) / total for u in zs]


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("identity", Z, "id", r"\mathrm{id}"),
        Activation("sigmoid", formula.sigmoid(Z), "σ", r"\sigma"),
        Activation("tanh", sp.tanh(Z), "tanh", r"\tanh"),
        Activation("relu", sp.Max(0, Z), "relu", r"\operatorname{relu}", init="he"),
        Activation(
            "leaky_relu",
            sp.Max(Z, Z / 100),
            "leaky_relu",
            r"\operatorname{lrelu}",
            init="he",
        ),
        Activation(
            "softplus",
            sp.log(1 + sp.exp(Z)),
            "softplus",
            r"\operatorname{softplus}",
            init="he",
        ),
        Activation(
            "silu", Z * formula.sigmoid(Z), "silu", r"\operatorname{silu}", init="he"
        ),
        Activation("softmax", None, "softmax", r"\operatorname{softmax}"),
    )
}

LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "half_sse",
            (Y - YHAT) ** 2 / 2,
            "sum",
            "½ Σₖ (yₖ − ŷₖ)²",
            r"\frac{1}{2}\sum_k (y_k - \hat y_k)^2",
        ),
        Loss(
            "mse",
            (Y - YHAT) ** 2,
            "mean",
            "(1/K) Σₖ (yₖ − ŷₖ)²",
            r"\frac{1}{K}\sum_k (y_k - \hat y_k)^2",
        ),
        Loss(
            "bce",
            -(Y * sp.log(YHAT) + (1 - Y) * sp.log(1 - YHAT)),
            "mean",
            "−(1/K) Σₖ [yₖ ln ŷₖ + (1 − yₖ) ln(1 − ŷₖ)]",
            (
                r"-\frac{1}{K}\sum_k \left[y_k \ln \hat y_k"
                r" + (1 - y_k)\ln(1 - \hat y_k)\right]"
            ),
            requires="sigmoid",
        ),
        Loss(
            "cross_entropy",
            -Y * sp.log(YHAT),
            "sum",
            "−Σₖ yₖ ln ŷₖ",
            r"-\sum_k y_k \ln \hat y_k",
            requires="softmax",
        ),
    )
}


def activation(
    value: object, *, source: str | None = None, key: str | None = None
) -> Activation:
    """Resolve a spec's ``activation`` value: a built-in name or a formula in ``z``.

    >>> activation("tanh").name
    'tanh'
    >>> activation("z/(1 + abs(z))").expr
    z/(Abs(z) + 1)
    >>> activation("sigmod")
    Traceback (most recent call last):
    ...
    symbp.errors.SpecError: unknown activation 'sigmod'; did you mean 'sigmoid'?
    """
    if isinstance(value, Activation):
        return value
    if not isinstance(value, str):
        raise SpecError(
            "expected an activation name or formula string, "
            f"not {type(value).__name__}",
            source=source,
            key=key,
        )
    name = value.strip()
    if name.isidentifier():
        if name in ACTIVATIONS:
            return ACTIVATIONS[name]
        raise SpecError(
            f"unknown activation '{name}'"
            + suggest(name, ACTIVATIONS)
            + (
                ""
                if suggest(name, ACTIVATIONS)
                else "; built-ins: " + ", ".join(ACTIVATIONS)
            ),
            source=source,
            key=key,
        )
    expr = formula.parse(name, {"z": Z}, source=source, key=key)
    if not expr.has(Z):
        raise SpecError(
            f"activation formula {name!r} does not use z", source=source, key=key
        )
    return Activation(name, expr, name, "", builtin=False, source_text=name)


def loss(
    name: object = None,
    formula_text: object = None,
    *,
    source: str | None = None,
    key: str | None = None,
) -> Loss:
    """Resolve a spec's loss: a built-in ``name``, or a ``formula``.

    A formula is written in ``yhat`` and ``y``.

    >>> loss("half_sse").over_outputs
    'sum'
    >>> loss(formula_text="abs(y - yhat)").expr
    Abs(y - yhat)
    """
    if isinstance(name, Loss):
        return name
    if (name is None) == (formula_text is None):
        raise SpecError(
            "give exactly one of 'name' and 'formula'", source=source, key=key
        )
    if name is not None:
        where = f"{key}.name" if key else "name"
        if not isinstance(name, str):
            raise SpecError(
                f"expected a loss name, not {type(name).__name__}",
                source=source,
                key=where,
            )
        if name not in LOSSES:
            hint = suggest(name, LOSSES) or "; built-ins: " + ", ".join(LOSSES)
            raise SpecError(f"unknown loss '{name}'" + hint, source=source, key=where)
        return LOSSES[name]
    where = f"{key}.formula" if key else "formula"
    expr = formula.parse(formula_text, {"yhat": YHAT, "y": Y}, source=source, key=where)
    if not expr.has(YHAT):
        raise SpecError(
            f"loss formula {formula_text!r} does not use yhat", source=source, key=where
        )
    text = str(formula_text)
    return Loss(text, expr, "sum", text, "", builtin=False, source_text=text)
