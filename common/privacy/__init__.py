"""Privacy plumbing, without knowing any service's tables.

erasure.py (a request: the tombstone, the audit entry, the job, the announcement),
jobs.py (the job's state: the step registry, passes, retries), steps.py (what a service's
step is), participant.py (a process's part: its steps, its memory, the tombstones),
tombstones.py (late data of erased users), admin.py (the AdminService transport),
training.py (what model training must skip).
"""
