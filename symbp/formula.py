"""Reading formula strings into SymPy expressions, without evaluating them.

Formulas arrive in spec files that students pass around, so they are treated as
untrusted text. :func:`parse` reads them with Python's ``ast`` parser and builds
the SymPy expression node by node from a whitelist: numbers, the variables the
caller allows, ``+ - * / **``, unary minus and plus, parentheses, and the
functions in :data:`FUNCTIONS`. Nothing is evaluated: no ``eval``, no
``sympify`` and no ``parse_expr`` ever sees the text.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import sympy as sp

from .errors import FormulaError, suggest

#: Longest formula accepted, in characters.
MAX_LENGTH = 1000
#: Deepest syntax tree accepted.
MAX_DEPTH = 60
#: Largest absolute constant exponent accepted in ``u ** n``.
MAX_EXPONENT = 64


def sigmoid(u: sp.Expr) -> sp.Expr:
    """The logistic function 1/(1 + e^(−u)) as a SymPy expression.

    >>> sigmoid(sp.Symbol("z"))
    1/(1 + exp(-z))
    """
    return 1 / (1 + sp.exp(-u))


def _max(*args: sp.Expr) -> sp.Expr:
    return sp.Max(*args)


def _min(*args: sp.Expr) -> sp.Expr:
    return sp.Min(*args)


#: name → (builder, smallest arity, largest arity or None for any)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int, int | None]] = {
    "exp": (sp.exp, 1, 1),
    "log": (sp.log, 1, 1),
    "sqrt": (sp.sqrt, 1, 1),
    "abs": (sp.Abs, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "sigmoid": (sigmoid, 1, 1),
    "max": (_max, 2, None),
    "min": (_min, 2, None),
}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _describe(node: ast.AST) -> str:
    """A short phrase for a construct that is not allowed."""
    names = {
        ast.Attribute: "attribute access is",
        ast.Subscript: "subscripts are",
        ast.Lambda: "lambdas are",
        ast.ListComp: "comprehensions are",
        ast.GeneratorExp: "comprehensions are",
        ast.SetComp: "comprehensions are",
        ast.DictComp: "comprehensions are",
        ast.Compare: "comparisons are",
        ast.BoolOp: "'and'/'or' are",
        ast.IfExp: "conditional expressions are",
        ast.NamedExpr: "assignments are",
        ast.Starred: "starred arguments are",
        ast.JoinedStr: "f-strings are",
        ast.List: "lists are",
        ast.Tuple: "tuples are",
        ast.Dict: "dicts are",
        ast.Set: "sets are",
        ast.Await: "'await' is",
        ast.Yield: "'yield' is",
    }
    return names.get(type(node), f"the construct {type(node).__name__} is")


def _depth(tree: ast.AST) -> int:
    """Depth of a syntax tree, measured without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


class _Builder:
    """Turns a checked syntax tree into a SymPy expression, refusing the rest."""

    def __init__(self, text: str, variables: Mapping[str, sp.Expr], fail):
        self.text = text
        self.variables = variables
        self.fail = fail

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"{_describe(node)} not allowed in a formula")

    def constant(self, value: object) -> sp.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings are" if isinstance(value, (str, bytes)) else f"{value!r} is"
            raise self.fail(f"{kind} not allowed in a formula; use numbers")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("numbers in a formula must be finite")
        if isinstance(value, int):
            if abs(value) > 10**15:
                raise self.fail(f"the number {value} is too large for a formula")
            return sp.Integer(value)
        return sp.Rational(repr(value))

    def name(self, ident: str) -> sp.Expr:
        if ident in self.variables:
            return self.variables[ident]
        if ident == "pi":
            return sp.pi
        if ident in FUNCTIONS:
            raise self.fail(f"'{ident}' is a function; call it as {ident}(...)")
        allowed = sorted(self.variables)
        raise self.fail(
            f"unknown variable '{ident}'; a formula here may use "
            + ", ".join(repr(v) for v in allowed)
            + suggest(ident, allowed)
        )

    def binary(self, node: ast.BinOp) -> sp.Expr:
        if isinstance(node.op, ast.BitXor):
            raise self.fail("'^' is not a power in a formula; write '**' instead")
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left)
            exponent = self.build(node.right)
            if exponent.is_number and abs(float(exponent)) > MAX_EXPONENT:
                raise self.fail(
                    f"the exponent {exponent} is too large; at most {MAX_EXPONENT}"
                )
            return base**exponent
        rule = _BINARY.get(type(node.op))
        if rule is None:
            raise self.fail(f"the operator {type(node.op).__name__} is not allowed")
        return rule(self.build(node.left), self.build(node.right))

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"{_describe(node.func)} not allowed in a formula")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise self.fail(
                f"unknown function '{fname}'; allowed: "
                + ", ".join(sorted(FUNCTIONS))
                + suggest(fname, FUNCTIONS)
            )
        if node.keywords:
            raise self.fail(f"{fname}() takes no keyword arguments")
        builder, low, high = FUNCTIONS[fname]
        count = len(node.args)
        if count < low or (high is not None and count > high):
            want = str(low) if high == low else f"at least {low}"
            raise self.fail(f"{fname}() takes {want} argument(s), not {count}")
        return builder(*(self.build(arg) for arg in node.args))


def parse(
    text: object,
    variables: Mapping[str, sp.Expr],
    *,
    source: str | None = None,
    key: str | None = None,
) -> sp.Expr:
    """Read a formula string into a SymPy expression.

    Parameters
    ----------
    text
        The formula, for example ``"z/(1 + abs(z))"``.
    variables
        The names the formula may use, each mapped to its SymPy symbol.
    source, key
        Where the text came from, for error messages.

    Raises
    ------
    FormulaError
        For anything outside the whitelist, with the reason.

    Examples
    --------
    >>> z = sp.Symbol("z", real=True)
    >>> parse("z/(1 + abs(z))", {"z": z})
    z/(Abs(z) + 1)
    >>> parse("0.5*(y - yhat)**2", {"y": sp.Symbol("y"), "yhat": sp.Symbol("yhat")})
    (y - yhat)**2/2
    >>> parse("__import__('os')", {"z": z})
    Traceback (most recent call last):
    ...
    symbp.errors.FormulaError: unknown function '__import__'; allowed: abs, exp, log, max, min, sigmoid, sqrt, tanh
    """

    def fail(message: str) -> FormulaError:
        return FormulaError(message, source=source, key=key)

    if not isinstance(text, str):
        raise fail(f"a formula must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise fail(f"formula is {len(text)} characters long; at most {MAX_LENGTH}")
    if not text.strip():
        raise fail("formula is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        detail = exc.msg.split(" (")[0]
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise fail(f"formula is not valid syntax ({detail}): {shown!r}") from None
    except (RecursionError, MemoryError, ValueError):
        raise fail("formula is nested too deeply") from None
    if _depth(tree) > MAX_DEPTH:
        raise fail(f"formula is nested more than {MAX_DEPTH} levels deep")
    return _Builder(text, variables, fail).build(tree)
