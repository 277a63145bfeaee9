"""The Markdown document: current files, escaping, numbers and notebook display."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from symbp import cli, output
from symbp.derive import Derivation
from symbp.errors import SpecError
from symbp.render import json as json_render
from symbp.render import markdown
from symbp.spec import Dense, Network, example, example_names

GENERATED = Path(__file__).resolve().parents[1] / "generated"


def document(name: str) -> str:
    net = example(name)
    try:
        d = Derivation(net)
    except Exception:  # too large for the scalar form: layer form only
        return markdown.render_network(net)
    numbers = d.evaluate_example() if net.example is not None else None
    return markdown.render(d, numbers)


@pytest.mark.parametrize("name", example_names())
def test_generated_markdown_is_current(name):
    path = GENERATED / f"{name}.md"
    command = f"symbp derive {name} --format markdown -o generated/{name}.md"
    assert path.exists(), f"run: {command}"
    assert path.read_text() == document(name), (
        f"generated/{name}.md is stale; run: {command}"
    )


@pytest.mark.parametrize("name", example_names())
def test_markdown_has_marker_balanced_math_and_no_latex_only_macros(name):
    text = (GENERATED / f"{name}.md").read_text()
    assert text.startswith(f"<!-- {output.MARKER}")
    assert text.count("$$") % 2 == 0
    for line in text.splitlines():
        if not line.startswith("$$"):
            assert line.count("$") % 2 == 0, line
    assert "\\bm{" not in text and "\\documentclass" not in text


_ROW = re.compile(
    r"^\| \$\\mathtt\{(?P<ref>[^}]*)\}\$ \| [^|]* \| \$(?P<value>[^$]*)\$ \| "
    r"\$(?P<grad>[^$]*)\$ \| \$(?P<updated>[^$]*)\$ \|$",
    re.M,
)


@pytest.mark.parametrize("name", [n for n in example_names() if example(n).example])
def test_numbers_in_markdown_equal_json(name):
    d = Derivation(example(name))
    data = json.loads(json_render.render(d, d.evaluate_example()))["example"]
    rows = {m["ref"]: m for m in _ROW.finditer((GENERATED / f"{name}.md").read_text())}
    assert set(rows) == {g.ref for g in d.gradients}
    for g in d.gradients:
        for key, table in (("grad", "gradients"), ("updated", "updated")):
            shown = rows[g.ref][key]
            assert re.fullmatch(r"-?\d+\.\d{6}( \\times 10\^\{-?\d+\})?", shown), shown
            exact = data[table][g.param]
            for i in g.index:
                exact = exact[i]
            mantissa, _, power = shown.partition(r" \times 10^{")
            value = float(mantissa) * (10.0 ** int(power.rstrip("}")) if power else 1.0)
            assert value == pytest.approx(exact, abs=5.1e-7), g.ref


@pytest.mark.parametrize(
    "name", [r"x}\input{/etc/passwd}", "#$%&_{}~^\\", "<script>`x`</script>"]
)
def test_user_text_is_escaped(name):
    layers = [Dense(1, "z/(1 + abs(z))")]
    with pytest.raises(SpecError, match="not allowed in a name"):
        Network(inputs=2, layers=layers, loss="half_sse", name=name)
    # Refused where it enters; the renderer escapes it all the same.
    net = Network(inputs=2, layers=layers, loss="half_sse")
    net.name = name
    text = markdown.render(Derivation(net))
    title = next(line for line in text.splitlines() if line.startswith("# "))
    assert "<script>" not in text
    assert "$" not in title.replace("\\$", "")
    assert "`` z/(1 + abs(z)) ``" in text or "` z/(1 + abs(z)) `" in text
    comment = text.splitlines()[0]
    assert comment.count("-->") == 1 and comment.endswith("-->")


def test_code_span_outlasts_backticks_in_the_text():
    assert markdown.code("a`b``c") == "``` a`b``c ```"


def test_notebook_markdown_repr_is_the_document_with_numbers():
    d = Derivation(example("homework"))
    text = d._repr_markdown_()
    assert text == markdown.render(d, d.evaluate_example())
    assert "## Worked example" in text


def test_cli_markdown_with_param_selection(capsys):
    assert (
        cli.main(["derive", "xor", "--format", "markdown", "--param", "W2[1][0]"]) == 0
    )
    out = capsys.readouterr().out
    assert "$\\mathtt{W2[1][0]}$" in out and "$\\mathtt{W1[0][0]}$" not in out
