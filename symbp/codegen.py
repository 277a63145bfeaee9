"""The NumPy training module: layer-form exprs printed into a Jinja template.

:func:`generate` takes the layer-form derivation (:mod:`symbp.layers`), prints
every formula of it with a subclass of SymPy's NumPy printer (shared
subexpressions found by ``sympy.cse``, each statement kept within 88 columns),
and fills ``templates/module.py.j2``, which holds only structure: functions,
loops over batches, optimiser state. :func:`load` turns the generated text
into a module object, for ``symbp check``.

The printed code is laid out as ruff formats Python (spaces around binary
operators, a hugged ``**`` between simple operands), so that the generated
module passes ``ruff format --check`` as it is.
"""

from __future__ import annotations

import ast
import itertools
import re
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from . import __version__, layers, naming, output, rewrite
from .errors import SpecError
from .functions import A, Y, Z
from .spec import Network, plain_name

#: The dtypes a generated module can compute in.
DTYPES = ("float64", "float32")
#: Width of a generated line.
WIDTH = 88


class _Total(sp.Function):
    """Sum over every element of an array (printing only)."""

    nargs = 1


class _Dot(sp.Function):
    """Sum over every element of the product of two arrays (printing only)."""

    nargs = 2


class _Float(sp.Function):
    """A NumPy scalar as a Python float (printing only)."""

    nargs = 1


class _RowTotal(sp.Function):
    """Sum over each row of an array, kept as a column (printing only)."""

    nargs = 1


