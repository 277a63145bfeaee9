"""Stability rewrites: a named catalogue of rules applied to exprs before printing.

A formula that is exact on paper can overflow in floating point: 1/(1 + e^(−z))
overflows for z = −1e4, log(1 + e^z) for z = 1e4, and −y·log ŷ is 0·(−∞) = nan
when a softmax output underflows to 0. Each :class:`Rewrite` here is one such
fix, stated once as a rule on SymPy exprs: it returns an expr equal to its input
(in exact arithmetic) that is finite wherever the input's true value is.

The catalogue is data: :data:`CATALOGUE` is a tuple of rules applied in order by
:func:`apply`, and a rule set is just another tuple. Two functions extend SymPy
for the rules' results, :class:`Sigmoid` and :class:`LogAddExp`; the code
printer (:mod:`symbp.codegen`) prints them in forms that never overflow.

Softmax layers use three symbols that stand for row-wise quantities of the
layer: :data:`ROWMAX` (the row maximum of z), :data:`EXPSUM` (the row sum of
e^(z − rowmax)) and :data:`SHIFTED` (z − rowmax). :mod:`symbp.layers` writes a
softmax output as e^z / Σ e^z through them; the softmax rules shift it.

Examples
--------
>>> z = sp.Symbol("z", real=True)
>>> apply(sp.log(1 + sp.exp(z)))
LogAddExp(0, z)
>>> apply(1 / (1 + sp.exp(-z)))
Sigmoid(z)
>>> apply(sp.log(1 - 1 / (1 + sp.exp(-z))))
-LogAddExp(0, z)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sympy as sp

from .functions import Z

#: Row maximum of a softmax layer's pre-activations.
ROWMAX = sp.Symbol("rowmax", real=True)
#: Row sum of e^(z − rowmax) of a softmax layer (positive).
EXPSUM = sp.Symbol("expsum", positive=True)
#: A softmax layer's pre-activation shifted by its row maximum, z − rowmax.
SHIFTED = sp.Symbol("shifted", real=True)


class Sigmoid(sp.Function):
    """The logistic function σ(u) = 1/(1 + e^(−u)), printed so it never overflows.

    >>> u = sp.Symbol("u")
    >>> Sigmoid(u).diff(u)
    (1 - Sigmoid(u))*Sigmoid(u)
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, u: sp.Expr, **kwargs: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-u))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.exp)._eval_evalf(prec)


class LogAddExp(sp.Function):
    """log(e^u + e^v), printed as NumPy's ``logaddexp``, which never overflows.

    >>> LogAddExp(0, sp.Symbol("u")).rewrite(sp.exp)
    log(exp(u) + 1)
    """

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.exp(self.args[argindex - 1] - self)

    def _eval_rewrite_as_exp(self, u: sp.Expr, v: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(sp.exp(u) + sp.exp(v))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.exp)._eval_evalf(prec)


@dataclass(frozen=True)
class Rewrite:
    """One stability rule: its name, what it does, and the function applying it.

    ``rule`` takes an expr and returns an equal expr (the same one when the rule
    does not apply); it must never change the value in exact arithmetic.
    """

    name: str
    summary: str
    rule: Callable[[sp.Expr], sp.Expr]

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return self.rule(expr)


def _exp_bases(expr: sp.Expr) -> list[sp.Expr]:
    """The arguments u of the e^(±u) in ``expr``, sign removed, in a fixed order."""
    bases = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.exp):
            u = node.args[0]
            u = -u if u.could_extract_minus_sign() else u
            coeff, rest = u.as_coeff_Mul()
            bases.append(rest if coeff.is_Integer else u)
    return sorted(set(bases), key=sp.default_sort_key)


