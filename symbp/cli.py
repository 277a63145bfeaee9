"""The command line: ``symbp derive | generate | graph | check | train | exercise |
examples``.

The only place that prints. Every :class:`~symbp.errors.SymbpError` becomes one
line on standard error and exit status 2; a failed check exits with 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__, output
from .errors import OutputError, SpecError, SymbpError, suggest

FORMATS = {
    "text": "symbp.render.text",
    "json": "symbp.render.json",
    "markdown": "symbp.render.markdown",
    "latex": "symbp.render.latex",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit status 2."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"symbp: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symbp", description="Derive, typeset and generate backpropagation."
    )
    parser.add_argument("--version", action="version", version=f"symbp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "derive", help="the chain rule for every parameter, with the example's numbers"
    )
    p.add_argument("spec", help="a spec file (TOML) or the name of a built-in example")
    p.add_argument("--format", choices=list(FORMATS), default="text")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of standard output",
    )
    p.add_argument("--pdf", metavar="FILE", help="compile the LaTeX document to FILE")
    p.add_argument(
        "--param",
        action="append",
        metavar="SEL",
        help="only this parameter: an entry such as 'W1[0][1]' or a whole array "
        "such as 'b2' (repeatable)",
    )
    p.add_argument(
        "--expanded",
        action="store_true",
        help="also write each gradient in x, y, w, b alone (small networks)",
    )
    p.add_argument(
        "--graph",
        action="store_true",
        help="include the computational graph (needs Graphviz): a PDF picture for "
        "LaTeX and --pdf, an SVG for Markdown, written beside -o FILE as "
        "FILE-graph.pdf or .svg",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite files symbp did not generate"
    )
    p.set_defaults(run=_derive)

    p = sub.add_parser("generate", help="a standalone NumPy training module")
    p.add_argument("spec", help="a spec file (TOML) or the name of a built-in example")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of standard output",
    )
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument(
        "--force", action="store_true", help="overwrite files symbp did not generate"
    )
    p.set_defaults(run=_generate)

    p = sub.add_parser(
        "graph",
        help="the computational graph as a picture (SVG, PNG, PDF) or DOT text",
        description="Draw the network as a computational graph, left to right from "
        "the inputs to the loss. The scalar form has a node per weight, bias, z, a, "
        "input, target and the loss, and with the spec's [example] each node's value "
        "and adjoint dL/dnode; the layer form has a node per operation, with shapes. "
        "Pictures need Graphviz's dot; DOT text does not.",
    )
    p.add_argument("spec", help="a spec file (TOML) or the name of a built-in example")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write FILE; its suffix picks the format: .svg, .png, .pdf or .dot "
        "(without -o the DOT text goes to standard output)",
    )
    p.add_argument(
        "--form",
        choices=["auto", "scalar", "layer"],
        default="auto",
        help="one node per scalar, or per layer operation; auto: scalar up to "
        "40 parameters",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=1,
        metavar="N",
        help="the [example] sample whose numbers are shown (from 1)",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite files symbp did not generate"
    )
    p.set_defaults(run=_graph)

    p = sub.add_parser(
        "check",
        help="finite differences against the derivation and the generated module",
    )
    p.add_argument("spec", help="a spec file (TOML) or the name of a built-in example")
    p.add_argument(
        "--points",
        type=int,
        default=None,
        help="random points to check at (default: 3 when the spec has no "
        "[example], none beside it when it has)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_check)

    p = sub.add_parser(
        "exercise",
        help="a random small network, questions and answers",
        description="Write DIR/exercise.toml, question.md/.tex and answer.md/.tex.",
    )
    p.add_argument("--seed", type=int, required=True, help="decides what is not given")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="a folder")
    p.add_argument("--sizes", metavar="N,N,...", help="inputs, units per layer; 1-4")
    p.add_argument("--activation", metavar="NAME[,NAME...]", help="all layers, or each")
    p.add_argument("--loss", metavar="NAME", help="half_sse, mse, bce, cross_entropy")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--samples", type=int, default=1, help="samples in the batch, 1-4")
    p.add_argument("--force", action="store_true", help="overwrite files not symbp's")
    p.set_defaults(run=_exercise)

    p = sub.add_parser(
        "train",
        help="train the network on a CSV or NPZ file",
        description="Train the network on data, with the spec's [train] values "
        "unless given here; report the training and held-out loss (and accuracy, "
        "for a classifier), save the parameters (-o) and the loss curve (--plot).",
    )
    p.add_argument("spec", help="a spec file (TOML) or the name of a built-in example")
    p.add_argument(
        "--data",
        metavar="FILE",
        required=True,
        help="a CSV with a header row, or an .npz with arrays X and Y",
    )
    p.add_argument(
        "--target",
        metavar="NAME",
        nargs="+",
        action="extend",
        help="the CSV's target columns (default: the last ones)",
    )
    p.add_argument(
        "--test-fraction",
        metavar="F",
        type=float,
        default=0.2,
        help="share of the rows held out (default 0.2; 0 trains on every row)",
    )
    spec_value = "(default: the spec's [train] value)"
    p.add_argument("--epochs", metavar="N", type=int, help=spec_value)
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], help=spec_value)
    p.add_argument("--learning-rate", metavar="A", type=float, help=spec_value)
    p.add_argument("--batch-size", metavar="B", type=int, help=spec_value)
    p.add_argument(
        "--seed",
        metavar="S",
        type=int,
        default=0,
        help="decides the split, the initial weights and the shuffles (default 0)",
    )
    p.add_argument(
        "--standardize",
        action="store_true",
        help="scale each input to mean 0, std 1 (training rows' statistics, saved)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="save the parameters (.npz)")
    p.add_argument("--plot", metavar="FILE", help="draw the loss curve (.png)")
    p.add_argument(
        "--force", action="store_true", help="overwrite files symbp did not generate"
    )
    p.set_defaults(run=_train)

    p = sub.add_parser("examples", help="list the built-in example specs")
    p.add_argument("name", nargs="?", help="print this example's TOML")
    p.set_defaults(run=_examples)
    parser.commands = sub.choices  # each command's own parser, for its errors
    return parser


def _network(spec: str):
    from .spec import resolve

    return resolve(spec)


def _select(derivation, selectors: list[str] | None, source: str):
    if not selectors:
        return None
    chosen = []
    for sel in selectors:
        wanted = sel.replace(" ", "").replace(",", "][")
        found = [
            g for g in derivation.gradients if g.ref == wanted or g.param == wanted
        ]
        if not found:
            names = ", ".join(derivation.network.param_shapes())
            raise SpecError(
                f"no parameter entry '{sel}'; give one of {names}, or an entry such as "
                f"'{derivation.gradients[0].ref}' (0-based indices)",
                source=source,
                key="--param",
            )
        chosen += [g for g in found if g not in chosen]
    return chosen


def _emit(text: str, path: str | None, force: bool) -> None:
    if path:
        output.write(path, text, force=force)
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)


#: Picture formats by file suffix; ``dot`` is DOT text.
PICTURES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def _picture_format(path: str) -> str:
    from pathlib import Path

    fmt = PICTURES.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(
            "expected a file name ending in .svg, .png, .pdf or .dot "
            "(the suffix picks the format)",
            source=path,
            key="-o",
        )
    return fmt


def _graph(args) -> int:
    net = _network(args.spec)
    fmt = _picture_format(args.output) if args.output else "dot"
    if fmt != "dot":
        from .graphviz import engine

        engine()  # a missing dot is reported before any work
    if net.example is not None:
        samples = len(net.example.x)
        if not 1 <= args.sample <= samples:
            raise SpecError(
                f"expected a sample from 1 to {samples}, the [example]'s rows",
                source="symbp graph",
                key="--sample",
            )
    elif args.sample != 1:
        raise SpecError(
            "the spec has no [example], so there are no samples to show",
            source="symbp graph",
            key="--sample",
        )
    dot = _graph_text(net, args.form, args.sample - 1)
    if fmt == "dot":
        _emit(dot, args.output, args.force)
        return 0
    from .graphviz import draw

    output.check(args.output, force=args.force)
    output.write(args.output, draw(dot, fmt, source=net.source), force=args.force)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _graph_text(net, form: str, sample: int = 0, derivation=None) -> str:
    """The DOT text of the network's graph, in the form asked for or chosen."""
    from .graph import TooLargeError
    from .render import dot

    if dot.choose_form(net, form) == "layer":
        return dot.layered(net)
    if derivation is None:
        from .derive import Derivation

        try:
            derivation = Derivation(net)
        except TooLargeError:
            from .graph import MAX_SCALAR_PARAMS

            raise TooLargeError(
                f"the network has {net.param_count()} parameters, more than the "
                f"{MAX_SCALAR_PARAMS} of the scalar form; draw it with --form layer",
                source=net.source,
                key="--form",
            ) from None
    numbers = None
    if net.example is not None:
        numbers = derivation.evaluate_example(adjoints=True)
    return dot.scalar(derivation, numbers, sample=sample)


