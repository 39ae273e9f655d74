"""onnxruntime, imported with its telemetry off. Import it from here, never directly:

    from common.onnx_runtime import ort
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])

onnxruntime (1.32, Linux) records a device id and details of the process for Microsoft's
telemetry (queued in ~/.cache/Microsoft/DeveloperTools) unless ORT_DISABLE_TELEMETRY is set
before its first import; `disable_telemetry_events()` afterwards comes too late for the
first record. Nothing of a service handling children's data goes to a third party, and a pod's
home directory may be read-only.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as ort  # noqa: E402

ort.disable_telemetry_events()

__all__ = ["ort"]
