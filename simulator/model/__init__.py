"""The model layer: node components, the call-chain interpreter, the kubelet's loops, workloads.

Imports SimPy and numpy only; never plotting (DESIGN.md layers).
"""
