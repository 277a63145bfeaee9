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
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from .errors import FormulaError, suggest

if TYPE_CHECKING:
    import sympy as sp

#: Longest formula accepted, in characters.
MAX_LENGTH = 1000
#: Deepest syntax tree accepted.
MAX_DEPTH = 60
#: Largest absolute constant exponent accepted in ``u ** n``.
MAX_EXPONENT = 64
#: Largest power of ten a constant sub-expression such as ``9**64`` may reach.
MAX_MAGNITUDE = 100
#: The characters a formula may contain. Anything else (quotes, ``#``, ``\\``,
#: newlines, brackets) cannot be part of an allowed formula, and refusing it here
#: keeps comments and quotes out of the places formula text is copied to, such
#: as a generated module's docstring.
CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-*/()., "
)
#: The functions a formula may call: name → (fewest, most arguments; None: any).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, 1),
    "max": (2, None),
    "min": (2, None),
}
#: The same functions on plain floats, to size constant sub-expressions.
_FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "tanh": math.tanh,
    "sigmoid": lambda u: 1 / (1 + math.exp(-u)),
    "max": max,
    "min": min,
}
_FLOAT_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_HINT = "numbers, names, + - * / **, parentheses and calls such as tanh(z)"


def sigmoid(u: sp.Expr) -> sp.Expr:
    """The logistic function 1/(1 + e^(−u)) as a SymPy expression.

    >>> import sympy as sp
    >>> sigmoid(sp.Symbol("z"))
    1/(1 + exp(-z))
    """
    import sympy as sp

    return 1 / (1 + sp.exp(-u))


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


class _Checker:
    """Walks a syntax tree and refuses anything outside the whitelist.

    It returns each node's value when the node is a constant (``None`` when it
    depends on a variable or is not a real float), so that constants too large
    to build, such as ``9**64**64``, are refused before SymPy would evaluate them
    exactly.
    """

    def __init__(self, variables: Collection[str], fail: Callable[[str], FormulaError]):
        self.variables = variables
        self.fail = fail
        self.used: set[str] = set()

    def visit(self, node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return self.visit(node.body)
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.visit(node.operand)
            if value is None:
                return None
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"{_describe(node)} not allowed in a formula")

    def constant(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings are" if isinstance(value, (str, bytes)) else f"{value!r} is"
            raise self.fail(f"{kind} not allowed in a formula; use numbers")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("numbers in a formula must be finite")
        if isinstance(value, int) and abs(value) > 10**15:
            raise self.fail(f"the number {value} is too large for a formula")
        return float(value)

    def name(self, ident: str) -> float | None:
        if ident in self.variables:
            self.used.add(ident)
            return None
        if ident == "pi":
            return math.pi
        if ident in FUNCTIONS:
            raise self.fail(f"'{ident}' is a function; call it as {ident}(...)")
        allowed = sorted(self.variables)
        raise self.fail(
            f"unknown variable '{ident}'; a formula here may use "
            + ", ".join(repr(v) for v in allowed)
            + suggest(ident, allowed)
        )

    def binary(self, node: ast.BinOp) -> float | None:
        if isinstance(node.op, ast.BitXor):
            raise self.fail("'^' is not a power in a formula; write '**' instead")
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow):
            return self.power(left, right)
        rule = _FLOAT_BINARY.get(type(node.op))
        if rule is None:
            raise self.fail(f"the operator {type(node.op).__name__} is not allowed")
        if left is None or right is None:
            return None
        try:
            return rule(left, right)
        except ZeroDivisionError:
            raise self.fail("division by zero in a formula") from None

    def power(self, base: float | None, exponent: float | None) -> float | None:
        if exponent is not None and abs(exponent) > MAX_EXPONENT:
            raise self.fail(
                f"the exponent {exponent:.12g} is too large; at most {MAX_EXPONENT}"
            )
        if base is None or exponent is None:
            return None
        if base == 0:
            if exponent < 0:
                raise self.fail("division by zero in a formula")
            return 0.0 if exponent else 1.0
        # SymPy evaluates a constant power exactly: bound it before it does.
        digits = abs(exponent) * math.log10(abs(base))
        if digits > MAX_MAGNITUDE:
            raise self.fail(
                f"a constant power is too large (about 1e{digits:.0f}); "
                f"at most 1e{MAX_MAGNITUDE}"
            )
        if base < 0 and not float(exponent).is_integer():
            return None
        return base**exponent

    def call(self, node: ast.Call) -> float | None:
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"{_describe(node.func)} not allowed in a formula")
        fname = node.func.id
        if fname not in FUNCTIONS:
            # A function of its own (sin, cosh) is not a misspelt one: no hint.
            hint = "" if hasattr(math, fname) else suggest(fname, FUNCTIONS)
            if fname == "ln":
                hint = "; write log for the natural logarithm"
            raise self.fail(
                f"unknown function '{fname}'; allowed: "
                + ", ".join(sorted(FUNCTIONS))
                + hint
            )
        if node.keywords:
            raise self.fail(f"{fname}() takes no keyword arguments")
        low, high = FUNCTIONS[fname]
        count = len(node.args)
        if count < low or (high is not None and count > high):
            want = str(low) if high == low else f"at least {low}"
            raise self.fail(f"{fname}() takes {want} argument(s), not {count}")
        values = [self.visit(arg) for arg in node.args]
        if any(v is None for v in values):
            return None
        try:
            return _FLOAT_FUNCTIONS[fname](*values)
        except (OverflowError, ValueError):
            return None


