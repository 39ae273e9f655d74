"""Privacy: the right to erasure (erasure.py, admin.py) and what training must skip (training.py)."""
