"""Sections of the "Scoring-function search" page (AutoBLM): searches found on disk, structure figures."""
