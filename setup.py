"""The compiled parts of the package: ingestion's wire reader (analytics_svc/ingestion/_event_rows.c),
the binary COPY encoder of bulk loads (common/_pg_copy.c) and the gateway's JSON -> protobuf wire
encoder of the hot routes (gateway/_json_wire.c).

Everything else is in pyproject.toml. The extensions are optional: without a C compiler the
install goes on and the same work is done in Python (analytics_svc/ingestion/event_rows.py,
common/pg_copy.py, gateway/fast_transcode.py).
"""

from setuptools import Extension, setup


def optional_extension(name: str, source: str) -> Extension:
    """A C module sharing common/csrc; a failed build is a warning, not a failed install."""
    return Extension(
        name,
        [source],
        include_dirs=["common/csrc"],
        depends=["common/csrc/sv_buffer.h"],
        extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        optional=True,
    )


setup(
    ext_modules=[
        optional_extension("analytics_svc.ingestion._event_rows", "analytics_svc/ingestion/_event_rows.c"),
        optional_extension("common._pg_copy", "common/_pg_copy.c"),
        optional_extension("gateway._json_wire", "gateway/_json_wire.c"),
    ]
)
