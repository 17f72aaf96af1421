"""Graph-structured physics: seeded simulators of GSR's systems, the pedestrian loader, the graph CSV format.

A data set is a :class:`~backend.physics.graphs.GraphSet`: many samples, each a small graph with node, edge and
global inputs and a node-level or graph-level target (see graphs.py). No torch, no streamlit here.
"""
