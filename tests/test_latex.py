"""The LaTeX document and its compilation: every built-in example, read back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from symbp import cli, latex, output
from symbp.check import check_derivation
from symbp.derive import Derivation
from symbp.errors import SpecError, ToolMissingError
from symbp.render import json as json_render
from symbp.render import latex as latex_render
from symbp.render.texmath import _ESCAPES, escape
from symbp.spec import Dense, Network, example, example_names, loads

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "generated"
HOSTILE = [r"x}\input{/etc/passwd}", "#$%&_{}~^\\", "a\nb\\end{document}"]
WIDE = 10.0  # pt: the widest Overfull \hbox allowed

needs_engine = pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (apt-get install texlive-latex-base)",
)


def derive_cli(*args: str, capsys=None) -> tuple[int, str, str]:
    code = cli.main(["derive", *args])
    out = capsys.readouterr() if capsys else None
    return code, out.out if out else "", out.err if out else ""


def document(name: str) -> str:
    """The example's document as the command line writes it."""
    net = example(name)
    try:
        d = Derivation(net)
    except Exception:  # too large for the scalar form: layer form only
        return latex_render.render_network(net)
    numbers = d.evaluate_example() if net.example is not None else None
    return latex_render.render(d, numbers)


def overfull(log: str) -> list[float]:
    """The widths (pt) of every Overfull \\hbox the engine reports."""
    return [
        float(w)
        for w in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide", log)
    ]


def errors(log: str) -> list[str]:
    return [
        line for line in log.splitlines() if line.startswith("!") or ".tex:" in line
    ]


@pytest.fixture(scope="module")
def compiled():
    """Each example's document and its engine run, compiled once per session."""
    cache: dict[str, tuple[str, latex.Run]] = {}

    def get(name: str):
        if name not in cache:
            tex = document(name)
            cache[name] = (tex, latex.run(tex))
        return cache[name]

    return get


# -- generated/ is what the command line writes ---------------------------------


@pytest.mark.parametrize("name", example_names())
def test_generated_tex_is_current(name):
    path = GENERATED / f"{name}.tex"
    assert path.exists(), (
        f"run: symbp derive {name} --format latex -o generated/{name}.tex"
    )
    assert path.read_text() == document(name), (
        f"generated/{name}.tex is stale; run: symbp derive {name} --format latex "
        f"-o generated/{name}.tex"
    )


@pytest.mark.parametrize("name", example_names())
def test_generated_tex_has_marker_and_no_local_paths(name):
    text = (GENERATED / f"{name}.tex").read_text()
    assert output.MARKER in text.splitlines()[0]
    assert str(ROOT) not in text and "/home/" not in text and "/tmp/" not in text


# -- compiling ------------------------------------------------------------------


@needs_engine
@pytest.mark.parametrize("name", example_names())
def test_example_compiles_without_errors_or_wide_boxes(name, compiled):
    _, result = compiled(name)
    assert result.pdf is not None, latex.first_error(result.log)
    assert not errors(result.log)
    wide = [w for w in overfull(result.log) if w > WIDE]
    assert not wide, f"Overfull \\hbox wider than {WIDE}pt in {name}: {wide}"


@needs_engine
def test_pdf_carries_marker_so_a_new_one_replaces_it(tmp_path, capsys):
    target = tmp_path / "xor.pdf"
    assert cli.main(["derive", "xor", "--pdf", str(target)]) == 0
    assert output.generated_by_symbp(target)
    assert cli.main(["derive", "xor", "--pdf", str(target)]) == 0  # no --force needed
    assert target.read_bytes().startswith(b"%PDF")


@needs_engine
def test_failed_compile_names_the_log_line():
    bad = (
        "\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n\\end{document}\n"
    )
    with pytest.raises(latex.LatexError, match=r"line 3: Undefined control sequence"):
        latex.compile_pdf(bad, source="bad.tex")


