"""The default-EF bench mode (issue 17): ``python -m bench ef`` times bare onnxruntime
on exactly the feeds the EF runs, the EF itself and sentence-transformers, on the same
weights. Figures are printed, never asserted (a shared machine); these tests check what
is measured and that the three produce the same vectors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from huedb_plugins.embedding.onnx_minilm import ONNXMiniLM_L6_V2

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def isolated_cache(tmp_path_factory):
    """The built .onnx graph goes to a temporary cache (shared by this module and its subprocesses)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HUEDB_CACHE_DIR", str(tmp_path_factory.mktemp("huedb-cache")))
    yield
    mp.undo()


TEXTS = ["short", "a somewhat longer sentence with more tokens in it", "mid length text here", "x " * 300]


def test_the_floor_feeds_are_exactly_what_the_ef_runs():
    runtime = ONNXMiniLM_L6_V2(num_threads=1)._get()
    runtime.batch_size = 2
    batches = runtime.batches(TEXTS)
    rows = np.concatenate([idx for idx, _ in batches])
    assert sorted(rows.tolist()) == list(range(len(TEXTS)))  # every text once
    widths = [feed["input_ids"].shape[1] for _, feed in batches]
    assert widths == sorted(widths) and widths[-1] == 256  # length-sorted; the long text truncated
    for idx, feed in batches:
        assert feed["attention_mask"].sum(axis=1).tolist() == [
            int((feed["input_ids"][i] != 0).sum()) for i in range(len(idx))
        ]
    out = np.empty((len(TEXTS), 384), dtype=np.float32)
    for (idx, _), feed in zip(batches, runtime.feeds(TEXTS)):
        out[idx] = runtime.session.run([runtime.output], feed)[0]
    np.testing.assert_array_equal(out, runtime.embed(TEXTS))


def _run(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "ef.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "ef",
            "--docs",
            "6",
            "--batches",
            "2,6",
            "--repeats",
            "1",
            "--json",
            str(out),
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "huedb x floor" in proc.stdout and "threads: onnxruntime intra_op" in proc.stdout
    return json.loads(out.read_text())


def test_bench_ef_mode_reports_docs_per_second_and_threads(tmp_path):
    result = _run(tmp_path, "--threads", "1", "--no-sentence-transformers")
    assert result["session"]["intra_op_num_threads"] == 1 and result["session"]["inter_op_num_threads"] == 1
    assert set(result["figures"]) == {"2", "6"}
    for fig in result["figures"].values():
        assert fig["floor_docs_per_s"] > 0 and fig["huedb_docs_per_s"] > 0
        assert fig["huedb_x_floor"] == pytest.approx(fig["huedb_s"] / fig["floor_s"])


@pytest.mark.slow
def test_bench_ef_mode_compares_with_sentence_transformers_on_the_same_weights(tmp_path):
    result = _run(tmp_path, "--threads", "1")
    assert result["sentence_transformers"]["torch_threads"] == 1
    assert all(f["sentence_transformers_docs_per_s"] > 0 for f in result["figures"].values())
    assert result["min_cosine_vs_sentence_transformers"] > 0.9999
