"""An alias kept for old imports: the failure figures are now :mod:`.figures.failures` (the
failures-by-hop heatmap and table) and :mod:`.figures.migration` (the migration timeline).

Notebooks 03 and 04 still import this name (and skip the figure, silently, where it is
missing); delete this module once they import from :mod:`simulator.presentation` instead.
"""

from .figures.failures import FAILURE_KINDS, failure_heatmap, failure_table
from .figures.migration import migration_timeline

__all__ = ["FAILURE_KINDS", "failure_heatmap", "failure_table", "migration_timeline"]
