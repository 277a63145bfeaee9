"""The exceptions symbp raises: one base, each message naming the place and the fix.

Every error a user can cause is a :class:`SymbpError`. Its text is one line of
the form ``source: key: what is wrong; what to do``, so that the command line
can print it as it is and exit with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SymbpError(Exception):
    """Base of every error symbp reports to a user.

    Parameters
    ----------
    message
        What is wrong, and where possible what to do instead.
    source
        The file (or other origin, such as ``"<api>"``) the bad value came from.
    key
        The dotted key inside the source, for example ``layers[1].activation``.
    """

    def __init__(
        self, message: str, *, source: str | None = None, key: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.source = source
        self.key = key

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.key) if p]
        return ": ".join([*parts, self.message])


class SpecError(SymbpError):
    """A network specification is malformed or inconsistent."""


class FormulaError(SpecError):
    """A formula string uses a construct outside the whitelist."""


class SelectionError(SymbpError, KeyError):
    """A parameter entry asked for by name is not in the network."""


class DataError(SymbpError):
    """A data file does not fit the network."""


class TrainingError(SymbpError):
    """Training broke down: the loss stopped being a finite number."""


class OutputError(SymbpError):
    """A file could not be written, or writing it would destroy a user's file."""


class ToolMissingError(SymbpError):
    """An external program (a LaTeX engine, Graphviz) is not installed."""


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``.

    >>> suggest("sigmod", ["sigmoid", "tanh"])
    "; did you mean 'sigmoid'?"
    >>> suggest("zzz", ["sigmoid"])
    ''
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
