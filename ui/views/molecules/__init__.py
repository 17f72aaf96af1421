"""Sections of the page "Molecular properties (few-shot)" (ui/views/molecules.py): the input of a support/query
episode (ui.views.molecules.inputs), the predictions, relation graph and evidence tests (results), and the
parameter comparison chart (params). Methods are reached only through backend.registry."""
