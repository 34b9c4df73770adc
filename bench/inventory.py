"""Bench 3: inventory convergence (harness pending; see docs/performance.md)."""
from __future__ import annotations

from bench.report import Figure, Results


def run(results: Results) -> None:
    """Not measurable yet."""
    results.add(Figure("3 inventory convergence", "seconds until both sandboxes converge", "-",
                       "not measured", bar="within 1.25x of the limit-bound minimum", met=None,
                       note="harness not written yet"))
