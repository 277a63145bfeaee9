"""Train the built-in digits classifier with symbp's module and with PyTorch.

Both train the 64-32-10 ReLU/softmax network of ``symbp.spec.example("digits")``
on scikit-learn's bundled digits (three quarters of the 1797 images, split as
tests/test_codegen.py splits them), from the same initial parameters, with
Adam at the spec's learning rate, the same mini-batches in the same order and
the spec's number of epochs. The script prints each one's held-out accuracy and
training time for several seeds, the largest difference between the two
trained parameter sets, and the mean over the seeds.

Needs scikit-learn; PyTorch is optional (``pip install torch==2.13.0``).
Run from the repository: ``python benchmarks/digits_accuracy.py [--seeds K]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symbp import codegen, spec  # noqa: E402


def _data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x, y = digits.data / 16.0, np.eye(10)[digits.target]
    return train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target
    )


def _batches(samples, batch_size, epochs, seed):
    """The mini-batch index arrays of every epoch, in order (as the module's train)."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(samples)
        for start in range(0, samples, batch_size):
            yield order[start : start + batch_size]


def _symbp(mod, params, x, y, cfg, seed):
    start = time.perf_counter()
    step = mod.make_train_step(
        params, learning_rate=cfg.learning_rate, optimizer=cfg.optimizer
    )
    for batch in _batches(len(x), cfg.batch_size, cfg.epochs, seed):
        step(x[batch], y[batch])
    return time.perf_counter() - start


def _torch(params, x, y, cfg, seed):
    """Train a PyTorch copy of the network; returns (predict, params, seconds)."""
    import torch

    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam(tensors.values(), lr=cfg.learning_rate)
    tx, ty = torch.tensor(x), torch.tensor(y)

    def logits(inputs):
        hidden = torch.relu(inputs @ tensors["W1"] + tensors["b1"])
        return hidden @ tensors["W2"] + tensors["b2"]

    start = time.perf_counter()
    for batch in _batches(len(x), cfg.batch_size, cfg.epochs, seed):
        index = torch.from_numpy(batch)
        out = torch.log_softmax(logits(tx[index]), dim=1)
        loss = -(ty[index] * out).sum() / len(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start

    def predict(inputs):
        with torch.no_grad():
            return logits(torch.tensor(inputs)).numpy()

    trained = {k: v.detach().numpy() for k, v in tensors.items()}
    return predict, trained, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="runs, seeds 0, 1, …")
    args = parser.parse_args(argv)
    net = spec.example("digits")
    cfg = net.train
    if cfg.optimizer != "adam":
        raise SystemExit(f"the digits spec trains with {cfg.optimizer}, not adam")
    mod = codegen.load(codegen.generate(net), name="digits")
    x_train, x_test, y_train, y_test = _data()
    labels = y_test.argmax(1)
    have_torch = importlib.util.find_spec("torch") is not None
    print(
        f"digits 64-32-10: {len(x_train)} training rows, {len(x_test)} held out; "
        f"adam, learning rate {cfg.learning_rate}, batch size {cfg.batch_size}, "
        f"{cfg.epochs} epochs"
    )
    print(
        f"{'seed':>4} {'symbp acc':>10} {'time':>8}"
        + (f" {'torch acc':>10} {'time':>8} {'max |Δparam|':>12}" if have_torch else "")
    )
    rows = []
    for seed in range(args.seeds):
        params = mod.init_params(seed)
        start = {k: v.copy() for k, v in params.items()}
        seconds = _symbp(mod, params, x_train, y_train, cfg, seed)
        ours = np.mean(mod.predict(params, x_test).argmax(1) == labels)
        row = [ours, seconds]
        line = f"{seed:4} {ours:10.4f} {seconds:7.2f}s"
        if have_torch:
            predict, trained, seconds = _torch(start, x_train, y_train, cfg, seed)
            theirs = np.mean(predict(x_test).argmax(1) == labels)
            apart = max(np.max(np.abs(params[k] - trained[k])) for k in params)
            row += [theirs, seconds, apart]
            line += f" {theirs:10.4f} {seconds:7.2f}s {apart:12.2e}"
        rows.append(row)
        print(line, flush=True)
    means = [statistics.mean(column) for column in zip(*rows, strict=True)]
    line = f"{'mean':>4} {means[0]:10.4f} {means[1]:7.2f}s"
    if have_torch:
        line += f" {means[2]:10.4f} {means[3]:7.2f}s {max(r[4] for r in rows):12.2e}"
    print(line)


if __name__ == "__main__":
    main()
