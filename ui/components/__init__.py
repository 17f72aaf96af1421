"""Reusable dashboard pieces (model card, evidence view, job panel, downloads)."""
