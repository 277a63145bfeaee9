"""Drawing with Graphviz: pictures, markers, a missing dot, --graph documents."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from symbp import cli, graphviz, latex, output
from symbp.output import MARKER
from symbp.render import dot
from symbp.spec import example

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="dot is not installed (apt-get install graphviz)",
)
needs_latex = pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (apt-get install texlive-latex-base)",
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext is not installed (apt-get install poppler-utils)",
)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG, each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + size]
        (crc,) = struct.unpack(">I", data[at + 8 + size : at + 12 + size])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        at += 12 + size
    return chunks


def pdf_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8", "replace")


# -- pictures --------------------------------------------------------------------


@needs_dot
def test_svg_of_xor_has_every_node_and_the_marker(tmp_path, capsys):
    target = tmp_path / "xor.svg"
    code, out, err = run(capsys, "graph", "xor", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote {target}\n")
    svg = target.read_text(encoding="utf-8")
    assert f"<!-- {MARKER} " in svg and "<svg" in svg
    assert svg.count('class="node"') == 19
    assert svg.count('class="edge"') == 20  # the invisible ones are not drawn
    assert "∂L/∂w⁽¹⁾₂₁" in svg


@needs_dot
def test_png_carries_the_marker_in_a_valid_text_chunk(tmp_path, capsys):
    target = tmp_path / "xor.png"
    assert run(capsys, "graph", "xor", "-o", str(target))[0] == 0
    chunks = png_chunks(target.read_bytes())
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    texts = [body for kind, body in chunks if kind == b"tEXt"]
    assert texts == [f"Software\x00{MARKER} 0.1.0".encode()]
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert width > 1000 and height > 300  # legible at PNG_DPI


@needs_dot
def test_pdf_picture_is_marked_by_an_incremental_update(tmp_path, capsys):
    target = tmp_path / "digits.pdf"
    assert run(capsys, "graph", "digits", "-o", str(target))[0] == 0
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert output.generated_by_symbp(target)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True)
        assert info.returncode == 0 and f"Creator:         {MARKER}" in info.stdout
        assert "Syntax Error" not in info.stderr


@needs_dot
def test_rerun_overwrites_symbps_pictures_and_refuses_others(tmp_path, capsys):
    for suffix in ("svg", "png", "pdf", "dot"):
        target = tmp_path / f"g.{suffix}"
        assert run(capsys, "graph", "xor", "-o", str(target))[0] == 0
        assert run(capsys, "graph", "xor", "-o", str(target))[0] == 0
        foreign = tmp_path / f"mine.{suffix}"
        foreign.write_bytes(b"my own picture")
        code, _, err = run(capsys, "graph", "xor", "-o", str(foreign))
        assert code == 2 and "--force" in err and err.count("\n") == 1
        assert foreign.read_bytes() == b"my own picture"
        assert run(capsys, "graph", "xor", "-o", str(foreign), "--force")[0] == 0


@needs_dot
def test_layer_form_draws_for_any_size(tmp_path, capsys):
    target = tmp_path / "digits.svg"
    assert run(capsys, "graph", "digits", "-o", str(target))[0] == 0
    svg = target.read_text(encoding="utf-8")
    assert svg.count('class="node"') == 13 and "N×64" in svg


@needs_dot
@pytest.mark.parametrize("form", ["scalar", "layer"])
def test_hostile_text_survives_dot_as_text(form):
    net = example("xor")
    hostile = 'e"]; "pwn" [label=<x>]; <B>&amp;\n}'
    net.name = hostile
    layer = net.layers[1]
    act = dataclasses.replace(layer.activation, builtin=False, source_text=hostile)
    net.layers = (net.layers[0], dataclasses.replace(layer, activation=act))
    svg = graphviz.draw(dot.render(net, form=form), "svg").decode("utf-8")
    assert svg.count('class="node"') == (19 if form == "scalar" else 13)
    assert "pwn" not in re.findall(r"<title>([^<]*)</title>", svg)
    assert "e&quot;]; &quot;pwn&quot;" in svg or 'e"]; "pwn"' in svg


def test_dot_text_needs_no_graphviz(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "graph", "xor")
    assert code == 0 and err == "" and out.startswith(f"// {MARKER}")
    assert run(capsys, "graph", "digits", "-o", str(tmp_path / "d.dot"))[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ("graph", "xor", "-o", "OUT/xor.svg"),
        ("graph", "xor", "-o", "OUT/xor.png", "--form", "layer"),
        ("derive", "xor", "--format", "latex", "--graph", "-o", "OUT/net.tex"),
        ("derive", "xor", "--graph", "--pdf", "OUT/net.pdf"),
    ],
)
def test_missing_dot_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys, args):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # no dot (nor pdflatex) there
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("symbp: error: ")
    assert "install it with: apt-get install graphviz" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("graph", "xor", "-o", "x.jpg"), ["x.jpg: -o:", ".svg, .png, .pdf or .dot"]),
        (("graph", "deep", "--sample", "3"), ["--sample:", "from 1 to 2"]),
        (("graph", "xor", "--form", "square"), ["invalid choice"]),
        (("graph", "digits", "--form", "scalar"), ["--form:", "2410", "--form layer"]),
        (("derive", "xor", "--graph"), ["--graph:", "--format latex or markdown"]),
        (("derive", "xor", "--format", "latex", "--graph"), ["--graph:", "-o FILE"]),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(capsys, args, words):
    code, out, err = run_args(capsys, args)
    assert code == 2 and out == "" and err.count("\n") == 1
    for word in words:
        assert word in err


def run_args(capsys, args):
    try:
        return run(capsys, *args)
    except SystemExit as exc:  # argparse's own usage errors
        captured = capsys.readouterr()
        return exc.code, captured.out, captured.err


def test_sample_selects_the_rows_numbers(capsys):
    first = run(capsys, "graph", "deep")[1]
    second = run(capsys, "graph", "deep", "--sample", "2")[1]
    assert "sample 1 of 2" in first and "sample 2 of 2" in second
    assert "x₁</B></FONT><BR/>= 1<BR/>" in first
    assert "x₁</B></FONT><BR/>= 0.5<BR/>" in second


# -- the markers, directly -------------------------------------------------------


def test_mark_pdf_needs_a_cross_reference_section():
    with pytest.raises(ValueError):
        graphviz.mark_pdf(b"%PDF-1.4\nno trailer\n")
    with pytest.raises(ValueError):
        graphviz.mark_png(b"GIF89a")


def test_latex_run_places_only_plain_file_names():
    for name in ("../x.pdf", "a/b.pdf", "document.tex", ".hidden.pdf"):
        with pytest.raises(ValueError):
            latex.run("", files={name: b""})


# -- derive --graph ----------------------------------------------------------------


@needs_dot
@needs_latex
@pytest.mark.parametrize("name", ["xor", "digits"])
def test_derive_latex_graph_compiles_beside_its_picture(tmp_path, capsys, name):
    tex = tmp_path / "my net.tex"
    code, _, err = run(
        capsys, "derive", name, "--format", "latex", "--graph", "-o", str(tex)
    )
    picture = tmp_path / "my-net-graph.pdf"
    assert code == 0 and f"wrote {picture}" in err
    text = tex.read_text(encoding="utf-8")
    assert r"\usepackage{graphicx}" in text
    assert r"keepaspectratio]{my-net-graph.pdf}" in text
    env = dict(os.environ, openin_any="p", openout_any="p")
    result = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
         tex.name],
        cwd=tmp_path, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert (tmp_path / "my net.pdf").stat().st_size > picture.stat().st_size
    # Again: both files are symbp's, so no --force is needed.
    assert (
        run(capsys, "derive", name, "--format", "latex", "--graph", "-o", str(tex))[0]
        == 0
    )


def test_derive_without_graph_loads_no_graphicx(capsys):
    code, out, _ = run(capsys, "derive", "xor", "--format", "latex")
    assert code == 0 and "graphicx" not in out and "computational graph" not in out


@needs_dot
@needs_latex
@needs_pdftotext
def test_derive_pdf_graph_compiles_in_symbps_folder(tmp_path, capsys):
    target = tmp_path / "deep.pdf"
    code, out, _ = run(capsys, "derive", "deep", "--graph", "--pdf", str(target))
    assert code == 0 and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.pdf"]
    text = pdf_text(target)
    assert "The computational graph" in text and "first sample" in text


@needs_dot
def test_derive_markdown_graph_references_an_svg_beside_it(tmp_path, capsys):
    md = tmp_path / "xor.md"
    assert (
        run(capsys, "derive", "xor", "--format", "markdown", "--graph", "-o", str(md))[
            0
        ]
        == 0
    )
    text = md.read_text(encoding="utf-8")
    assert "![The computational graph](xor-graph.svg)" in text
    assert output.generated_by_symbp(tmp_path / "xor-graph.svg")


@needs_dot
def test_derive_graph_refuses_before_writing_anything(tmp_path, capsys):
    mine = tmp_path / "net-graph.pdf"
    mine.write_bytes(b"mine")
    tex = tmp_path / "net.tex"
    code, _, err = run(
        capsys, "derive", "xor", "--format", "latex", "--graph", "-o", str(tex)
    )
    assert code == 2 and "net-graph.pdf" in err and not tex.exists()
    assert mine.read_bytes() == b"mine"
