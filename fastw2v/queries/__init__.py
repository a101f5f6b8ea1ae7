"""Queries on trained vectors: neighbours, analogies, evaluation, estimates, plots."""
