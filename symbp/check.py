"""Finite-difference checks: every derived or generated gradient against numbers.

The numerical gradient is the central difference (L(p + h) − L(p − h)) / 2h in
the dtype the loss computes in (float64 unless a generated module says
otherwise), with h = ε^(1/3)·max(1, |p|) (ε that dtype's machine epsilon). Each
entry's relative error |a − n| / (|a| + |n|) is reported in the bands of the
CS231n notes, and the verdict follows one documented rule (:func:`agrees`)::

    pass  when  |a − n| ≤ 1e-7·(|a| + |n|) + 1e-9·max(1, |L|)

in float64; in a coarser dtype both tolerances grow with ε^(2/3), the order of
the central difference's own error (about 6.6e-2 and 6.6e-4 in float32).

The absolute floor keeps tiny gradients of a large loss from failing on
rounding alone; it is far too small to let a wrong factor, sign or index
through. A point where a kink (relu, leaky_relu, abs, max, min) lies within the
step is reported as *near a kink* and not judged: there the central difference
straddles two slopes and no analytic gradient can match it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .spec import Network

RTOL = 1e-7
ATOL = 1e-9

#: Relative-error bands, (upper bound, label), after the CS231n notes.
BANDS = (
    (1e-7, "good"),
    (1e-4, "fair"),
    (1e-2, "suspect"),
    (np.inf, "wrong"),
)


def band(rel: float) -> str:
    """The label of a relative error.

    >>> band(3e-10), band(5e-3), band(0.5)
    ('good', 'suspect', 'wrong')
    """
    return next(label for bound, label in BANDS if rel <= bound)


def agrees(analytic: float, numeric: float, loss: float, dtype=np.float64) -> bool:
    """The pass rule: ``|a − n| ≤ RTOL·(|a| + |n|) + ATOL·max(1, |L|)``.

    The tolerances are float64's; for another dtype both are multiplied by
    (ε/ε₆₄)^(2/3).

    >>> (
    ...     agrees(0.25, 0.25 + 1e-12, 1.0),
    ...     agrees(0.5, 0.25, 1.0),
    ...     agrees(0.25, -0.25, 1.0),
    ... )
    (True, False, False)
    >>> agrees(0.25, 0.2501, 1.0), agrees(0.25, 0.2501, 1.0, np.float32)
    (False, True)
    """
    scale = _tolerance_scale(dtype)
    allowed = RTOL * (abs(analytic) + abs(numeric)) + ATOL * max(1.0, abs(loss))
    return abs(analytic - numeric) <= scale * allowed


def _tolerance_scale(dtype) -> float:
    ratio = float(np.finfo(dtype).eps) / float(np.finfo(np.float64).eps)
    return ratio ** (2 / 3)


def relative_error(analytic: float, numeric: float) -> float:
    """|a − n| / (|a| + |n|), and 0 when both are 0."""
    scale = abs(analytic) + abs(numeric)
    return abs(analytic - numeric) / scale if scale > 0 else 0.0


def step(value: float, dtype=np.float64) -> float:
    """The central-difference step for a parameter value."""
    return float(np.finfo(dtype).eps) ** (1 / 3) * max(1.0, abs(value))


@dataclass(frozen=True)
class Entry:
    """One parameter entry's comparison."""

    ref: str
    analytic: float
    numeric: float
    near_kink: bool
    passed: bool

    @property
    def rel_error(self) -> float:
        return relative_error(self.analytic, self.numeric)

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class ParamCheck:
    """All entries of one parameter array."""

    name: str
    entries: tuple[Entry, ...]

    @property
    def judged(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.near_kink)

    @property
    def kinks(self) -> int:
        return len(self.entries) - len(self.judged)

    @property
    def max_rel_error(self) -> float:
        return max((e.rel_error for e in self.judged), default=0.0)

    @property
    def max_abs_error(self) -> float:
        return max((e.abs_error for e in self.judged), default=0.0)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.judged)


@dataclass(frozen=True)
class Report:
    """One implementation checked at one point."""

    target: str
    point: str
    loss: float
    params: tuple[ParamCheck, ...]

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.params)

    @property
    def max_rel_error(self) -> float:
        return max((p.max_rel_error for p in self.params), default=0.0)


@dataclass(frozen=True)
class CheckResult:
    """Every report of a check, and the overall verdict."""

    network: Network
    reports: tuple[Report, ...] = field(default_factory=tuple)
    #: Why the scalar derivation was not checked (a network too large for it).
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)


#: A loss function for finite differences: parameters → (loss, kink signature).
LossAt = Callable[[dict[str, np.ndarray]], tuple[float, np.ndarray | None]]


