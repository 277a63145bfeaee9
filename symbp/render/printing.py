"""Printing SymPy expressions in symbp's notation, for the terminal.

:class:`UnicodePrinter` writes one-line Unicode math with symbp's symbol names
(w⁽¹⁾₁₂, δ⁽²⁾₁), a middle dot for products, superscript powers and a true minus
sign.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from .. import naming

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class UnicodePrinter(StrPrinter):
    """One-line Unicode math in symbp's notation.

    >>> UnicodePrinter().doprint(naming.a(2, 0) * (1 - naming.a(2, 0)))
    'a⁽²⁾₁·(1 − a⁽²⁾₁)'
    >>> UnicodePrinter().doprint(1 - naming.a(1, 1) ** 2)
    '1 − a⁽¹⁾₂²'
    """

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return naming.unicode(expr)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp.is_Integer and 2 <= int(exp) <= 9:
            return self.parenthesize(base, PRECEDENCE["Pow"], strict=True) + str(
                int(exp)
            ).translate(_SUPERSCRIPT)
        if exp == sp.Rational(1, 2):
            return f"√({self._print(base)})"
        if exp.is_Integer and exp < 0:
            return (
                f"1/{self._print(sp.Pow(base, -exp))}"
                if -exp != 1
                else f"1/{self.parenthesize(base, PRECEDENCE['Mul'], strict=True)}"
            )
        return (
            self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
            + "^"
            + self.parenthesize(exp, PRECEDENCE["Pow"], strict=True)
        )

    def _print_exp(self, expr) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_log(self, expr) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr) -> str:
        return f"H({self._print(expr.args[0])})"

    def _print_Sigmoid(self, expr) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_Function(self, expr) -> str:
        return super()._print_Function(expr)

    def doprint(self, expr) -> str:
        text = super().doprint(expr)
        text = text.replace("*", "·").replace(" - ", " − ")
        return "−" + text[1:] if text.startswith("-") else text.replace("(-", "(−")


def unicode(expr: sp.Expr) -> str:
    """Print an expression for the terminal."""
    return UnicodePrinter().doprint(sp.sympify(expr))


def partial(num: sp.Symbol, den: sp.Symbol) -> str:
    """∂num/∂den in the terminal's notation."""
    return f"∂{naming.unicode(num)}/∂{naming.unicode(den)}"


def wrap_product(expr: sp.Expr) -> str:
    """A factor of a product, parenthesised when it is a sum."""
    text = unicode(expr)
    return f"({text})" if precedence(sp.sympify(expr)) < PRECEDENCE["Mul"] else text
