"""Rate limiters: a small protocol (base.py) and backends (memory.py)."""
