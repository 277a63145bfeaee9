"""LaTeX math in symbp's notation, and the layout of long equations.

:class:`TexPrinter` prints SymPy exprs with the names of :func:`symbp.naming.latex`
(w^{(1)}_{12}, \\delta^{(2)}_{1}); given ``names`` it prints other symbols (layer
arrays, or numbers substituted for symbols) as told. :class:`Lines` lays an
equation out as rows of an ``aligned`` block, breaking a long right-hand side
between terms or factors, so no row runs off the page: widths are estimated from
the LaTeX text by :func:`width`, in units of about one math letter.

Text that comes from a user (a spec's name, a formula's source text) goes
through :func:`escape` before it meets LaTeX. Both the LaTeX and the Markdown
documents use these helpers: MathJax and KaTeX read the same math.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from .. import naming

#: Widest right-hand side of a row, in :func:`width` units (a4, 2.2 cm margins).
BUDGET = 100

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\~{}",
    "^": r"\^{}",
    "<": r"\ensuremath{<}",
    ">": r"\ensuremath{>}",
    "|": r"\ensuremath{|}",
}


def escape(text: str) -> str:
    r"""Make user text safe in LaTeX's text mode: every special character is quoted.

    Characters outside Latin-1 become ``?`` (the default fonts have no glyph).

    >>> print(escape(r"x}\input{/etc/passwd}"))
    x\}\textbackslash{}input\{/etc/passwd\}
    >>> print(escape("#$%&_{}~^"))
    \#\$\%\&\_\{\}\~{}\^{}
    """
    out = []
    for ch in str(text):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == "\n" or ch == "\t":
            out.append(" ")
        elif ord(ch) < 32 or (ord(ch) > 126 and not 0xC0 <= ord(ch) <= 0xFF):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def fmt(value: float) -> str:
    r"""A number with 6 decimals; tiny ones in scientific form, 6 decimals too.

    >>> fmt(0.25), fmt(-1.5e-7), fmt(0.0)
    ('0.250000', '-1.500000 \\times 10^{-7}', '0.000000')
    """
    value = float(value)
    if value == 0 or abs(value) >= 1e-4:
        return f"{value:.6f}"
    mantissa, exponent = f"{value:.6e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def number(value: float) -> str:
    """:func:`fmt`, in parentheses when negative (for use inside formulas)."""
    text = fmt(value)
    return f"({text})" if value < 0 or "times" in text else text


class TexPrinter(LatexPrinter):
    r"""LaTeX in symbp's notation.

    ``names`` maps symbols to the LaTeX to print for them, overriding
    :func:`symbp.naming.latex`.

    >>> TexPrinter().doprint(naming.delta(1, 0) * naming.x(1))
    '\\delta^{(1)}_{1} x_{2}'
    >>> TexPrinter({naming.x(1): "0.5"}, mul_symbol="dot").doprint(2 * naming.x(1))
    '2 \\cdot 0.5'
    """

    def __init__(self, names: Mapping[sp.Symbol, str] | None = None, **settings):
        settings.setdefault("order", "none")  # (y - a)², as the definitions read
        super().__init__(settings)
        self.names = dict(names or {})

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr in self.names:
            return self.names[expr]
        return naming.latex(expr)

    def _print_Heaviside(self, expr, exp=None) -> str:
        text = rf"H\left({self._print(expr.args[0])}\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Sigmoid(self, expr, exp=None) -> str:
        text = rf"\sigma\left({self._print(expr.args[0])}\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_LogAddExp(self, expr, exp=None) -> str:
        u, v = (self._print(arg) for arg in expr.args)
        text = rf"\operatorname{{logaddexp}}\left({u}, {v}\right)"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_MatrixSymbol(self, expr, style: str = "plain") -> str:
        return naming.latex_array(expr.name)

    def _print_Transpose(self, expr) -> str:
        return transposed(self.parenthesize(expr.arg, PRECEDENCE["Pow"]))


def transposed(text: str) -> str:
    r"""``text`` transposed, the mark joining a superscript it already has.

    >>> transposed(r"\bm{W}^{(2)}"), transposed("x")
    ('\\bm{W}^{(2)\\top}', 'x^{\\top}')
    """
    if text.endswith(")}") and "^{(" in text:
        return text[:-1] + r"\top}"
    return text + r"^{\top}"


_PRINTER = TexPrinter()


def tex(expr: sp.Expr, names: Mapping[sp.Symbol, str] | None = None, **settings) -> str:
    """Print an expr; with ``names``, a fresh printer that uses them."""
    if not names and not settings:
        return plain_parens(_PRINTER.doprint(sp.sympify(expr)))
    return plain_parens(TexPrinter(names, **settings).doprint(sp.sympify(expr)))


_GROWN = re.compile(r"\\left\(((?:(?!\\left|\\right|\\frac|\\sum).)*)\\right\)")


def plain_parens(text: str) -> str:
    r"""``\left( … \right)`` as plain parentheses where nothing inside is tall.

    Indices make ``\left(`` grow needlessly; only fractions and sums need it.

    >>> plain_parens(r"\left(1 - a^{(2)}_{1}\right) \left(\frac{1}{2}\right)")
    '(1 - a^{(2)}_{1}) \\left(\\frac{1}{2}\\right)'
    """
    while True:
        shorter = _GROWN.sub(r"(\1)", text)
        if shorter == text:
            return text
        text = shorter


def substituted(expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> str:
    r"""``expr`` with numbers written in place of its symbols, unevaluated.

    >>> substituted(naming.w(1, 0, 0) * naming.x(0) + naming.b(1, 0),
    ...             {naming.w(1, 0, 0): 0.3, naming.x(0): -0.2, naming.b(1, 0): 0.1})
    '0.100000 + 0.300000 \\cdot (-0.200000)'
    """
    names = {s: number(values[s]) for s in expr.free_symbols if s in values}
    return tex(expr, names, mul_symbol="dot")


def partial(num: sp.Symbol | str, den: sp.Symbol | str) -> str:
    r"""∂num/∂den as a fraction.

    >>> partial(naming.LOSS, naming.a(2, 0))
    '\\frac{\\partial L}{\\partial a^{(2)}_{1}}'
    """
    top = num if isinstance(num, str) else naming.latex(num)
    bottom = den if isinstance(den, str) else naming.latex(den)
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


def factor(expr: sp.Expr) -> str:
    """A factor of a product: parenthesised when it is a sum or a negative."""
    expr = sp.sympify(expr)
    text = tex(expr)
    if precedence(expr) < PRECEDENCE["Mul"] or text.startswith("-"):
        return rf"\left({text}\right)"
    return text


_SUPER = re.compile(r"\^\{\(([^{}]*)\)\}")
_SUB = re.compile(r"_\{([^{}]*)\}")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_WORD = re.compile(r"\\operatorname\{(\w+)\}|\\text\{([^{}]*)\}|\\texttt\{([^{}]*)\}")
_OPERATOR = re.compile(r"(?<![{(^_])[+=-]|\\cdot|\\odot|\\times|\\quad")


def width(text: str) -> float:
    r"""The typeset width of LaTeX math, roughly, in letters.

    Sub- and superscripts count for less than letters, a fraction for its wider
    part, a binary operator for the space around it.

    >>> width(r"a^{(2)}_{1} + 1") < width(r"a^{(2)}_{1} + a^{(2)}_{1}")
    True
    >>> width(r"\frac{\partial L}{\partial a^{(2)}_{1}}") <= 6
    True
    """
    ops = len(_OPERATOR.findall(text))
    t = re.sub(r"\\(left|right|big|Big)\b", "", text)
    t = _WORD.sub(lambda m: "".join(g or "" for g in m.groups()), t)
    t = _SUPER.sub(lambda m: "#" * math.ceil(0.7 * (len(m[1]) + 2)), t)
    t = _SUB.sub(lambda m: "#" * math.ceil(0.7 * len(m[1])), t)
    t = re.sub(r"\\(?!frac\b)[a-zA-Z]+\s*", "#", t)
    while True:
        shorter = _FRAC.sub(lambda m: "#" * max(len(m[1]), len(m[2]), 1), t)
        if shorter == t:
            break
        t = shorter
    t = re.sub(r"[{}\s]|\\[,;!]", "", t)
    return len(t) + 1.5 * ops


def terms(expr: sp.Expr) -> list[str]:
    """The top-level terms of a sum, each printed with its sign (``+ t``, ``- t``)."""
    expr = sp.sympify(expr)
    return signed([tex(t) for t in _ordered_terms(expr)])


def _ordered_terms(expr: sp.Expr) -> list[sp.Expr]:
    if not isinstance(expr, sp.Add):
        return [expr]
    return list(_PRINTER._as_ordered_terms(expr, order=None))


def substituted_terms(expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> list[str]:
    """:func:`terms` with numbers in place of symbols."""
    expr = sp.sympify(expr)
    return signed([substituted(t, values) for t in _ordered_terms(expr)])


def signed(parts: Iterable[str]) -> list[str]:
    """Join-ready terms: the first as it is, others led by ``+`` unless negative."""
    out = []
    for k, text in enumerate(parts):
        if k == 0:
            out.append(text)
        elif text.startswith("-"):
            out.append("- " + text[1:].lstrip())
        else:
            out.append("+ " + text)
    return out


class Lines:
    r"""Rows of an ``aligned`` block: ``lhs &= rhs``, long right-hand sides broken.

    Pieces carry their own leading operator (``+ t``, ``\cdot f``); a row is
    broken between pieces, and a continuation row is indented.

    >>> rows = Lines()
    >>> rows.equation("z", ["a", "+ b"])
    >>> rows.equation("", ["c"])
    >>> print(rows.body())
    z &= a + b \\
    &= c
    """

    def __init__(self, budget: float = BUDGET):
        self.budget = budget
        self.rows: list[str] = []
        self._gaps: set[int] = set()

    def equation(self, lhs: str, pieces: list[str], *, rel: str = "=") -> None:
        """Add ``lhs rel pieces…``, continuing on new rows when they are too wide."""
        lines = self._pack(pieces)
        lead = f"{lhs} " if lhs else ""
        self.rows.append(f"{lead}&{rel} {' '.join(lines[0])}")
        for line in lines[1:]:
            self.rows.append(rf"&\quad {' '.join(line)}")

    def continued(self, pieces: list[str]) -> None:
        """Add indented rows that continue the previous right-hand side."""
        for line in self._pack(pieces):
            self.rows.append(rf"&\quad {' '.join(line)}")

    def text(self, words: str) -> None:
        r"""A row of words (``\text{…}``) inside the block."""
        self.rows.append(rf"&\text{{{words}}}")

    def _pack(self, pieces: list[str]) -> list[list[str]]:
        lines: list[list[str]] = [[]]
        used = 0.0
        for piece in pieces:
            size = width(piece) + 0.5
            if lines[-1] and used + size > self.budget:
                lines.append([])
                used = 3.0
            lines[-1].append(piece)
            used += size
        return lines

    def gap(self) -> None:
        """A little vertical space after the last row (between equations)."""
        if self.rows:
            self._gaps.add(len(self.rows) - 1)

    def body(self) -> str:
        """The rows joined as the body of ``aligned``/``align*``."""
        ends = [
            r" \\[1.2ex]" if k in self._gaps else r" \\" for k in range(len(self.rows))
        ]
        return "\n".join(
            row + end for row, end in zip(self.rows, ends[:-1] + [""], strict=True)
        )

    def __bool__(self) -> bool:
        return bool(self.rows)


def product(factors: Iterable[str], op: str = r"\cdot") -> list[str]:
    """Pieces of a product: every factor after the first led by ``op``."""
    return [f if k == 0 else f"{op} {f}" for k, f in enumerate(factors)]


def paths(groups: Iterable[list[str]]) -> list[list[str]]:
    """Pieces of a sum of products: each group after the first led by ``+``."""
    return [
        [("+ " + g[0]) if k and j == 0 else p for j, p in enumerate(g)] if g else g
        for k, g in enumerate(groups)
    ]


def split(expr: sp.Expr, values: Mapping[sp.Symbol, float] | None = None) -> list[str]:
    r"""An expr as breakable pieces: whole if it fits, else its terms or factors.

    A term or factor that is itself too wide is split the same way; a sum or a
    σ(…) split inside a product opens with ``\bigl(`` and closes with ``\bigr)``,
    which, unlike ``\left(``, may stand on different rows.

    >>> u = sp.Add(*(naming.w(1, i, 0) * naming.x(i) for i in range(12)))
    >>> pieces = split(naming.x(0) * u)
    >>> pieces[0], pieces[1].startswith(r"\cdot \bigl("), pieces[-1].endswith(r"\bigr)")
    ('x_{1}', True, True)
    """
    expr = sp.sympify(expr)
    show = (lambda e: substituted(e, values)) if values is not None else tex
    whole = show(expr)
    if width(whole) <= BUDGET:
        return [whole]
    if isinstance(expr, sp.Add):
        pieces = []
        for k, term in enumerate(_ordered_terms(expr)):
            sub = split(term, values)
            if k:
                sub[0] = signed(["", sub[0]])[1]
            pieces += sub
        return pieces
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_Mul()
        groups = [_factor_pieces(f, values, show) for f in sp.Mul.make_args(rest)]
        if coeff == -1:
            groups[0][0] = "-" + groups[0][0]
        elif coeff != 1:
            groups.insert(0, [show(coeff)])
        pieces = []
        for k, group in enumerate(groups):
            pieces += [rf"\cdot {group[0]}" if k else group[0], *group[1:]]
        return pieces
    return [whole]


def _factor_pieces(factor: sp.Expr, values, show) -> list[str]:
    """One factor of a product as pieces, in parentheses where it needs them."""
    from ..rewrite import Sigmoid

    text = show(factor)
    wrap = precedence(factor) < PRECEDENCE["Mul"] or text.startswith("-")
    if width(text) > BUDGET:
        if isinstance(factor, sp.Add):
            return _bracketed("", split(factor, values))
        if isinstance(factor, Sigmoid):
            return _bracketed(r"\sigma", split(factor.args[0], values))
    return [rf"\left({text}\right)" if wrap else text]


def _bracketed(head: str, pieces: list[str]) -> list[str]:
    r"""``head\bigl(`` pieces ``\bigr)``, the brackets on the first and last piece."""
    if len(pieces) == 1:
        return [rf"{head}\left({pieces[0]}\right)"]
    return [rf"{head}\bigl({pieces[0]}", *pieces[1:-1], rf"{pieces[-1]}\bigr)"]