def check(
    text: object,
    variables: Collection[str],
    *,
    source: str | None = None,
    key: str | None = None,
) -> tuple[ast.Expression, frozenset[str]]:
    """Check a formula string against the whitelist, without SymPy.

    Returns the syntax tree and the variables it uses. This is what spec
    validation runs, so a bad formula is refused before SymPy is imported.

    >>> tree, used = check("tanh(z) + z/10", ["z"])
    >>> sorted(used)
    ['z']
    >>> check("z**(9**9**9)", ["z"])
    Traceback (most recent call last):
    ...
    symbp.errors.FormulaError: the exponent 387420489 is too large; at most 64
    """

    def fail(message: str) -> FormulaError:
        return FormulaError(message, source=source, key=key)

    if not isinstance(text, str):
        raise fail(f"a formula must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise fail(f"formula is {len(text)} characters long; at most {MAX_LENGTH}")
    if not text.strip():
        raise fail("formula is empty")
    if "^" in text:
        raise fail("'^' is not a power in a formula; write '**' instead")
    odd = next((ch for ch in text if ch not in CHARACTERS), None)
    if odd is not None:
        what = "line breaks are" if odd in "\r\n" else f"the character {odd!r} is"
        raise fail(f"{what} not allowed in a formula; use {_HINT}")
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
    checker = _Checker(variables, fail)
    checker.visit(tree)
    return tree, frozenset(checker.used)


def _build(node: ast.AST, variables: Mapping[str, sp.Expr]) -> sp.Expr:
    """The SymPy expression of a tree that :func:`check` accepted."""
    import sympy as sp

    if isinstance(node, ast.Expression):
        return _build(node.body, variables)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int):
            return sp.Integer(node.value)
        return sp.Rational(repr(node.value))
    if isinstance(node, ast.Name):
        return sp.pi if node.id == "pi" else variables[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, variables)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, variables), _build(node.right, variables)
        if isinstance(node.op, ast.Pow):
            return left**right
        return _FLOAT_BINARY[type(node.op)](left, right)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    builders = {
        "exp": sp.exp,
        "log": sp.log,
        "sqrt": sp.sqrt,
        "abs": sp.Abs,
        "tanh": sp.tanh,
        "sigmoid": sigmoid,
        "max": sp.Max,
        "min": sp.Min,
    }
    return builders[node.func.id](*(_build(arg, variables) for arg in node.args))


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
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> parse("z/(1 + abs(z))", {"z": z})
    z/(Abs(z) + 1)
    >>> parse("0.5*(y - yhat)**2", {"y": sp.Symbol("y"), "yhat": sp.Symbol("yhat")})
    (y - yhat)**2/2
    >>> parse("__import__(z)", {"z": z})  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    symbp.errors.FormulaError: unknown function '__import__'; allowed: abs, exp, log,
        max, min, sigmoid, sqrt, tanh
    """
    tree, _ = check(text, variables.keys(), source=source, key=key)
    return _build(tree, variables)
