"""Time the scalar chain-rule derivation against differentiating the expanded loss.

symbp derives every ∂L/∂w by reverse accumulation over the scalar graph, once
per edge; the naive way writes the loss in x, y, w and b alone and calls
``sympy.diff`` once per weight. Both run here in the same process on the same
networks. The naive way is timed on a sample of the weights (it is far too slow
for all of them on the larger networks) and its total is that sample's mean
times the number of parameters, marked "est.". Sizes are SymPy operation counts
(``count_ops``) of all gradients together.

Run from the repository: ``python benchmarks/bench_derive.py [--sample N]``.
It also times whole ``symbp derive`` processes: xor, and 8-8-8-4 with example
numbers.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sympy as sp  # noqa: E402

from symbp.derive import Derivation  # noqa: E402
from symbp.graph import Graph  # noqa: E402
from symbp.spec import Dense, Network  # noqa: E402

ROWS = [
    ("2-2-1 sigmoid", (2, 2, 1)),
    ("2-3-2-1 sigmoid", (2, 3, 2, 1)),
    ("4-4-4-2 sigmoid", (4, 4, 4, 2)),
    ("8-8-8-4 sigmoid", (8, 8, 8, 4)),
]


def network(sizes: tuple[int, ...]) -> Network:
    layers = [Dense(n, "sigmoid") for n in sizes[1:]]
    return Network(inputs=sizes[0], layers=layers, loss="half_sse")


def symbp_way(net: Network) -> tuple[float, int]:
    start = time.perf_counter()
    d = Derivation(net)
    elapsed = time.perf_counter() - start
    size = sum(sp.count_ops(g.expr) for g in d.gradients)
    size += sum(sp.count_ops(s.expr) for s in d.signals)
    return elapsed, size


def naive_way(net: Network, sample: int, seed: int = 0) -> tuple[float, int, int, bool]:
    """Expand the loss in x, y, w, b, then sympy.diff per weight (on a sample)."""
    start = time.perf_counter()
    graph = Graph(net)
    loss = graph.expanded(graph.loss)
    setup = time.perf_counter() - start
    weights = [w for entries in graph.params.values() for _, w in entries]
    chosen = random.Random(seed).sample(weights, min(sample, len(weights)))
    start = time.perf_counter()
    size = 0
    for w in chosen:
        size += sp.count_ops(sp.diff(loss, w))
    per_weight = (time.perf_counter() - start) / len(chosen)
    total = setup + per_weight * len(weights)
    estimated = len(chosen) < len(weights)
    return total, int(size * len(weights) / len(chosen)), len(chosen), estimated


def example_spec(sizes: tuple[int, ...], seed: int = 0) -> str:
    """A sigmoid spec of these sizes with random [example] numbers, as TOML."""
    rng = random.Random(seed)

    def rows(n: int, m: int) -> str:
        values = [[round(rng.uniform(-1, 1), 3) for _ in range(m)] for _ in range(n)]
        return repr(values)

    lines = [f'name = "bench"\ninputs = {sizes[0]}']
    for units in sizes[1:]:
        lines.append(f'[[layers]]\nunits = {units}\nactivation = "sigmoid"')
    lines.append('[loss]\nname = "half_sse"')
    lines.append("[example]\nlearning_rate = 0.5")
    lines.append(f"x = {rows(1, sizes[0])}\ny = {rows(1, sizes[-1])}")
    for k, (n, m) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
        lines.append(f"W{k} = {rows(n, m)}\nb{k} = {rows(1, m)[1:-1]}")
    return "\n".join(lines) + "\n"


def whole_process(spec: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "symbp.cli", "derive", spec],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=6, help="weights timed naively")
    args = parser.parse_args()
    head = (
        f"{'network':<18}{'params':>7}{'symbp s':>10}{'naive s':>14}{'ratio':>9}"
        f"{'symbp ops':>11}{'naive ops':>13}"
    )
    symbp_way(network((1, 1)))  # derive the activation's derivative once, untimed
    print(head)
    print("-" * len(head))
    for label, sizes in ROWS:
        net = network(sizes)
        ours, our_size = symbp_way(net)
        theirs, their_size, timed, estimated = naive_way(net, args.sample)
        mark = " est." if estimated else ""
        print(
            f"{label:<18}{net.param_count():>7}{ours:>10.3f}{theirs:>9.2f}{mark:<5}"
            f"{theirs / ours:>8.1f}x{our_size:>11}{their_size:>13}"
        )
    print()
    print(f"whole process 'symbp derive xor': {whole_process('xor'):.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "bench-8-8-8-4.toml"
        spec.write_text(example_spec((8, 8, 8, 4)))
        took = whole_process(str(spec))
    print(f"whole process 'symbp derive' 8-8-8-4 with example numbers: {took:.2f} s")


if __name__ == "__main__":
    main()
