"""The compiled parts of the package: ingestion's wire reader (analytics_svc/_event_rows.c) and
the binary COPY encoder of bulk loads (common/_pg_copy.c).

Everything else is in pyproject.toml. Both extensions are optional: without a C compiler the
install goes on and the same work is done in Python (analytics_svc/event_rows.py, common/pg_copy.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "analytics_svc._event_rows",
            ["analytics_svc/_event_rows.c"],
            include_dirs=["common/csrc"],
            depends=["common/csrc/sv_buffer.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
        Extension(
            "common._pg_copy",
            ["common/_pg_copy.c"],
            include_dirs=["common/csrc"],
            depends=["common/csrc/sv_buffer.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
    ]
)
