"""One small onnxruntime session per model file and process, shared by every call (loaded once, under a lock).

Sessions are built for many small runs from many calls: one intra-op and one inter-op thread (a model
this size gains nothing from more, and the calls' own threads are the parallelism), sequential
execution, full graph optimization. `InferenceSession.run` may be called from several threads at once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_sessions: dict[Path, Any] = {}


def shared_session(path: Path) -> Any:
    """The process's session for the model at `path` (an `onnxruntime.InferenceSession`)."""
    key = path.resolve()
    with _lock:
        session = _sessions.get(key)
        if session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(str(key), sess_options=opts, providers=["CPUExecutionProvider"])
            _sessions[key] = session
        return session
