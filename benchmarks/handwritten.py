"""A careful hand-written NumPy training step, the baseline for the benchmark.

Written the way a person who knows NumPy would: row-vector batches, the
sigmoid as (1 + tanh(z/2))/2 so it never overflows, softmax shifted by the
row maximum, the loss from a log-sum-exp, the fused output gradient
(p - y)/N for softmax with cross-entropy, in-place updates.
"""

from __future__ import annotations

import numpy as np


def make_step(params, hidden, output, learning_rate):
    """``step(X, Y) -> loss`` for an MLP; ``hidden`` lists 'relu' or 'sigmoid'.

    ``output`` is 'softmax' (cross-entropy) or 'sigmoid' (half sum of squares).
    """
    count = len(hidden) + 1
    weights = [params[f"W{i + 1}"] for i in range(count)]
    biases = [params[f"b{i + 1}"] for i in range(count)]
    lr = learning_rate

    def step(X, Y):
        n = X.shape[0]
        acts, zs = [X], []
        for W, b, kind in zip(weights[:-1], biases[:-1], hidden, strict=True):
            z = acts[-1] @ W
            z += b
            if kind == "relu":
                a = np.maximum(z, 0)
            else:
                a = np.tanh(0.5 * z)
                a *= 0.5
                a += 0.5
            zs.append(z)
            acts.append(a)
        z = acts[-1] @ weights[-1]
        z += biases[-1]
        if output == "softmax":
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            s = p.sum(axis=1, keepdims=True)
            p /= s
            loss = -np.sum(Y * (z - np.log(s))) / n
            delta = (p - Y) / n
        else:
            p = np.tanh(0.5 * z)
            p *= 0.5
            p += 0.5
            diff = p - Y
            loss = 0.5 * np.sum(diff * diff) / n
            delta = diff * p * (1 - p) / n
        for i in range(count - 1, -1, -1):
            grad_W = acts[i].T @ delta
            grad_b = delta.sum(axis=0)
            if i > 0:
                delta = delta @ weights[i].T
                if hidden[i - 1] == "relu":
                    delta *= zs[i - 1] > 0
                else:
                    a = acts[i]
                    delta *= a * (1 - a)
            grad_W *= lr
            weights[i] -= grad_W
            grad_b *= lr
            biases[i] -= grad_b
        return float(loss)

    return step
