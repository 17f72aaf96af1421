"""Sections of the "Drug interactions" page (EmerGNN): pair input, prediction, evidence, batch of pairs."""
