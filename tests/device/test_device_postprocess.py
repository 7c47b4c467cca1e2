"""Top-k, threshold, EMA smoothing, latency statistics and the /metrics exposition (pure maths, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.device.metrics import LatencyWindow, LiveValues, PipelineMetrics, RunStats, describe_latencies
from edgecnn.device.postprocess import EmaSmoother, top_k

LABELS = ["a", "b", "c", "d", "e"]


def test_top_k_orders_by_score_and_breaks_ties_by_index():
    scores = np.array([0.1, 0.3, 0.05, 0.3, 0.25], np.float32)
    top = top_k(scores, LABELS, k=3)
    assert [(t.index, t.label) for t in top] == [(1, "b"), (3, "d"), (4, "e")]
    assert top[0].score == pytest.approx(0.3)


def test_top_k_matches_a_full_sort_on_random_scores():
    rng = np.random.default_rng(1)
    for _ in range(50):
        scores = rng.random(37).astype(np.float32)
        labels = [str(i) for i in range(37)]
        k = int(rng.integers(1, 40))
        expected = sorted(range(37), key=lambda i: (-scores[i], i))[: min(k, 37)]
        assert [t.index for t in top_k(scores, labels, k)] == expected


def test_top_k_breaks_ties_at_the_kth_place_by_index_on_quantised_scores():
    # Dequantised uint8 outputs tie a lot: the classes kept at the k-th place must be the lowest-index ones,
    # whichever ones np.argpartition would pick on this CPU (it picked differently on x86 and aarch64).
    rng = np.random.default_rng(2)
    for n, k in ((10, 3), (10, 5), (1000, 5), (1001, 10)):
        labels = [str(i) for i in range(n)]
        for _ in range(40):
            scores = (rng.integers(0, 4, n) / 256.0).astype(np.float32)
            scores[rng.integers(0, n)] = 0.5
            expected = sorted(range(n), key=lambda i: (-scores[i], i))[:k]
            assert [t.index for t in top_k(scores, labels, k)] == expected


def test_nan_scores_rank_last():
    scores = np.array([np.nan, 0.2, 0.5, np.nan, 0.1], np.float32)
    assert [t.index for t in top_k(scores, LABELS, k=3)] == [2, 1, 4]
    assert [t.index for t in top_k(scores, LABELS, k=5, threshold=0.0)] == [2, 1, 4]


def test_threshold_drops_low_scores_and_can_leave_nothing():
    scores = np.array([0.6, 0.25, 0.1, 0.04, 0.01])
    assert [t.label for t in top_k(scores, LABELS, k=5, threshold=0.1)] == ["a", "b", "c"]
    assert top_k(scores, LABELS, k=5, threshold=0.7) == []
    assert [t.label for t in top_k(scores, LABELS, k=2, threshold=0.0)] == ["a", "b"]


def test_top_k_serialises_index_label_score():
    (best,) = top_k(np.array([0.2, 0.8]), ["cat", "dog"], k=1)
    assert best.to_dict() == {"index": 1, "label": "dog", "score": pytest.approx(0.8)}


def test_ema_follows_the_recurrence():
    smoother = EmaSmoother(0.25)
    frames = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0])]
    expected = [np.array([1.0, 0.0])]
    expected.append(0.25 * frames[1] + 0.75 * expected[0])
    expected.append(0.25 * frames[2] + 0.75 * expected[1])
    for scores, want in zip(frames, expected, strict=True):
        np.testing.assert_allclose(smoother(scores), want, rtol=1e-6)


def test_ema_returns_arrays_it_never_mutates_and_resets():
    smoother = EmaSmoother(0.5)
    first = smoother(np.array([1.0, 0.0]))
    smoother(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(first, [1.0, 0.0])
    smoother.reset()
    np.testing.assert_array_equal(smoother(np.array([0.0, 1.0])), [0.0, 1.0])


def test_ema_alpha_one_is_no_smoothing():
    smoother = EmaSmoother(1.0)
    for scores in (np.array([0.9, 0.1]), np.array([0.2, 0.8])):
        np.testing.assert_array_equal(smoother(scores), scores.astype(np.float32))


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5])
def test_ema_rejects_alpha_outside_0_1(alpha):
    with pytest.raises(EdgeCNNError, match="smooth"):
        EmaSmoother(alpha)


def test_describe_latencies_in_milliseconds():
    stats = describe_latencies([0.001, 0.002, 0.003, 0.004])
    assert stats["count"] == 4
    assert stats["min_ms"] == pytest.approx(1.0)
    assert stats["max_ms"] == pytest.approx(4.0)
    assert stats["mean_ms"] == pytest.approx(2.5)
    assert stats["median_ms"] == pytest.approx(2.5)
    assert stats["std_ms"] == pytest.approx(np.std([1, 2, 3, 4]))
    assert describe_latencies([]) == {"count": 0}


def test_latency_window_is_bounded_but_totals_count_everything():
    window = LatencyWindow(capacity=10)
    for i in range(25):
        window.add(float(i))
    assert window.count == 25
    assert window.total == pytest.approx(sum(range(25)))
    assert sorted(window.recent().tolist()) == [float(i) for i in range(15, 25)]


def test_run_stats_summary_and_latency_summaries():
    stats = RunStats(window=8)
    for _ in range(3):
        stats.record({"wait": 0.001, "preprocess": 0.002, "invoke": 0.010, "postprocess": 0.001, "total": 0.013})
    summary = stats.summary()
    assert summary["frames"] == 3
    assert summary["stages"]["invoke"]["mean_ms"] == pytest.approx(10.0)
    quantiles, total, count = stats.latency_summaries()["invoke"]
    assert quantiles == pytest.approx({0.5: 0.010, 0.9: 0.010, 0.99: 0.010})
    assert total == pytest.approx(0.030) and count == 3


def _families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_exposition_through_prometheus_client():
    stats = RunStats(window=8)
    for seconds in (0.010, 0.020, 0.030):
        stats.record({"preprocess": 0.002, "invoke": seconds, "total": seconds + 0.002})
    info = {"model": 'we"ird\\name\nx.tflite', "backend": "ai_edge_litert", "source": "cam", "arch": "unknown"}
    live = LiveValues(info, up=True, dropped=4, reconnects=2, top_score=float("nan"))
    text = PipelineMetrics(stats, lambda: live).text()
    lines = text.splitlines()
    # Names, types and values as before; the label values escaped by the library.
    assert "# TYPE edgecnn_frames_total counter" in lines and "edgecnn_frames_total 3.0" in lines
    assert "# TYPE edgecnn_info gauge" in lines
    assert (
        'edgecnn_info{arch="unknown",backend="ai_edge_litert",model="we\\"ird\\\\name\\nx.tflite",source="cam"} 1.0'
        in lines
    )
    assert lines.count("# TYPE edgecnn_stage_latency_seconds summary") == 1
    assert "edgecnn_top_score NaN" in lines and "edgecnn_last_frame_age_seconds" in text
    families = _families(text)
    assert families["edgecnn_info"].samples[0].labels["model"] == info["model"]  # parsed back unchanged
    values = {s.name: s.value for f in families.values() for s in f.samples if not s.labels}
    assert values["edgecnn_up"] == 1.0 and values["edgecnn_frames_dropped_total"] == 4.0
    assert values["edgecnn_source_reconnects_total"] == 2.0 and values["edgecnn_fps"] > 0
    latency = {
        (s.name, s.labels.get("stage"), s.labels.get("quantile")): s.value
        for s in families["edgecnn_stage_latency_seconds"].samples
    }
    assert latency[("edgecnn_stage_latency_seconds", "invoke", "0.5")] == pytest.approx(0.020)
    assert latency[("edgecnn_stage_latency_seconds_sum", "invoke", None)] == pytest.approx(0.060)
    assert latency[("edgecnn_stage_latency_seconds_count", "total", None)] == 3.0
    assert latency[("edgecnn_stage_latency_seconds_count", "wait", None)] == 0.0  # a stage without samples yet
    assert ("edgecnn_stage_latency_seconds", "wait", "0.5") not in latency
    assert values["process_resident_memory_bytes"] > 1e6 and values["process_start_time_seconds"] > 1e9
    assert "python_info" in families


def test_metrics_registry_per_pipeline():
    """Two pipelines in one process (tests, several daemons) keep their own series."""
    live = LiveValues({}, up=False, dropped=0, reconnects=0, top_score=0.5)
    first, second = RunStats(), RunStats()
    first.record({"total": 0.01})
    texts = [PipelineMetrics(stats, lambda: live).text() for stats in (first, second, first)]
    frames = [
        next(s.value for s in _families(text)["edgecnn_frames"].samples if s.name == "edgecnn_frames_total")
        for text in texts
    ]
    assert frames == [1.0, 0.0, 1.0]