def _through_sigmoid(expr: sp.Expr, u: sp.Expr) -> sp.Expr | None:
    """``expr`` as a polynomial in s = σ(u) when it is rational in e^u, else None.

    e^u is s/(1 − s), so a rational function of e^u is a rational function of s;
    it is kept only when no s is left in a denominator, which is where
    the original overflows or divides 0 by 0.
    """
    s = sp.Dummy("s", positive=True)
    k = sp.Dummy("k", positive=True)
    with_k = expr.replace(
        lambda e: isinstance(e, sp.exp) and (e.args[0] / u).is_Integer,
        lambda e: k ** (e.args[0] / u),
    )
    # Only a rational function of e^u qualifies: no e^u inside another function.
    if any(f.has(k) and not f.is_Pow for f in with_k.atoms(sp.Function)):
        return None
    try:
        in_s = tidy_sign(sp.factor(sp.cancel(with_k.subs(k, s / (1 - s)))))
    except (AttributeError, TypeError, ValueError, sp.PolynomialError):
        # Piecewise parts and relations (from abs, sign) are not rational.
        return None
    _, den = sp.fraction(sp.together(in_s))
    if den.has(s) or not in_s.has(s):
        return None
    return in_s.subs(s, Sigmoid(u))


def tidy_sign(expr: sp.Expr) -> sp.Expr:
    """Signs moved into factors so that they read naturally: (1 − s), (a − y).

    A leading minus goes into a sum factor, and two sum factors that read
    negated, such as (y − a)(a − 1), are both negated.

    >>> s, y = sp.symbols("s y")
    >>> tidy_sign(-(s - 1) * s)
    s*(1 - s)
    >>> tidy_sign(s * (y - s) * (s - 1))
    s*(1 - s)*(s - y)
    """
    if expr.is_Add:
        return sp.Add(*(tidy_sign(term) for term in expr.args))
    if not expr.is_Mul:
        return expr
    coeff, rest = expr.as_coeff_Mul()
    factors = list(sp.Mul.make_args(rest))
    sums = [i for i, f in enumerate(factors) if f.is_Add]
    flip = [i for i in sums if _reads_negated(factors[i])]
    if coeff.is_negative and sums:
        flip = (flip or sums)[:1]
        coeff = -coeff
    else:
        flip = flip[: len(flip) // 2 * 2]
    for i in flip:
        factors[i] = -factors[i]
    return coeff * sp.Mul(*factors)


def _reads_negated(total: sp.Expr) -> bool:
    """Whether a sum reads better negated: y − a → a − y, s − 1 → 1 − s."""
    constant, _ = total.as_coeff_Add()
    if constant.is_negative:
        return True
    return not constant and total.could_extract_minus_sign()


def sigmoid_rule(expr: sp.Expr) -> sp.Expr:
    """Rational functions of e^u that are polynomials in σ(u) → those polynomials.

    >>> z = sp.Symbol("z", real=True)
    >>> sigmoid_rule(sp.exp(-z) / (1 + sp.exp(-z)) ** 2)
    (1 - Sigmoid(z))*Sigmoid(z)
    >>> sigmoid_rule(sp.exp(z))
    exp(z)
    """
    if not expr.has(sp.exp) or expr.is_Atom:
        return expr
    for u in _exp_bases(expr):
        found = _through_sigmoid(expr, u)
        if found is not None:
            return sigmoid_rule(found)
    return expr.func(*(sigmoid_rule(arg) for arg in expr.args))


def _log_sigmoid(expr: sp.Expr) -> sp.Expr | None:
    """log σ(u) → −logaddexp(0, −u) and log(1 − σ(u)) → −logaddexp(0, u)."""
    inner = sigmoid_rule(expr.args[0])
    for sig in inner.atoms(Sigmoid):
        u = sig.args[0]
        if sp.expand(inner - sig) == 0:
            return -LogAddExp(0, -u)
        if sp.expand(inner - (1 - sig)) == 0:
            return -LogAddExp(0, u)
    return None


def log_sigmoid_rule(expr: sp.Expr) -> sp.Expr:
    """Logs of σ(u) and 1 − σ(u), in any form, → −logaddexp.

    >>> z = sp.Symbol("z", real=True)
    >>> log_sigmoid_rule(sp.log(1 / (1 + sp.exp(-z))))
    -LogAddExp(0, -z)
    """
    return expr.replace(
        lambda e: isinstance(e, sp.log) and _log_sigmoid(e) is not None, _log_sigmoid
    )


def _is_one_plus_exp(e: sp.Expr) -> bool:
    return (
        isinstance(e, sp.log)
        and e.args[0].is_Add
        and len(e.args[0].args) == 2
        and sp.S.One in e.args[0].args
        and any(isinstance(t, sp.exp) for t in e.args[0].args)
    )


def softplus_rule(expr: sp.Expr) -> sp.Expr:
    """log(1 + e^u) → logaddexp(0, u).

    >>> softplus_rule(sp.log(sp.exp(sp.Symbol("z")) + 1))
    LogAddExp(0, z)
    """

    def fix(e: sp.Expr) -> sp.Expr:
        (term,) = [t for t in e.args[0].args if isinstance(t, sp.exp)]
        return LogAddExp(0, term.args[0])

    return expr.replace(_is_one_plus_exp, fix)


def log_softmax_rule(expr: sp.Expr) -> sp.Expr:
    """log(e^u / expsum) → u − log(expsum): the log of a softmax as a log-sum-exp.

    >>> z = sp.Symbol("z", real=True)
    >>> log_softmax_rule(sp.log(sp.exp(z) / EXPSUM))
    z - log(expsum)
    """
    return expr.replace(
        lambda e: isinstance(e, sp.log) and e.has(EXPSUM),
        lambda e: sp.expand_log(e, force=True),
    )


def shift_softmax(expr: sp.Expr, z: sp.Expr = Z) -> sp.Expr:
    """Softmax terms in z → the same terms in z − rowmax, whose e^(...) are ≤ 1.

    Softmax is unchanged when a row's z all move by the same amount, so in an
    expr over :data:`EXPSUM` the pre-activation ``z`` may be replaced by
    :data:`SHIFTED`; EXPSUM then means the row sum of e^shifted.

    >>> shift_softmax(sp.exp(Z) / EXPSUM)
    exp(shifted)/expsum
    >>> shift_softmax(Z - sp.log(EXPSUM))
    shifted - log(expsum)
    """
    return expr.subs(z, SHIFTED) if expr.has(EXPSUM) else expr


#: The stability rules, in the order :func:`apply` applies them.
CATALOGUE: tuple[Rewrite, ...] = (
    Rewrite("softplus", "log(1 + exp(u)) -> logaddexp(0, u)", softplus_rule),
    Rewrite(
        "log_sigmoid",
        "log(sigmoid(u)) -> -logaddexp(0, -u); log(1 - sigmoid(u)) -> -logaddexp(0, u)",
        log_sigmoid_rule,
    ),
    Rewrite(
        "sigmoid",
        "rational functions of exp(u) that are polynomials in sigmoid(u) -> those; "
        "sigmoid printed as (1 + tanh(u/2))/2, which never overflows",
        sigmoid_rule,
    ),
    Rewrite(
        "log_softmax",
        "log(exp(z)/sum(exp(z))) -> z - log(sum(exp(z))), a log-sum-exp",
        log_softmax_rule,
    ),
    Rewrite(
        "softmax_shift",
        "softmax of z -> softmax of z - max(z) over the row",
        shift_softmax,
    ),
)


def apply(expr: sp.Expr, rules: Iterable[Rewrite] = CATALOGUE) -> sp.Expr:
    """Apply stability rules to an expr, in order.

    Parameters
    ----------
    expr
        The expr to rewrite.
    rules
        The rules; the whole :data:`CATALOGUE` by default.

    Examples
    --------
    >>> z, y = sp.symbols("z y", real=True)
    >>> yhat = 1 / (1 + sp.exp(-z))
    >>> bce = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))
    >>> apply(bce)
    y*LogAddExp(0, -z) + (1 - y)*LogAddExp(0, z)
    """
    for rewrite in rules:
        expr = rewrite(expr)
    return expr


def names() -> list[str]:
    """The names of the catalogue's rules, in order.

    >>> names()
    ['softplus', 'log_sigmoid', 'sigmoid', 'log_softmax', 'softmax_shift']
    """
    return [rewrite.name for rewrite in CATALOGUE]
