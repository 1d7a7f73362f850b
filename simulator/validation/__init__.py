"""Validation cases: published experiments, each as a scenario, the published outcome (with its
source and the exact statistic it reports) and a tolerance argued from the source's precision.

The cases live in ``cases/*.yaml``; ``docs/validation/sources.md`` is the research note behind
them. ``kubesim validate`` (``simulator.experiments.validate``) runs them. Cases whose outcome
was used to set a default are ``kind: calibration``; the others ``kind: validation``.
"""

from pathlib import Path

CASE_DIR = Path(__file__).resolve().parent / "cases"

__all__ = ["CASE_DIR"]
