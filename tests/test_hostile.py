"""Malformed and hostile input: one clear line, exit status 2, nothing run.

The cases live in tests/data/hostile.txt as data; a few that would make that
file unreadable (megabytes, thousands of parentheses, bytes that are not
UTF-8) are built here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symbp import cli

ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = Path(__file__).parent / "data" / "hostile.txt"

BASE = 'inputs = 2\n[[layers]]\nunits = 1\n[loss]\nname = "mse"\n'


def _read_cases(path: Path) -> list[tuple[str, list[str], str]]:
    cases, title, expect, body = [], None, [], []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("### "):
            if title is not None:
                cases.append((title, expect, "\n".join(body).strip() + "\n"))
            title, expect, body = line[4:].strip(), [], []
        elif title is None:
            continue
        elif line.startswith("! ") and not body:
            expect.append(line[2:])
        else:
            body.append(line)
    cases.append((title, expect, "\n".join(body).strip() + "\n"))
    return cases


CASES = _read_cases(CASES_FILE)

BUILT = [
    (
        "formula: a megabyte long",
        ["more than 256 KiB; a spec file is at most that"],
        BASE.replace(
            "units = 1\n", 'units = 1\nactivation = "' + "z+" * 500_000 + 'z"\n'
        ),
    ),
    (
        "formula: a hundred kilobytes long",
        ["layers[0].activation", "characters long; at most 1000"],
        BASE.replace(
            "units = 1\n", 'units = 1\nactivation = "' + "z+" * 50_000 + 'z"\n'
        ),
    ),
    (
        "formula: thousands of parentheses",
        ["loss.formula"],
        BASE.replace(
            'name = "mse"', 'formula = "' + "(" * 3000 + "yhat" + ")" * 3000 + '"'
        ),
    ),
    (
        "formula: nesting just under the length limit",
        ["layers[0].activation", "nested"],
        BASE.replace(
            "units = 1\n",
            'units = 1\nactivation = "' + "tanh(" * 150 + "z" + ")" * 150 + '"\n',
        ),
    ),
    (
        "an example just under the size limit, of the wrong shape",
        ["example.x", "expected shape (15000, 2), got (15000, 3)"],
        BASE
        + "[example]\nx = ["
        + "[1.0, 2.0, 3.0]," * 15_000
        + "]\ny = [[1.0]]\nW1 = [[0.1], [0.2]]\nb1 = [0.0]\n",
    ),
    (
        "TOML nested ten thousand arrays deep",
        ["TOML"],
        "inputs = " + "[" * 10_000 + "]" * 10_000 + "\n",
    ),
    (
        "a spec of several megabytes",
        ["more than 256 KiB; a spec file is at most that"],
        BASE
        + "[example]\nx = ["
        + "[1.0, 2.0, 3.0]," * 200_000
        + "]\ny = [[1.0]]\nW1 = [[0.1], [0.2]]\nb1 = [0.0]\n",
    ),
]


def test_the_corpus_is_large_and_every_case_says_what_it_expects():
    assert len(CASES) >= 40
    titles = [title for title, _, _ in CASES]
    assert len(set(titles)) == len(titles)
    for title, expect, _ in CASES:
        assert expect or title in {"empty file"}, title


def _run_in_process(tmp_path, capsys, text, *argv):
    spec = tmp_path / "bad spec.toml"
    spec.write_text(text, "utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = cli.main([argv[0], str(spec), *argv[1:]])
    out, err = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a file was written"
    return spec, code, out, err


@pytest.mark.parametrize(
    "title, expect, text", CASES + BUILT, ids=[c[0] for c in CASES + BUILT]
)
def test_bad_spec_gives_one_line_naming_file_and_key(
    tmp_path, capsys, title, expect, text, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    spec, code, out, err = _run_in_process(tmp_path, capsys, text, "derive")
    assert code == 2, err
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"symbp: error: {spec}: "), err
    assert len(err) < 400, err
    for piece in expect:
        assert piece in err, (piece, err)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "title, expect, text",
    [c for c in CASES if "formula" in c[0] or "example" in c[0]][:12],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_check_and_generate_refuse_the_same_way(tmp_path, capsys, title, expect, text):
    for command in ("check", "generate"):
        _, code, out, err = _run_in_process(tmp_path, capsys, text, command)
        assert code == 2 and out == "" and err.count("\n") == 1, (command, err)
        assert all(piece in err for piece in expect), (command, err)


def test_a_file_that_is_not_utf8(tmp_path, capsys):
    spec = tmp_path / "latin1.toml"
    spec.write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    assert cli.main(["derive", str(spec)]) == 2
    assert (
        capsys.readouterr().err
        == f"symbp: error: {spec}: not UTF-8 text; a spec is a TOML file\n"
    )


def test_a_folder_and_a_missing_file(tmp_path, capsys):
    assert cli.main(["derive", str(tmp_path)]) == 2
    assert "is a folder, not a spec file" in capsys.readouterr().err
    assert cli.main(["derive", str(tmp_path / "nope.toml")]) == 2
    assert (
        capsys.readouterr().err
        == f"symbp: error: {tmp_path / 'nope.toml'}: no such file\n"
    )
    assert cli.main(["derive", "xorr"]) == 2
    assert "did you mean 'xor'" in capsys.readouterr().err


def test_a_payload_in_a_formula_is_never_run(tmp_path, monkeypatch):
    """Each of these would create PWNED if any part of symbp evaluated the text."""
    monkeypatch.chdir(tmp_path)
    payloads = [
        "__import__('os').system('touch PWNED')",
        "open('PWNED', 'w').close() or z",
        "[open('PWNED','w') for q in (1,)] and z",
        "(lambda: open('PWNED', 'w'))() or z",
        "z.__class__.__mro__[1].__subclasses__()",
        "exec(\"open('PWNED','w')\")",
    ]
    for payload in payloads:
        toml = BASE.replace(
            "units = 1\n", f"units = 1\nactivation = {payload!r}\n".replace("\\'", "'")
        )
        spec = tmp_path / "payload.toml"
        spec.write_text(
            toml.replace("activation = '", 'activation = "').replace("'\n", '"\n', 1)
            if '"' not in payload
            else toml,
            "utf-8",
        )
        for command in ("derive", "check", "generate"):
            assert cli.main([command, str(spec)]) == 2
    assert not (tmp_path / "PWNED").exists()


def _derive_in_fresh_process(spec, tries: int):
    """``symbp derive spec`` in new Python processes: the last run, and each time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "symbp.cli", "derive", str(spec)],
            capture_output=True,
            text=True,
            env=env,
            cwd=spec.parent,
        )
        times.append(time.perf_counter() - start)
    return run, times


