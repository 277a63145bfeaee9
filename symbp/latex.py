"""Compiling a LaTeX document to PDF with a real engine, safely.

:func:`compile_pdf` runs ``pdflatex`` in a fresh temporary folder, with shell
escape disabled, file reading and writing restricted to that folder
(``openin_any``/``openout_any`` set to paranoid), no terminal interaction, and a
time limit. A missing engine and a failed run are :class:`~symbp.errors.SymbpError`
s whose one-line message says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

from .errors import SymbpError, ToolMissingError

#: The engine, and the Debian packages that provide it with what documents use.
ENGINE = "pdflatex"
INSTALL = "apt-get install texlive-latex-base"
#: Seconds a run may take before it is stopped.
TIME_LIMIT = 60.0
#: A file name that may be placed beside the document.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z0-9]+")


class LatexError(SymbpError):
    """The LaTeX engine failed on a document; the message names the log's error."""


def engine() -> str:
    """The path of the engine, or :class:`ToolMissingError` naming what to install."""
    path = shutil.which(ENGINE)
    if path is None:
        raise ToolMissingError(f"{ENGINE} not found; install it with: {INSTALL}")
    return path


class Run(NamedTuple):
    """One run of the engine: the PDF (None when none was written) and the log."""

    pdf: bytes | None
    log: str


def run(
    tex: str, *, files: dict[str, bytes] | None = None, timeout: float = TIME_LIMIT
) -> Run:
    """Run the engine once on a document in a fresh temporary folder.

    ``files`` are placed beside the document first, by plain file name (such as
    a picture that ``\\includegraphics`` reads); the engine can read nothing
    outside the folder.

    Raises :class:`ToolMissingError` without an engine, and
    :class:`subprocess.TimeoutExpired` when it runs out of time.
    """
    files = dict(files or {})
    for name in files:
        if not _PLAIN.fullmatch(name) or name.startswith("document."):
            raise ValueError(f"not a plain file name for the folder: {name!r}")
    command = [
        engine(),
        "-no-shell-escape",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "document.tex",
    ]
    env = dict(os.environ, openin_any="p", openout_any="p")
    with tempfile.TemporaryDirectory(prefix="symbp-latex-") as folder:
        work = Path(folder)
        (work / "document.tex").write_text(tex, encoding="utf-8")
        for name, data in files.items():
            (work / name).write_bytes(data)
        subprocess.run(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
        pdf, log = work / "document.pdf", work / "document.log"
        return Run(
            pdf.read_bytes() if pdf.exists() else None,
            log.read_text(encoding="utf-8", errors="replace") if log.exists() else "",
        )


def compile_pdf(
    tex: str,
    *,
    files: dict[str, bytes] | None = None,
    source: str | None = None,
    timeout: float = TIME_LIMIT,
) -> bytes:
    """Compile a standalone LaTeX document and return the PDF's bytes.

    ``files`` (plain file name to content) are placed beside the document, as
    :func:`run` does.

    Raises
    ------
    ToolMissingError
        When ``pdflatex`` is not on the PATH.
    LatexError
        When the engine fails or runs out of time; the message quotes the first
        error line of the log.
    """
    try:
        result = run(tex, files=files, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LatexError(
            f"{ENGINE} did not finish within {timeout:g} s", source=source
        ) from None
    error = first_error(result.log)
    if error or result.pdf is None:
        raise LatexError(
            f"{ENGINE} failed: {error or 'no PDF was written'}", source=source
        )
    return result.pdf


def first_error(log: str) -> str | None:
    """The first error of a LaTeX log, with the line it names, on one line.

    >>> first_error("x\\n./document.tex:12: Undefined control sequence.\\nl.12 \\\\foo")
    'document.tex line 12: Undefined control sequence. (l.12 \\\\foo)'
    >>> first_error("! Emergency stop.\\nl.3 x") is None
    False
    >>> first_error("all good") is None
    True
    """
    lines = log.splitlines()
    for k, line in enumerate(lines):
        where, message = None, None
        if line.startswith("!"):
            message = line[1:].strip()
        elif ".tex:" in line and line.split(".tex:", 1)[1].split(":", 1)[0].isdigit():
            name, rest = line.split(".tex:", 1)
            number, message = rest.split(":", 1)
            where = f"{Path(name).name}.tex line {number}"
            message = message.strip()
        if message is None:
            continue
        context = next(
            (t.strip() for t in lines[k + 1 : k + 6] if t.startswith("l.")), ""
        )
        text = f"{where}: {message}" if where else message
        return f"{text} ({context})" if context else text
    return None
