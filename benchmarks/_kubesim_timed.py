"""``kubesim ARGS...`` that also reports its CPU time: the driver's own and its workers' (the
processes it started and waited for), as JSON in the file named by ``KUBESIM_BENCH_RUSAGE``.
Run by path (``python benchmarks/_kubesim_timed.py sweep ...``) so that ``simulator`` comes
from whichever checkout is first on ``PYTHONPATH``."""

import json
import os
import resource
import sys


def _cpu(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


if __name__ == "__main__":
    from simulator.cli import main

    rc = main(sys.argv[1:])
    with open(os.environ["KUBESIM_BENCH_RUSAGE"], "w", encoding="utf-8") as f:
        json.dump({"driver": _cpu(resource.RUSAGE_SELF), "workers": _cpu(resource.RUSAGE_CHILDREN)}, f)
    sys.exit(rc)