def _figures(args, net, derivation=None, numbers=None):
    """For ``derive --graph``: the figure, and the pictures to write and to compile.

    Returns ``(figure, beside, inside)``: the document's figure block (or None),
    the picture to write beside ``-o`` as ``(path, bytes)`` (or None), and the
    files to place beside the document when it is compiled for ``--pdf``.
    """
    if not args.graph:
        return None, None, {}
    if args.format in ("text", "json") and not args.pdf:
        raise SpecError(
            "a picture needs a document: use --format latex or markdown with -o FILE, "
            "or --pdf FILE",
            source="symbp derive",
            key="--graph",
        )
    if args.format in ("latex", "markdown") and not args.output:
        raise SpecError(
            "the picture is written beside the document: give -o FILE "
            "(a document on standard output cannot show it)",
            source="symbp derive",
            key="--graph",
        )
    from .graphviz import draw, engine
    from .render import dot
    from .render.document import Figure, graph_caption

    engine()
    form = dot.choose_form(net)
    text = _graph_text(net, "auto", 0, derivation)
    caption = graph_caption(form, numbers)
    suffix = "-graph.svg" if args.format == "markdown" else "-graph.pdf"
    document = args.output if args.format in ("latex", "markdown") else None
    path = output.beside(document or args.pdf, suffix)
    beside = None
    inside = {}
    if document:
        output.check(args.output, force=args.force)
        output.check(path, force=args.force)
        beside = (path, draw(text, suffix[-3:], source=net.source))
    if args.pdf:
        output.check(args.pdf, force=args.force)
        pdf_name = output.beside(args.output or args.pdf, "-graph.pdf").name
        if beside is not None and suffix == "-graph.pdf":
            inside[pdf_name] = beside[1]
        else:
            inside[pdf_name] = draw(text, "pdf", source=net.source)
    return Figure(path.name, caption), beside, inside