class CodePrinter(NumPyPrinter):
    """SymPy's NumPy printer with ``np.`` names and forms that never overflow.

    Examples
    --------
    >>> z = sp.Symbol("z1")
    >>> CodePrinter().doprint(sp.Max(0, z))
    'np.maximum(0, z1)'
    >>> CodePrinter().doprint(rewrite.Sigmoid(z))
    '(0.5 * np.tanh(0.5 * z1) + 0.5)'
    """

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True})
        self._scaled = False  # inside a product with a numeric coefficient

    def _module_format(self, fqn: str, register: bool = True) -> str:
        return "np." + fqn[len("numpy.") :] if fqn.startswith("numpy.") else fqn

    def _nest(self, name: str, args: tuple[sp.Expr, ...]) -> str:
        first, *rest = [self._print(arg) for arg in args]
        for arg in rest:
            first = f"np.{name}({first}, {arg})"
        return first

    def _print_Max(self, expr: sp.Max) -> str:
        return self._nest("maximum", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._nest("minimum", expr.args)

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        # The kink's own value does not matter to a gradient; 0 keeps relu's
        # derivative a plain step. A comparison is several times faster than
        # np.heaviside, and its booleans keep the dtype of the array they
        # multiply; times a Python number they would become float64, so a
        # step with a numeric coefficient stays np.heaviside.
        u = self._print(expr.args[0])
        return f"np.heaviside({u}, 0)" if self._scaled else f"({u} > 0)"

    def _print_Mul(self, expr: sp.Mul) -> str:
        outer = self._scaled
        self._scaled = expr.args[0].is_Number and expr.has(sp.Heaviside)
        try:
            return super()._print_Mul(expr)
        finally:
            self._scaled = outer

    def _print_Sigmoid(self, expr: rewrite.Sigmoid) -> str:
        # σ(u) = (1 + tanh(u/2))/2: tanh saturates instead of overflowing.
        u = self.parenthesize(expr.args[0], PRECEDENCE["Mul"])
        return f"(0.5 * np.tanh(0.5 * {u}) + 0.5)"

    def _print_LogAddExp(self, expr: rewrite.LogAddExp) -> str:
        u, v = (self._print(arg) for arg in expr.args)
        return f"np.logaddexp({u}, {v})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp.is_Integer and expr.exp.is_negative:
            base = self._print(sp.Pow(expr.base, -expr.exp))
            return f"1 / ({base})"
        return super()._print_Pow(expr, rational=rational)

    def _print__Total(self, expr: _Total) -> str:
        return f"np.sum({self._print(expr.args[0])})"

    def _print__Dot(self, expr: _Dot) -> str:
        u, v = (self._print(arg) for arg in expr.args)
        return f"np.vdot({u}, {v})"

    def _print__Float(self, expr: _Float) -> str:
        return f"float({self._print(expr.args[0])})"

    def _print__RowTotal(self, expr: _RowTotal) -> str:
        return f"np.sum({self._print(expr.args[0])}, axis=1, keepdims=True)"


class _MathPrinter(StrPrinter):
    """Exprs as the module's comments show them: σ, H, logaddexp."""

    def _print_Sigmoid(self, expr: sp.Expr) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        return f"H({self._print(expr.args[0])})"

    def _print_LogAddExp(self, expr: sp.Expr) -> str:
        return f"logaddexp({', '.join(self._print(arg) for arg in expr.args)})"


# --- Laying code out as ruff does --------------------------------------------

_BINARY = {
    ast.Add: ("+", 11),
    ast.Sub: ("-", 11),
    ast.Mult: ("*", 12),
    ast.Div: ("/", 12),
    ast.MatMult: ("@", 12),
    ast.Pow: ("**", 14),
}
_COMPARE = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<="}
_ATOM = 16


def _simple(node: ast.AST) -> bool:
    """An operand that ruff hugs in ``**``: a name, a number, an attribute."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, ast.Attribute):
        return _simple(node.value)
    return isinstance(node, ast.Name) or (
        isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
    )


def _emit(node: ast.AST) -> tuple[str, int]:
    """Python source for an expression node, and its precedence."""
    if isinstance(node, ast.Name):
        return node.id, _ATOM
    if isinstance(node, ast.Constant):
        return repr(node.value), _ATOM
    if isinstance(node, ast.Attribute):
        return f"{_wrap(node.value, _ATOM)}.{node.attr}", _ATOM
    if isinstance(node, ast.Call):
        args = [_wrap(arg, 0) for arg in node.args]
        args += [f"{kw.arg}={_wrap(kw.value, 0)}" for kw in node.keywords]
        return f"{_wrap(node.func, _ATOM)}({', '.join(args)})", _ATOM
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + _wrap(node.operand, 13), 13
    if isinstance(node, ast.BinOp) and _negated_first(node):
        # -x + y → y - x: one array operation fewer.
        node = ast.BinOp(node.right, ast.Sub(), node.left.operand)
    if isinstance(node, ast.BinOp):
        symbol, prec = _BINARY[type(node.op)]
        if isinstance(node.op, ast.Pow):
            left, right = _wrap(node.left, prec + 1), _wrap(node.right, 13)
            hug = _simple(node.left) and _simple(node.right)
            return (f"{left}**{right}" if hug else f"{left} ** {right}"), prec
        left, right = _wrap(node.left, prec), _wrap(node.right, prec + 1)
        return f"{left} {symbol} {right}", prec
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left = _wrap(node.left, 7)
        right = _wrap(node.comparators[0], 7)
        return f"{left} {_COMPARE[type(node.ops[0])]} {right}", 6
    raise ValueError(f"cannot lay out {ast.dump(node)}")


def _negated_first(node: ast.BinOp) -> bool:
    left = node.left
    return (
        isinstance(node.op, ast.Add)
        and isinstance(left, ast.UnaryOp)
        and isinstance(left.op, ast.USub)
    )


def _wrap(node: ast.AST, need: int) -> str:
    text, prec = _emit(node)
    return text if prec >= need else f"({text})"


def layout(code: str) -> str:
    """Lay out one Python expression as ruff formats it.

    >>> layout("(-a2 + Y)**2/2")
    '(Y - a2) ** 2 / 2'
    >>> layout("-Y + a2*rowsum2")
    'a2 * rowsum2 - Y'
    >>> layout("np.maximum(0,z1*W)")
    'np.maximum(0, z1 * W)'
    """
    return _wrap(ast.parse(code, mode="eval").body, 0)


# --- Statements ----------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One printed line of code: ``target op expr``, where op is ``=`` or ``*=``."""

    target: str
    op: str
    expr: sp.Expr


def _print(expr: sp.Expr, printer: type[StrPrinter] | None = None) -> str:
    return layout((printer or CodePrinter)().doprint(expr))


def _fit(
    stmt: Statement, indent: int, fresh: Iterator[sp.Symbol], printer=None
) -> list[Statement]:
    """Split a statement that is wider than :data:`WIDTH` through temporaries."""
    text = _print(stmt.expr, printer)
    width = indent + len(stmt.target) + len(stmt.op) + 2 + len(text)
    parts = [arg for arg in stmt.expr.args if not arg.is_Atom]
    if len(stmt.expr.args) == 1 and parts:  # float(...): split what it wraps
        parts = [arg for arg in parts[0].args if not arg.is_Atom] or parts
    if width <= WIDTH or not parts:
        return [stmt]
    biggest = max(parts, key=lambda arg: len(_print(arg, printer)))
    name = next(fresh)
    head = _fit(Statement(name.name, "=", biggest), indent, fresh, printer)
    rest = Statement(stmt.target, stmt.op, stmt.expr.xreplace({biggest: name}))
    return head + _fit(rest, indent, fresh, printer)


def statements(
    targets: list[Statement],
    layer: int,
    indent: int = 4,
    start: int = 0,
    printer: type[StrPrinter] | None = None,
) -> tuple[list[str], int]:
    """Print statements with their shared subexpressions as temporaries.

    Returns the lines and the number of temporaries used, so that the next block
    of the same layer can number its own from there. ``printer`` is the printer
    class (:class:`CodePrinter`, for NumPy arrays, unless given).

    >>> z = sp.Symbol("z1")
    >>> lines, used = statements([Statement("a1", "=", sp.exp(z) / (1 + sp.exp(z)))], 1)
    >>> lines
    ['t1_0 = np.exp(z1)', 'a1 = t1_0 / (t1_0 + 1)']
    """
    stmts, used = _shared(targets, layer, indent, start, printer)
    return [f"{s.target} {s.op} {_print(s.expr, printer)}" for s in stmts], used


def _shared(
    targets: list[Statement],
    layer: int,
    indent: int = 4,
    start: int = 0,
    printer: type[StrPrinter] | None = None,
) -> tuple[list[Statement], int]:
    """The statements of :func:`statements`, before printing."""
    counter = itertools.count(start)

    def fresh_names() -> Iterator[sp.Symbol]:
        for i in counter:
            yield sp.Symbol(naming.temp(layer, i))

    fresh = fresh_names()
    # The batch size stays out of temporaries: 1/n costs nothing where it stands.
    exprs = [t.expr for t in targets]
    temps, reduced = sp.cse(exprs, symbols=fresh, order="none", ignore=(_BATCH,))
    stmts = [Statement(sym.name, "=", expr) for sym, expr in temps]
    stmts += [
        Statement(t.target, t.op, e) for t, e in zip(targets, reduced, strict=True)
    ]
    fitted = [part for stmt in stmts for part in _fit(stmt, indent, fresh, printer)]
    return fitted, next(counter) - start


def _math(expr: sp.Expr) -> str:
    return _MathPrinter().doprint(expr)


def _comment(text: str, indent: int = 4) -> list[str]:
    return textwrap.wrap(
        text, WIDTH - indent - 2, initial_indent="# ", subsequent_indent="#   "
    )


# --- The module ------------------------------------------------------------------


_BATCH = sp.Symbol("n")


def _code_names(index: int) -> dict[sp.Symbol, sp.Symbol]:
    """Layer symbols → the code names of layer ``index``'s arrays."""
    var = naming.layer_var
    return {
        Z: sp.Symbol(var("z", index)),
        A: sp.Symbol(var("a", index)),
        Y: sp.Symbol("Y"),
        layers.N: _BATCH,
        layers.BACK: sp.Symbol(var("delta", index)),
        layers.ROWSUM: sp.Symbol(var("rowsum", index)),
        rewrite.SHIFTED: sp.Symbol(var("z", index)),
        rewrite.EXPSUM: sp.Symbol(var("expsum", index)),
    }


def _math_names(index: int, form: layers.LayerForm) -> dict[sp.Symbol, sp.Symbol]:
    """Layer symbols → their names in the comments (a⁽²⁾, δ⁽³⁾W⁽³⁾ᵀ, Σy)."""
    uni = naming.layer_unicode
    summed = "" if form.rowsum is None else _math(form.rowsum)
    summed = summed if len(summed) == 1 else f"({summed})"
    return {
        Z: sp.Symbol(uni("z", index)),
        A: sp.Symbol(uni("a", index)),
        layers.BACK: sp.Symbol(f"({uni('delta', index + 1)} {uni('W', index + 1)}ᵀ)"),
        layers.ROWSUM: sp.Symbol(f"Σ{summed}"),
        rewrite.SHIFTED: sp.Symbol(f"({uni('z', index)} - max)"),
        rewrite.EXPSUM: sp.Symbol(f"Σexp({uni('z', index)} - max)"),
    }


def _forward(form: layers.LayerForm) -> dict[str, Any]:
    """Template data for one layer's forward pass."""
    index = form.index
    names = _code_names(index)
    z, a = naming.layer_var("z", index), naming.layer_var("a", index)
    lines: list[str] = []
    alias = form.forward == Z
    if form.softmax:
        numerator = form.forward * rewrite.EXPSUM
        lines, _ = statements([Statement(a, "=", numerator.xreplace(names))], index, 4)
    elif not alias:
        lines, _ = statements([Statement(a, "=", form.forward.xreplace(names))], index)
    return {
        "index": index,
        "prev": naming.layer_var("a", index - 1),
        "z": z,
        "a": a,
        "weight": form.layer.weight,
        "bias": form.layer.bias_name,
        "softmax": form.softmax,
        "alias": alias,
        "lines": lines,
        "expsum": naming.layer_var("expsum", index),
        "text": form.activation.text,
    }


def _loss_lines(d: layers.LayerDerivation, with_delta: bool) -> list[str]:
    """The loss value (and with ``with_delta`` the output delta), cse'd together.

    With the delta come the lines that scale it: by the loss's constant factor,
    or by that times ``scale`` when :func:`_backprop` is given one.
    """
    out = d.output
    names = _code_names(out.index)
    terms, scale = d.loss_terms, d.loss_scale
    # Constant factors go to the scalar scale, off the arrays.
    coeff, terms = terms.as_coeff_Mul()
    scale = coeff * scale
    if terms.could_extract_minus_sign():
        terms, scale = -terms, -scale
    total = _total(terms, out.rowsum)
    targets = [
        Statement("total", "=", _Float(total.xreplace(names))),
        Statement("loss_value", "=", (scale * sp.Symbol("total")).xreplace(names)),
    ]
    lines: list[str] = []
    if out.rowsum is not None and (with_delta or total.has(layers.ROWSUM)):
        rowsum = Statement(
            naming.layer_var("rowsum", out.index),
            "=",
            _RowTotal(out.rowsum.xreplace(names)),
        )
        lines, _ = statements([rowsum], out.index, start=90)
    if not with_delta:
        more, _ = statements(targets, out.index)
        return lines + more
    delta = naming.layer_var("delta", out.index)
    factor, core = _constant_factor(out.delta)
    # In place where that leaves delta a new array: not a name for another one.
    for steps in (_accumulate(core), [("=", core)]):
        pieces = [Statement(delta, op, e.xreplace(names)) for op, e in steps]
        stmts, _ = _shared(targets + pieces, out.index)
        at = next(i for i, s in enumerate(stmts) if s.target == delta)
        if not stmts[at].expr.is_Atom or len(steps) == 1:
            break
    source = stmts[at].expr
    if len(steps) == 1 and source.could_extract_minus_sign():
        # A sign that cse left in front goes to the factor: one negation fewer.
        source, factor = -source, -factor
    alias = None
    if source.is_Atom:
        alias = _print(source)
        del stmts[at]
    else:
        stmts[at] = Statement(delta, stmts[at].op, source)
    lines += [f"{s.target} {s.op} {_print(s.expr)}" for s in stmts]
    return lines + _scale_lines(delta, factor.xreplace(names), alias)


#: Layer symbols that stand for arrays of a layer's full shape, and for columns.
_FULL = frozenset({Z, A, Y, rewrite.SHIFTED})
_COLUMN = frozenset({rewrite.EXPSUM, layers.ROWSUM})


def _total(terms: sp.Expr, rowsum: sp.Expr | None) -> sp.Expr:
    """The sum of ``terms`` over a batch, through dot products where it can be.

    A term that is a product of two arrays sums as one ``np.vdot``, without the
    array of products; a term of an array that is constant along each row, times
    the summand of :data:`layers.ROWSUM`, sums as a dot of two columns:

    >>> _total(Y * (rewrite.SHIFTED - sp.log(rewrite.EXPSUM)), Y)
    -_Dot(rowsum, log(expsum)) + _Dot(shifted, y)
    >>> _total((A - Y) ** 2, None)
    _Dot(a - y, a - y)
    """
    dots = []
    for term in sp.Add.make_args(sp.expand_mul(terms, deep=False)):
        coeff, rest = term.as_coeff_Mul()
        dot = _dot(rest, rowsum)
        if dot is None:
            return _Total(terms)
        dots.append(coeff * dot)
    return sp.Add(*dots)


def _dot(term: sp.Expr, rowsum: sp.Expr | None) -> sp.Expr | None:
    """``term`` summed as a :class:`_Dot`, or None."""
    if term.is_Pow and term.exp == 2 and term.base.free_symbols & _FULL:
        return _Dot(term.base, term.base)
    factors = sp.Mul.make_args(term)
    column = [f for f in factors if f.free_symbols and f.free_symbols <= _COLUMN]
    full = [f for f in factors if f.free_symbols & _FULL]
    if len(column) + len(full) != len(factors):
        return None
    if column:
        if rowsum is None or sp.Mul(*full) != rowsum:
            return None
        return _Dot(layers.ROWSUM, sp.Mul(*column))
    if len(full) < 2:
        return None
    return _Dot(full[0], sp.Mul(*full[1:]))


def _constant_factor(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``expr`` as a factor free of arrays (numbers, N) times the rest.

    >>> _constant_factor((2 * A - 2 * Y) / (2 * layers.N))
    (1/N, a - y)
    """
    factor, core = expr.as_independent(*_FULL, *_COLUMN, as_Add=False)
    content, primitive = core.as_content_primitive()
    # 2a - 2y → 2·(a - y), but H(-z)/100 + H(z) stays: no fewer operations.
    if sp.count_ops(primitive) < sp.count_ops(core):
        factor, core = factor * content, primitive
    return factor, core


def _accumulate(expr: sp.Expr) -> list[tuple[str, sp.Expr]]:
    """``expr`` as ``=`` one term, then ``+=`` or ``-=`` each other, in place.

    >>> _accumulate(A * layers.ROWSUM - Y)
    [('=', a*rowsum), ('-=', y)]
    """
    terms = sp.Add.make_args(expr)
    # The first term must make a new float array of the full shape, unnegated
    # (a bare step would print as a comparison, an array of booleans).
    leads = [
        t
        for t in terms
        if not (t.is_Atom or isinstance(t, sp.Heaviside)) and t.free_symbols & _FULL
    ]
    first = next((t for t in leads if not t.could_extract_minus_sign()), None)
    if first is None or len(terms) == 1:
        return [("=", expr)]
    steps = [("=", first)]
    for term in terms:
        if term is not first:
            negated = term.could_extract_minus_sign()
            steps.append(("-=", -term) if negated else ("+=", term))
    return steps


def _fraction(expr: sp.Expr) -> str:
    """A constant factor as one fraction: ``-1 / (2 * n)``, not ``-(1 / 2) / n``."""
    top, bottom = sp.fraction(expr)
    if bottom == 1:
        return _print(top)
    under = _print(bottom)
    return f"{_print(top)} / {under if bottom.is_Atom else f'({under})'}"


def _scale_lines(delta: str, factor: sp.Expr, alias: str | None) -> list[str]:
    """Lines that multiply the output delta by ``factor``, times ``scale`` if given.

    With ``alias``, the delta is that array, which must not change: the lines
    bind ``delta`` to a new array instead of scaling in place.
    """
    if factor == 1:
        if alias is not None:
            return [f"{delta} = {alias} if scale is None else {alias} * scale"]
        return ["if scale is not None:", f"    {delta} *= scale"]
    either = f"{_fraction(factor)} if scale is None else "
    either += _fraction(factor * sp.Symbol("scale"))
    if alias is not None:
        return [f"{delta} = {alias} * ({either})"]
    return [f"{delta} *= {either}"]


def _backward(d: layers.LayerDerivation) -> list[dict[str, Any]]:
    """Template data for each layer's backward step, last layer first."""
    steps = []
    for form in reversed(d.layers):
        index = form.index
        uni = naming.layer_unicode
        math = _math(form.delta.xreplace(_math_names(index, form)))
        if form.output:
            equation = f"{uni('delta', index)} = {math}"
            lines: list[str] = []
        else:
            derivative = form.derivative.xreplace(_math_names(index, form))
            back = f"({uni('delta', index + 1)} {uni('W', index + 1)}ᵀ)"
            equation = f"{uni('delta', index)} = {back} ⊙ {_math(derivative)}"
            lines = []
            if form.derivative != 1:
                target = naming.layer_var("delta", index)
                expr = form.derivative.xreplace(_code_names(index))
                lines, _ = statements([Statement(target, "*=", expr)], index)
        steps.append(
            {
                "index": index,
                "output": form.output,
                "comment": _comment(equation),
                "lines": lines,
                "delta": naming.layer_var("delta", index),
                "next_delta": naming.layer_var("delta", index + 1),
                "next_weight": naming.param("W", index + 1),
                "prev": naming.layer_var("a", index - 1),
                "weight": form.layer.weight,
                "bias": form.layer.bias_name,
                "grad_weight": naming.grad(form.layer.weight),
                "grad_bias": form.layer.bias_name and naming.grad(form.layer.bias_name),
                "weight_eq": f"∂L/∂{uni('W', index)} = "
                f"{uni('a', index - 1)}ᵀ {uni('delta', index)}",
                "bias_eq": f"∂L/∂{uni('b', index)} = Σₙ {uni('delta', index)}ₙ",
            }
        )
    return steps


def _init(net: Network) -> list[dict[str, Any]]:
    """Initial scales: Xavier (2/(fan_in + fan_out)) or He (2/fan_in) variance."""
    rows = []
    for layer in net.layers:
        if layer.activation.init == "he":
            std, rule = (2.0 / layer.fan_in) ** 0.5, "He"
        else:
            std, rule = (2.0 / (layer.fan_in + layer.units)) ** 0.5, "Xavier"
        rows.append({"weight": layer.weight, "std": std, "rule": rule})
    return rows


def _targets(net: Network) -> str:
    if net.loss.name == "cross_entropy":
        return "onehot"
    if net.loss.name == "bce":
        return "probability"
    return "real"


def _docstring(net: Network, d: layers.LayerDerivation, steps: list[dict]) -> list[str]:
    """The module docstring's body: the network and its gradient equations."""
    sizes = [f"{net.inputs} inputs"]
    sizes += [f"{lay.units} {lay.activation.text}" for lay in net.layers]
    uni = naming.layer_unicode
    source = plain_name(Path(net.source).name)
    lines = [
        f"{output.MARKER} {__version__} from {source}; regenerate, do not edit.",
        "",
        *_wrap_text(
            f"NumPy training code for the network '{plain_name(net.name)}', needing "
            "NumPy alone. Run it as a script for a self-test: a gradient check against "
            f"finite differences on random data, then a short training run."
        ),
        "",
        *_wrap_text(
            f"Network: {' -> '.join(sizes)}; loss {net.loss.name} "
            f"({net.loss.text}), {net.reduction} over the batch of N samples."
        ),
        "",
        f"Forward, for a batch of row vectors X = {uni('a', 0)}:",
        "",
    ]
    for form in d.layers:
        index = form.index
        bias = f" + {uni('b', index)}" if form.layer.bias else ""
        z = f"{uni('z', index)} = {uni('a', index - 1)} {uni('W', index)}{bias}"
        act = f"{uni('a', index)} = {form.activation.text}({uni('z', index)})"
        lines.append(f"    {z},  {act}")
    lines += [
        "",
        "Backward, printed from the SymPy derivation (δ = ∂L/∂z; grad_W1 is ∂L/∂W⁽¹⁾):",
        "",
    ]
    for step in steps:
        text = " ".join(line[2:].strip() for line in step["comment"])
        lines += textwrap.wrap(
            text, WIDTH - 4, initial_indent="    ", subsequent_indent="        "
        )
    lines.append("    ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,  ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾ₙ")
    forms = _stable_forms(d)
    if forms:
        lines += [
            "",
            *_wrap_text(
                "Numerically stable forms in this code, from the rewrites of "
                f"symbp.rewrite: {'; '.join(forms)}."
            ),
        ]
    return lines


def _stable_forms(d: layers.LayerDerivation) -> list[str]:
    """What the stability rewrites left in this network's formulas, in words."""
    exprs = [d.loss_terms]
    for form in d.layers:
        exprs += [
            e for e in (form.forward, form.derivative, form.delta) if e is not None
        ]
    forms = []
    if any(e.has(rewrite.Sigmoid) for e in exprs):
        forms.append("σ(u) as (1 + tanh(u/2))/2, which never overflows")
    if any(e.has(rewrite.LogAddExp) for e in exprs):
        forms.append("log(1 + eᵘ) as logaddexp(0, u)")
    if any(form.softmax for form in d.layers):
        forms.append("softmax with the row maximum subtracted")
    if d.loss_terms.has(sp.log(rewrite.EXPSUM)):
        forms.append("the log of a softmax as a log-sum-exp")
    return forms


def _wrap_text(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - 4, break_long_words=True)


def _unpack(cache: list[str], lines: list[str]) -> str:
    """The names bound from ``_forward``'s tuple, ``_``-prefixed where unused."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(lines)))
    return ", ".join(name if name in used else f"_{name}" for name in cache)


def context(net: Network, *, dtype: str = "float64") -> dict[str, Any]:
    """Everything the template needs, as plain strings, numbers and lists."""
    if dtype not in DTYPES:
        raise SpecError(
            f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}", key="dtype"
        )
    d = layers.derive(net)
    forward = [_forward(form) for form in d.layers]
    backward = _backward(d)
    cache = []
    for step in forward:
        cache += [step["z"], step["a"]] + ([step["expsum"]] if step["softmax"] else [])
    loss_lines = _loss_lines(d, with_delta=False)
    backprop_lines = _loss_lines(d, with_delta=True)
    backward_lines = [
        line
        for step in backward
        for line in [*step["lines"], step["prev"], step["next_delta"]]
    ]
    output_name = naming.layer_var("a", len(net.layers))
    unpack = {
        "predict": _unpack(cache, [output_name]),
        "loss": _unpack(cache, loss_lines),
        "backprop": _unpack(cache, backprop_lines + backward_lines),
    }
    uses_n = {
        "loss": _unpack(["n"], loss_lines) == "n",
        "backprop": _unpack(["n"], backprop_lines + backward_lines) == "n",
    }
    rules = sorted({row["rule"] for row in _init(net)})
    return {
        "version": __version__,
        "unpack": unpack,
        "uses_n": uses_n,
        "init_rule": " and ".join(rules) + " standard deviations of the weights",
        "marker": output.MARKER,
        # Checked where it entered; made plain again in case it was set since.
        "name": plain_name(net.name),
        "source": plain_name(Path(net.source).name),
        "dtype": dtype,
        "docstring": _docstring(net, d, backward),
        "inputs": net.inputs,
        "outputs": net.outputs,
        "shapes": net.param_shapes(),
        "init": _init(net),
        "forward": forward,
        "cache": cache,
        "output": naming.layer_var("a", len(net.layers)),
        "loss_lines": loss_lines,
        "backprop_lines": backprop_lines,
        "backward": backward,
        "weights": [lay.weight for lay in net.layers],
        "params": [
            {"name": name, "grad": naming.grad(name)} for name in net.param_shapes()
        ],
        "train": net.train,
        "targets": _targets(net),
        "scalar": _scalar(net, dtype),
    }


def _scalar(net: Network, dtype: str) -> dict[str, Any] | None:
    """The scalar code of a tiny network (:mod:`symbp.scalarcode`), or None."""
    from . import scalarcode

    if not scalarcode.applies(net, dtype):
        return None
    lines = scalarcode.backprop_lines(net)
    if lines is None:
        return None
    return {
        "lines": lines,
        "batch": scalarcode.scalar_batch(net),
        "logaddexp": any("_logaddexp(" in line for line in lines),
    }


def _template_folder() -> Path:
    """The installed package ``symbp.templates``, or ``templates/`` in a checkout."""
    try:
        return Path(str(resources.files("symbp.templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "templates"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_template_folder())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def generate(net: Network, *, dtype: str = "float64") -> str:
    """The standalone NumPy training module for ``net``, as source text.

    The text is deterministic: the same network and symbp version give the
    same bytes (no timestamps, no absolute paths).

    Parameters
    ----------
    net
        The network.
    dtype
        ``"float64"`` (default) or ``"float32"``: the dtype of parameters and
        arithmetic in the module.

    Examples
    --------
    >>> from symbp import spec
    >>> source = generate(spec.example("xor"))
    >>> "def loss_and_gradients(params, X, Y):" in source
    True
    >>> module = load(source)
    >>> sorted(module.PARAM_SHAPES)
    ['W1', 'W2', 'b1', 'b2']
    """
    template = _environment().get_template("module.py.j2")
    return template.render(context(net, dtype=dtype))


def load(source: str, name: str = "generated") -> types.ModuleType:
    """A module object made from the text of a module that :func:`generate` wrote.

    Only for symbp's own output, whose every formula was printed from SymPy;
    never for text from elsewhere.
    """
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102
    return module
