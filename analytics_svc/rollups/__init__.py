"""Rollups: the daily aggregate tables (rebuild.py) and the nightly job that rebuilds them (nightly.py)."""
