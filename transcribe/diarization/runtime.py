"""Run the embedded diarization networks (segmentation-3.0, CAM++) as plain array functions.

On CPU they run in ONNX Runtime (already installed: faster-whisper runs Silero in it). Measured on
a 5-minute call (``bench.pipeline_speed``'s mono call, 2 cores): CAM++ 15.2 -> 9.1 CPU s and
segmentation 5.9 -> 4.7 CPU s, the same numbers to 1e-4 (embeddings at cosine 1.0, the same
argmax class in every frame). The network is exported from the torch module once per process, in
memory (about 3 CPU s for both), so there is no file to keep in step with the weights or torch.

A batch is shared out across the threads, each piece run on one thread of its own, rather than each
operator split across them: the threads then never wait for each other inside a layer. Measured on
2 cores: CAM++ alone 15.1 -> 14.0 CPU s (8.3 -> 7.3 s wall) for 40 batches of eight 3 s stretches,
segmentation 3.3 -> 3.1 CPU s; the mono diarizer on ``bench.pipeline_speed``'s call 17.5 -> 16.5
CPU s and 9.6 -> 8.5 s wall (means of three). Other devices (``cuda``) keep torch.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime  # type: ignore[import-untyped]
import torch

# (batch, ...) float32 in, (batch, ...) float32 out.
Network = Callable[[np.ndarray], np.ndarray]
_OPSET = 17


def network(
    module: torch.nn.Module, example: np.ndarray, dynamic_axes: Sequence[int], device: str
) -> Network:
    """``module`` (in eval mode, on ``device``) as a function of one array. ``example``: an input of
    the right rank; ``dynamic_axes``: the input axes whose size varies (the batch is axis 0)."""
    if device != "cpu":
        return on_torch(module, device)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing, not the model's
        torch.onnx.export(
            module,
            (torch.from_numpy(example),),
            buffer,  # type: ignore[arg-type]  # a file object is documented, the stub says path
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {axis: f"axis{axis}" for axis in dynamic_axes}, "output": {0: "axis0"}},
            opset_version=_OPSET,
            dynamo=False,
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the threads share a batch out instead
    session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    threads = torch.get_num_threads()  # honours OMP_NUM_THREADS, as torch does
    pool = ThreadPoolExecutor(threads, thread_name_prefix="earshot-onnx")

    def run_piece(piece: np.ndarray) -> np.ndarray:
        # An InferenceSession may run on several threads at once; run() lets go of the GIL.
        return session.run(None, {"input": np.ascontiguousarray(piece, dtype=np.float32)})[0]

    def run(batch: np.ndarray) -> np.ndarray:
        pieces = np.array_split(batch, max(1, min(threads, len(batch))))
        return np.concatenate(list(pool.map(run_piece, pieces)))

    return run


def on_torch(module: torch.nn.Module, device: str) -> Network:
    """``module`` run by torch itself, on any device."""

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            inputs = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(device)
            return module(inputs).cpu().numpy()

    return run