def test_missing_engine_is_one_line_naming_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install texlive-latex-base"):
        latex.compile_pdf("\\documentclass{article}")
    assert cli.main(["derive", "xor", "--pdf", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        "pdflatex not found; install it with: apt-get install texlive-latex-base" in err
    )


# -- numbers: one source of truth -----------------------------------------------

_ROW = re.compile(
    r"^\$\\mathtt\{(?P<ref>[Wb]\d+(?:\[\d+\])+)\}\$ & \$[^$]*\$ & "
    r"\$(?P<value>[^$]*)\$ & "
    r"\$(?P<grad>[^$]*)\$ & \$(?P<updated>[^$]*)\$ \\\\$",
    re.M,
)


def parse_number(text: str) -> float:
    r"""``0.123456`` or ``-1.234567 \times 10^{-7}``."""
    m = re.fullmatch(r"\s*(-?\d+\.\d+)(?: \\times 10\^\{(-?\d+)\})?\s*", text)
    assert m, f"not a number: {text!r}"
    decimals = m[1].split(".")[1]
    assert len(decimals) >= 6, f"fewer than 6 decimals: {text!r}"
    return float(m[1]) * (10.0 ** int(m[2]) if m[2] else 1.0)


def table_rows(tex: str) -> dict[str, dict[str, float]]:
    return {
        m["ref"]: {k: parse_number(m[k]) for k in ("value", "grad", "updated")}
        for m in _ROW.finditer(tex)
    }


def _entry(nested, ref: str) -> float:
    name, _, rest = ref.partition("[")
    value = nested[name]
    for i in re.findall(r"\d+", rest):
        value = value[int(i)]
    return float(value)


def close(shown: float, exact: float) -> bool:
    """Equal to the 6 decimals shown (mantissa decimals for tiny numbers)."""
    return abs(shown - exact) <= 5.1e-7 * max(1.0, abs(exact)) or (
        abs(exact) < 1e-4 and abs(shown - exact) <= 5.1e-7 * abs(exact) * 10
    )


@pytest.mark.parametrize("name", [n for n in example_names() if example(n).example])
def test_numbers_in_tex_equal_json_and_check(name):
    net = example(name)
    d = Derivation(net)
    numbers = d.evaluate_example()
    data = json.loads(json_render.render(d, numbers))["example"]
    rows = table_rows((GENERATED / f"{name}.tex").read_text())
    assert set(rows) == {g.ref for g in d.gradients}
    ex = net.example
    report = check_derivation(d, ex.x, ex.y, ex.params)
    analytic = {e.ref.replace(" ", ""): e.analytic for e in _entries(report)}
    assert set(analytic) == set(rows)
    for ref, shown in rows.items():
        assert close(shown["grad"], _entry(data["gradients"], ref)), ref
        assert close(shown["updated"], _entry(data["updated"], ref)), ref
        assert close(shown["value"], _entry(data["params"], ref)), ref
        if ref in analytic:
            assert close(shown["grad"], analytic[ref]), ref
    loss = re.findall(
        r"^\$L\$ & (.*) \\\\$", (GENERATED / f"{name}.tex").read_text(), re.M
    )
    shown = [parse_number(v.strip("$ ")) for v in loss[0].split(" & ")]
    assert shown == pytest.approx(np.asarray(data["sample_losses"]), abs=6e-7)


def _entries(report):
    for param in report.params:
        yield from param.entries


# -- escaping user text ---------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_no_active_character(text):
    out = escape(text)
    stripped = out
    for seq in sorted(_ESCAPES.values(), key=len, reverse=True):
        stripped = stripped.replace(seq, "")
    assert not re.search(r"[\\{}$&#^_%~]", stripped), out
    assert "\n" not in out


@needs_engine
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_spec_name_compiles_and_reads_nothing(name):
    layers = [Dense(2, "z/(1 + abs(z))"), Dense(1, "sigmoid")]
    with pytest.raises(SpecError, match="not allowed in a name"):
        Network(inputs=2, layers=layers, loss="half_sse", name=name)
    # Refused where it enters; the renderer escapes it all the same.
    net = Network(inputs=2, layers=layers, loss="half_sse")
    net.name = name
    tex = latex_render.render(Derivation(net))
    body = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert "\\input{" not in body
    result = latex.run(tex)
    assert result.pdf is not None, latex.first_error(result.log)
    assert "(/etc/passwd" not in result.log
    assert not [w for w in overfull(result.log) if w > WIDE]


@needs_engine
def test_custom_formulas_are_shown_escaped_and_compile():
    spec = """
name = "custom_1.0 +"
inputs = 2
[[layers]]
units = 2
activation = "z/(1 + abs(z))"
[[layers]]
units = 1
activation = "tanh"
[loss]
formula = "(y - yhat)**2/2 + abs(y - yhat)"
"""
    net = loads(spec, source="custom.toml")
    tex = latex_render.render(Derivation(net))
    assert r"\texttt{z/(1 + abs(z))}" in tex
    assert "custom\\_1.0 +" in tex
    result = latex.run(tex)
    assert result.pdf is not None, latex.first_error(result.log)
    assert not [w for w in overfull(result.log) if w > WIDE]


# -- selection, notebooks, large networks ---------------------------------------


def test_param_selection_keeps_one_entry(tmp_path, capsys):
    target = tmp_path / "w.tex"
    assert (
        cli.main(
            [
                "derive",
                "homework",
                "--format",
                "latex",
                "--param",
                "W1[0][1]",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    rows = table_rows(target.read_text())
    assert list(rows) == ["W1[0][1]"]
    text = target.read_text()
    assert r"\frac{\partial L}{\partial w^{(1)}_{12}}" in text
    assert r"\frac{\partial L}{\partial w^{(2)}_{11}}" not in text
    assert "Backpropagation in layer form" not in text


def test_param_selection_of_a_whole_array(capsys):
    assert cli.main(["derive", "deep", "--format", "latex", "--param", "b2"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert list(rows) == ["b2[0]", "b2[1]"]


def test_notebook_latex_repr_is_display_math():
    text = Derivation(example("xor"))._repr_latex_()
    assert text.startswith("$$") and text.endswith("$$")
    assert r"\delta^{(2)}_{1}" in text and "\\documentclass" not in text


def test_layer_form_document_for_a_network_too_large_for_scalars(tmp_path, capsys):
    spec = tmp_path / "big.toml"
    spec.write_text(
        'name = "big"\ninputs = 40\n[[layers]]\nunits = 30\nactivation = "relu"\n'
        '[[layers]]\nunits = 3\nactivation = "softmax"\n[loss]\nname = '
        '"cross_entropy"\n'
    )
    target = tmp_path / "big.tex"
    assert cli.main(["derive", str(spec), "--format", "latex", "-o", str(target)]) == 0
    text = target.read_text()
    assert "Backpropagation in layer form" in text
    assert r"\bm{a}^{(1)\top} \bm{\delta}^{(2)}" in text
    assert "rowsum" in text
    if shutil.which("pdflatex"):
        result = latex.run(text)
        assert result.pdf is not None, latex.first_error(result.log)
        assert not [w for w in overfull(result.log) if w > WIDE]


def test_text_output_of_a_network_too_large_for_scalars_is_refused(tmp_path, capsys):
    # --pdf alone gives the layer-form PDF; text to a file has no layer form.
    target = tmp_path / "digits.txt"
    code = cli.main(
        ["derive", "digits", "--pdf", str(tmp_path / "d.pdf"), "-o", str(target)]
    )
    assert code == 2
    assert "use the layer form" in capsys.readouterr().err
    assert not target.exists()