def _derive(args) -> int:
    net = _network(args.spec)  # validated before SymPy is imported
    from .derive import Derivation, expandable
    from .graph import TooLargeError

    if args.expanded:
        expandable(net)

    try:
        derivation = Derivation(net)
    except TooLargeError:
        # Only the documents have a layer form; text and JSON are scalar only.
        if args.format not in ("latex", "markdown") and (args.output or not args.pdf):
            raise
        return _derive_layers(net, args)
    numbers = derivation.evaluate_example() if net.example is not None else None
    only = _select(derivation, args.param, "symbp derive")
    figure, beside, inside = _figures(args, net, derivation, numbers)
    renderer = importlib.import_module(FORMATS[args.format])
    options = {"only": only, "expanded": args.expanded}
    if args.pdf:
        from .latex import compile_pdf

        latex = importlib.import_module(FORMATS["latex"])
        tex = latex.render(derivation, numbers, **options, **_figure(figure, inside))
        pdf = compile_pdf(tex, files=inside, source=net.source)
        output.write(args.pdf, pdf, force=args.force)
        print(f"wrote {args.pdf}", file=sys.stderr)
        if not args.output and args.format == "text":
            return 0
    _write_beside(beside, args.force)
    if figure is not None and args.format in ("latex", "markdown"):
        options["figure"] = figure
    _emit(renderer.render(derivation, numbers, **options), args.output, args.force)
    return 0


def _figure(figure, inside: dict) -> dict:
    """The figure option for the document compiled for --pdf, naming its file."""
    if figure is None:
        return {}
    from dataclasses import replace

    return {"figure": replace(figure, path=next(iter(inside)))}


def _write_beside(beside, force: bool) -> None:
    if beside is not None:
        path, data = beside
        output.write(path, data, force=force)
        print(f"wrote {path}", file=sys.stderr)


def _derive_layers(net, args) -> int:
    """A network too large for the scalar derivation: the layer-form document."""
    if args.param:
        raise SpecError(
            "--param needs the scalar derivation, and this network is too large for it",
            source="symbp derive",
            key="--param",
        )
    figure, beside, inside = _figures(args, net)
    if args.pdf:
        from .latex import compile_pdf

        latex = importlib.import_module(FORMATS["latex"])
        tex = latex.render_network(net, **_figure(figure, inside))
        pdf = compile_pdf(tex, files=inside, source=net.source)
        output.write(args.pdf, pdf, force=args.force)
        print(f"wrote {args.pdf}", file=sys.stderr)
        if not args.output and args.format == "text":
            return 0
    _write_beside(beside, args.force)
    renderer = importlib.import_module(FORMATS[args.format])
    options = {"figure": figure} if figure is not None else {}
    _emit(renderer.render_network(net, **options), args.output, args.force)
    return 0


def _generate(args) -> int:
    net = _network(args.spec)
    from .codegen import generate

    _emit(generate(net, dtype=args.dtype), args.output, args.force)
    return 0


def _check(args) -> int:
    if args.points is not None and args.points < 1:
        raise SpecError(
            "expected at least 1 point", source="symbp check", key="--points"
        )
    net = _network(args.spec)
    from .check import check
    from .render.checks import render

    result = check(net, count=args.points, seed=args.seed)
    sys.stdout.write(render(result))
    return 0 if result.passed else 1