def test_whole_process_is_quick_and_prints_no_traceback(tmp_path):
    """A bad spec is refused within a second by a fresh Python process."""
    spec = tmp_path / "bad.toml"
    spec.write_text(BASE.replace("units = 1", "units = 0"), "utf-8")
    run, times = _derive_in_fresh_process(spec, tries=3)
    assert run.returncode == 2
    assert run.stdout == ""
    assert (
        run.stderr == f"symbp: error: {spec}: layers[0].units: "
        "expected a number from 1 to 100000, not 0\n"
    )
    assert "Traceback" not in run.stderr
    assert min(times) < 1.0, times


HEAVY = BUILT + [
    case
    for case in CASES
    if case[0].startswith(("formula: huge exponent", "too large", "too many layers"))
    or case[0] == "formula: a constant power tower"
]


#: Valid specs refused by the scalar derivation alone: their activations are
#: resolved to SymPy formulas first, so these processes import SymPy.
AFTER_SYMPY = {"too large for the scalar derivation"}


def _sympy_import_seconds() -> float:
    """How long a fresh Python process takes to import SymPy and NumPy here."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy, sympy"], check=True)
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.mark.parametrize("title, expect, text", HEAVY, ids=[c[0] for c in HEAVY])
def test_the_heaviest_cases_are_refused_within_a_second_by_a_fresh_process(
    tmp_path, title, expect, text
):
    spec = tmp_path / "heavy.toml"
    spec.write_text(text, "utf-8")
    # The best of two, so that one slow start does not decide.
    run, times = _derive_in_fresh_process(spec, tries=2)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert all(piece in run.stderr for piece in expect), run.stderr
    limit = 1.0
    if title in AFTER_SYMPY:
        # A second, or on a slower machine half a second beyond SymPy's import.
        limit = max(limit, _sympy_import_seconds() + 0.5)
    assert min(times) < limit, times


def test_usage_errors_are_one_line_with_status_2(capsys):
    for argv in (
        ["derive"],
        ["frobnicate"],
        ["derive", "xor", "--format", "pdf"],
        ["check", "xor", "--points", "many"],
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("symbp: error: "), err


def test_an_unknown_option_names_the_command_and_the_nearest_option(capsys):
    for argv, hint in (
        (["derive", "xor", "--frmat", "json"], "; did you mean '--format'?"),
        (["derive", "xor", "--frmat=json"], "; did you mean '--format'?"),
        (["graph", "xor", "stray"], ""),
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2
        extra = " ".join(argv[2:])
        assert capsys.readouterr().err == (
            f"symbp: error: unrecognized arguments: {extra}{hint} "
            f"(see 'symbp {argv[0]} --help')\n"
        )


@pytest.mark.parametrize(
    "text, hint",
    [
        ("sin(z)", ""),
        ("cosh(z)", ""),
        ("tanhh(z)", "; did you mean 'tanh'?"),
        ("ln(1 + exp(z))", "; write log for the natural logarithm"),
    ],
)
def test_an_unknown_function_gets_a_hint_only_where_one_helps(text, hint):
    import sympy as sp

    from symbp import formula
    from symbp.errors import FormulaError

    with pytest.raises(FormulaError) as info:
        formula.parse(text, {"z": sp.Symbol("z")})
    name = text.split("(")[0]
    assert str(info.value) == (
        f"unknown function '{name}'; allowed: abs, exp, log, max, min, sigmoid, "
        f"sqrt, tanh{hint}"
    )


def test_points_must_be_positive(capsys):
    assert cli.main(["check", "xor", "--points", "0"]) == 2
    assert (
        capsys.readouterr().err
        == "symbp: error: symbp check: --points: expected at least 1 point\n"
    )


def test_unknown_parameter_selector(capsys):
    assert cli.main(["derive", "xor", "--param", "W9[0][0]"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--param" in err and "W1, b1, W2, b2" in err


def test_default_name_from_an_odd_file_name_is_made_plain(tmp_path):
    from symbp import codegen, spec

    path = tmp_path / 'my "net" (v2).toml'
    path.write_text(BASE, "utf-8")
    net = spec.load(path)
    assert net.name == "my _net_ _v2_"
    source = codegen.generate(net)
    compile(source, "generated.py", "exec")
    assert '"net"' not in source
