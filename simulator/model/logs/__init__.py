"""Container logs on a node: each chatty container's stdout as a fluid stream through the
chain's log hops to its file (``stream``), the files and their rotation (``files``), and the
node's pipeline that starts the streams, runs the kubelet's rotation and the readers and counts
what the log agents collect (``pipeline``). Off unless a container of the scenario has ``logs:``.
"""

from .pipeline import LogPipeline, scenario_has_logs

__all__ = ["LogPipeline", "scenario_has_logs"]
