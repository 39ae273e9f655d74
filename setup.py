"""The compiled part of the package: ingestion's wire reader (analytics_svc/_event_rows.c).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the
install goes on and ingestion reads events in Python only (analytics_svc/event_rows.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "analytics_svc._event_rows",
            ["analytics_svc/_event_rows.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
