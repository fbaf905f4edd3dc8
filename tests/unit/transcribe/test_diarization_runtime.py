"""ONNX Runtime, which runs the diarization networks on CPU, computes what torch computes.

The export is traced from the torch modules; these tests compare the two on real speech, with the
tolerances of float32 kernels (the argmax class of each frame, the embeddings' cosine)."""

from __future__ import annotations

import numpy as np

from tests.paths import EVAL
from transcribe.audio import decode
from transcribe.diarization import campplus, runtime, segmentation_model

CALL = EVAL / "phone_call_2spk.wav"


def test_segmentation_on_onnx_runtime_hears_every_frame_as_torch_does():
    samples = decode(CALL).mono()
    chunk = int(segmentation_model.CHUNK_SECONDS * 16_000)
    windows = np.stack([samples[start : start + chunk] for start in (0, 5 * 16_000, 20 * 16_000)])[:, None, :]

    exported = segmentation_model.load("cpu")(windows)
    reference = runtime.on_torch(segmentation_model.torch_module("cpu"), "cpu")(windows)

    assert exported.shape == reference.shape == (3, 589, 7)
    assert np.abs(exported - reference).max() < 1e-3
    assert (exported.argmax(axis=-1) == reference.argmax(axis=-1)).mean() > 0.999


def test_cam_plus_plus_on_onnx_runtime_gives_torchs_embeddings_at_any_length_and_batch():
    bank = campplus.fbank(decode(CALL).mono())
    stretches = [bank[100:350], bank[400:450], bank[1000:1600]]
    reference = runtime.on_torch(campplus.torch_module("cpu"), "cpu")
    exported = campplus.load("cpu")

    for stretch in stretches:
        batch = np.stack([stretch - stretch.mean(axis=0)] * 2).astype(np.float32)
        ours, theirs = exported(batch), reference(batch)
        cosine = (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
        assert ours.shape == (2, campplus.EMBEDDING_SIZE)
        assert cosine.min() > 0.9999


def test_a_batch_shared_out_across_threads_comes_back_whole_and_in_its_order():
    bank = campplus.fbank(decode(CALL).mono())
    stretches = [bank[start : start + 200] for start in (100, 700, 1300)]
    batch = np.stack([stretch - stretch.mean(axis=0) for stretch in stretches]).astype(np.float32)
    network = campplus.load("cpu")

    whole = network(batch)  # three stretches: pieces of two and one on two threads
    alone = np.concatenate([network(batch[index : index + 1]) for index in range(len(batch))])

    assert whole.shape == (3, campplus.EMBEDDING_SIZE)
    assert np.abs(whole - alone).max() < 1e-4
    unit = alone / np.linalg.norm(alone, axis=1, keepdims=True)
    assert (unit @ unit.T)[np.triu_indices(3, 1)].max() < 0.99  # distinct, so the order is tested