def _exercise(args) -> int:
    from . import exercise

    opts = exercise.options(
        args.seed,
        sizes=args.sizes,
        activation=args.activation,
        loss=args.loss,
        bias=args.bias,
        samples=args.samples,
    )
    exercise.check_folder(args.output, force=args.force)
    made = exercise.make(opts)
    for path in exercise.write(made, args.output, force=args.force):
        print(f"wrote {path}", file=sys.stderr)
    print(made.summary())
    return 0


def _train(args) -> int:
    from . import data, losscurve, train

    # Everything that can be refused is refused before training starts.
    net = _network(args.spec)
    if args.plot:
        losscurve.require()
    targets = [t for t in (args.output, args.plot) if t]
    if len(targets) == 2 and os.path.abspath(targets[0]) == os.path.abspath(targets[1]):
        raise OutputError("-o and --plot name the same file", source=targets[0])
    for target in targets:
        output.check(target, force=args.force)
    chosen = train.settings(
        net,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        seed=args.seed,
        standardize=args.standardize,
    )
    dataset = data.load(args.data, net, targets=args.target)
    training, held = data.split(dataset, args.test_fraction, seed=args.seed)

    print(_describe(net, dataset, training, held, chosen), flush=True)
    with _Meter(sys.stderr) as meter:
        result = train.fit(net, training, held, chosen, progress=meter)
    for line in _summary(result):
        print(line)
    if args.output:
        output.write(args.output, train.npz(result), force=args.force)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.plot:
        output.write(args.plot, losscurve.png(result), force=args.force)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _describe(net, dataset, training, held, chosen) -> str:
    sizes = "-".join(str(n) for n in [net.inputs, *(lay.units for lay in net.layers)])
    labels = ""
    if dataset.labels:
        labels = f", class labels from {dataset.targets[0]!r} made one-hot"
    scaled = ", inputs standardised" if chosen.standardize else ""
    return (
        f"{net.name} {sizes} ({net.loss.name}) on {dataset.source}: "
        f"{training.rows} training rows, {held.rows or 'none'} held out"
        f"{labels}{scaled}\n"
        f"{chosen.optimizer}, learning rate {chosen.learning_rate:g}, batch size "
        f"{chosen.batch_size}, {chosen.epochs} epochs, seed {chosen.seed}"
    )


def _summary(result) -> list[str]:
    lines = []
    for what, loss, score, rows in (
        ("training", result.train_loss, result.train_accuracy, result.train_rows),
        ("held-out", result.test_loss, result.test_accuracy, result.test_rows),
    ):
        if loss is None:  # --test-fraction 0
            continue
        line = f"{what} loss {loss:.6g}"
        if score is not None:
            line += f", accuracy {score:.4f} ({round(score * rows)} of {rows})"
        lines.append(line)
    lines.append(f"trained in {result.elapsed:.2f} s")
    return lines


class _Meter:
    """Training progress on ``stream``: one updating line on a terminal, else a
    plain line at each tenth of the epochs."""

    INTERVAL = 0.1  # seconds between redraws on a terminal

    def __init__(self, stream) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.drawn = -1.0
        self.width = 0

    def __enter__(self) -> _Meter:
        return self

    def __exit__(self, *exc) -> None:
        if self.width:
            self.stream.write("\n")
            self.stream.flush()

    def __call__(self, p) -> None:
        text = (
            f"epoch {p.epoch}/{p.epochs}: loss {p.loss:.4g}, "
            + (f"held-out {p.test_loss:.4g}, " if p.test_loss is not None else "")
            + f"{p.elapsed:.1f} s, {p.remaining:.1f} s left"
        )
        if self.terminal:
            if p.elapsed - self.drawn >= self.INTERVAL or p.epoch == p.epochs:
                self.drawn = p.elapsed
                self.stream.write("\r" + text.ljust(self.width))
                self.width = max(self.width, len(text))
                self.stream.flush()
        elif p.epoch % max(1, p.epochs // 10) == 0 or p.epoch == p.epochs:
            self.stream.write(text + "\n")


def _examples(args) -> int:
    from .spec import example, example_names, example_text

    if args.name:
        sys.stdout.write(example_text(args.name))
        return 0
    for name in example_names():
        net = example(name)
        sizes = "-".join(
            str(n) for n in [net.inputs, *(lay.units for lay in net.layers)]
        )
        first = example_text(name).splitlines()[0].lstrip("# ")
        extra = "worked example" if net.example is not None else "no example numbers"
        print(f"{name:<10} {sizes:<10} {net.loss.name:<14} {extra:<20} {first}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # name the command's own help, and the nearest option
        command = parser.commands[args.command]
        known = [o for a in command._actions for o in a.option_strings]
        hint = suggest(extra[0].split("=")[0], known)
        command.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    try:
        return args.run(args)
    except SymbpError as exc:
        print(f"symbp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symbp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
