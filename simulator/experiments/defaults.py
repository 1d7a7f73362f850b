"""Defaults the commands share (a small module: the CLI reads it while building its parsers)."""

__all__ = ["DEFAULT_REPLICATIONS"]

DEFAULT_REPLICATIONS = 1
"""Replications when none are asked for, the same for ``compare``, ``run``, ``report``,
``figures``, ``failures`` and ``sweep`` (and seed 1), so that they print the same statistics for
the same scenario. ASSUMPTION: one, the count the golden summaries (tests/golden), the figure
catalogue and every command but ``report`` already used, which keeps a default run as quick as
before; ``--replications 2`` or more adds 95 % confidence intervals (docs/STYLE.md section 8)."""