def compare(
    analytic: dict[str, np.ndarray],
    params: dict[str, np.ndarray],
    loss_at: LossAt,
    *,
    target: str = "gradients",
    point: str = "",
    dtype=np.float64,
) -> Report:
    """Compare analytic gradients with central differences of ``loss_at``.

    ``loss_at`` returns the loss and, optionally, the signs of every kink
    indicator; an entry whose ±h evaluations see different signs is near a kink.
    The parameters are held in ``dtype``, which sets the step and the rule's
    tolerances; the difference is divided by the step the dtype really took.
    """
    base = {k: np.array(v, dtype=dtype) for k, v in params.items()}
    loss, base_kinks = loss_at(base)
    checks = []
    for name, value in base.items():
        entries = []
        for index in np.ndindex(value.shape):
            original = value[index]
            h = step(float(original), dtype)
            value[index] = original + h
            up, kinks_up = loss_at(base)
            high = float(value[index])
            value[index] = original - h
            down, kinks_down = loss_at(base)
            low = float(value[index])
            value[index] = original
            numeric = (up - down) / (high - low)
            a = float(analytic[name][index])
            near = _straddles(base_kinks, kinks_up, kinks_down)
            ref = name + "".join(f"[{i}]" for i in index)
            passed = agrees(a, numeric, loss, dtype)
            entries.append(Entry(ref, a, numeric, near, passed))
        checks.append(ParamCheck(name, tuple(entries)))
    return Report(target, point, loss, tuple(checks))


def _straddles(base, up, down) -> bool:
    if base is None or up is None or down is None or base.size == 0:
        return False
    return bool(np.any(base == 0) or np.any(np.sign(up) != np.sign(down)))


def check_derivation(derivation, x, y, params, *, point: str = "") -> Report:
    """The scalar derivation's gradients against central differences."""
    net = derivation.network
    numbers = derivation.evaluate(x, y, params)
    forward = derivation.program(backward=False)
    x, y = numbers.x, numbers.y

    def loss_at(p):
        out = forward(p, x, y)
        from .numeric import batch_loss

        _, total = batch_loss(out, net.reduction, len(x))
        kinks = [np.broadcast_to(np.asarray(k, float), (len(x),)) for k in out["kinks"]]
        return total, (np.concatenate(kinks) if kinks else np.zeros(0))

    return compare(
        numbers.gradients, numbers.params, loss_at, target="derivation", point=point
    )


def check_module(module, x, y, params, *, point: str = "", kinks_from=None) -> Report:
    """A generated module's ``loss_and_gradients`` against differences of its ``loss``.

    ``kinks_from`` may be a derivation of the same network, whose kink
    indicators then mark the entries near kinks. The step and the tolerances
    follow the module's ``DTYPE``.
    """
    dtype = np.dtype(getattr(module, "DTYPE", np.float64))
    params = {k: np.asarray(v, dtype=dtype) for k, v in params.items()}
    _, grads = module.loss_and_gradients({k: v.copy() for k, v in params.items()}, x, y)
    forward = kinks_from.program(backward=False) if kinks_from is not None else None

    def loss_at(p):
        value = float(module.loss(p, x, y))
        if forward is None:
            return value, None
        ks = [
            np.broadcast_to(np.asarray(k, float), (len(x),))
            for k in forward(p, x, y)["kinks"]
        ]
        return value, (np.concatenate(ks) if ks else np.zeros(0))

    return compare(
        grads, params, loss_at, target="generated module", point=point, dtype=dtype
    )


def points(network: Network, count: int | None = None, seed: int = 0):
    """The points to check at: the example's numbers, then ``count`` random ones.

    ``count`` defaults to none with an example, and to 3 without one.
    """
    result = []
    if network.example is not None:
        ex = network.example
        result.append(("example", ex.x, ex.y, ex.params))
    if count is None:
        count = 0 if result else 3
    for k in range(count):
        x, y = network.random_data(samples=4, seed=seed + k)
        result.append(
            (f"random point {k + 1}", x, y, network.random_params(seed=seed + k))
        )
    return result


def check(
    network: Network, *, count: int | None = None, seed: int = 0, module: bool = True
) -> CheckResult:
    """Check the derivation (and the generated module) by finite differences.

    At the example's numbers, if the spec has them, and at ``count`` random
    points (by default 3 without an example, none with one).

    Examples
    --------
    >>> from symbp.spec import example
    >>> check(example("xor"), module=False).passed
    True
    """
    from .derive import Derivation
    from .graph import TooLargeError

    try:
        derivation = Derivation(network)
    except TooLargeError as exc:
        # The layer form has no size limit: its generated module is still checked.
        derivation, skipped = None, exc.message
    else:
        skipped = None
    reports = [
        check_derivation(derivation, x, y, p, point=label)
        for label, x, y, p in points(network, count, seed)
        if derivation is not None
    ]
    if module or derivation is None:
        from . import codegen

        mod = codegen.load(
            codegen.generate(network), name=f"symbp_check_{network.name}"
        )
        reports += [
            check_module(mod, x, y, p, point=label, kinks_from=derivation)
            for label, x, y, p in points(network, count, seed)
        ]
    return CheckResult(network, tuple(reports), skipped)
