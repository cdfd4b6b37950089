"""Evaluation templates (the role or programme) and their ordered stages."""
