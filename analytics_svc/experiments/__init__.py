"""Experiments: definitions, assignment, administration, statistics and the experiment report."""
