"""Sections of the Formulas page (GSR): Pareto front of the flow search, simulation with the formula, upload."""
