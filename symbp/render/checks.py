"""A check result as a terminal table: one row per parameter, then the verdict."""

from __future__ import annotations

from ..check import ATOL, RTOL, CheckResult, band


def render(result: CheckResult) -> str:
    """The per-parameter table of relative errors, with bands and a verdict."""
    net = result.network
    lines = [
        f"{net.name}: gradients against central finite differences "
        "(float64, h = ε^(1/3)·max(1, |w|))",
        f"rule: pass when |a − n| ≤ {RTOL:g}·(|a| + |n|) + {ATOL:g}·max(1, |L|);  "
        "relative error = |a − n| / (|a| + |n|)",
    ]
    if result.skipped:
        lines += ["", f"scalar derivation not checked: {result.skipped}"]
    failed = 0
    for report in result.reports:
        lines += ["", f"{report.target} at {report.point} (L = {report.loss:.6g})"]
        lines.append(
            f"  {'param':<8}{'entries':>8}{'max rel error':>15}{'max abs error':>15}  "
            f"{'band':<8}{'near kink':>10}  verdict"
        )
        for p in report.params:
            verdict = "pass" if p.passed else "FAIL"
            failed += not p.passed
            lines.append(
                f"  {p.name:<8}{len(p.entries):>8}"
                f"{p.max_rel_error:>15.2e}{p.max_abs_error:>15.2e}  "
                f"{band(p.max_rel_error):<8}{p.kinks:>10}  {verdict}"
            )
            for e in p.judged:
                if not e.passed:
                    lines.append(
                        f"    {e.ref}: analytic {e.analytic:.10g}, "
                        f"numeric {e.numeric:.10g}"
                    )
    lines.append("")
    if failed:
        lines.append(
            f"FAILED: {failed} parameter check(s) disagree with finite differences"
        )
    else:
        kinks = sum(p.kinks for r in result.reports for p in r.params)
        note = f" ({kinks} entries near a kink not judged)" if kinks else ""
        lines.append(f"OK: every gradient agrees with finite differences{note}")
    return "\n".join(lines) + "\n"
