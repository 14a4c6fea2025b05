"""The remaining time a build shows is told from texts done and time taken, so it is only as true as
the rate is steady: the clock of a stage (present/stage_clock.py), and the order in which a stage's
batches are embedded (store/vectors.py `_evenly`), which keeps the share of work done in step with the
share of texts done."""

from __future__ import annotations

from assistant.present.stage_clock import STEADY_AFTER_S, StageClock, clock
from assistant.reporting import EXPORT_SECONDS, EXPORT_STAGE, LINES_STAGE, PASSAGES_STAGE, UNCOUNTED
from assistant.store.vectors import _evenly


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_stage_says_its_elapsed_time_and_from_its_rate_what_is_left() -> None:
    time = FakeTime()
    stage = StageClock(now=time)
    stage.update(PASSAGES_STAGE, 0, 1000)
    time.now += 1.0
    assert stage.text() == "0:01 elapsed", "nothing done yet: no rate, no estimate"
    stage.update(PASSAGES_STAGE, 250, 1000)
    time.now += STEADY_AFTER_S
    assert stage.text() == "0:03 elapsed, about 0:09 left", "250 in 3 s: 750 more take 9 s"
    stage.update(LINES_STAGE, 0, 40_000)
    assert stage.text() == "0:00 elapsed", "a new stage starts its own clock"
    time.now += 65.0
    stage.update(LINES_STAGE, 40_000, 40_000)
    assert stage.text() == "1:05 elapsed", "a stage that is done has nothing left"


def test_the_export_says_its_usual_time_and_a_stage_without_a_count_only_its_elapsed_time() -> None:
    time = FakeTime()
    stage = StageClock(now=time)
    stage.update(EXPORT_STAGE, 0, UNCOUNTED)
    time.now += 5.0
    assert stage.text() == f"0:05 elapsed, about {clock(EXPORT_SECONDS - 5)} left"
    time.now += EXPORT_SECONDS
    assert stage.text() == f"{clock(EXPORT_SECONDS + 5)} elapsed", "past its usual time: no guess"
    stage.update("writing the index", 0, UNCOUNTED)
    time.now += 2.0
    assert stage.text() == "0:02 elapsed"
    assert clock(3725) == "1:02:05"


def test_batches_are_embedded_so_that_work_done_keeps_step_with_texts_done() -> None:
    # Texts of very different lengths, as a folder's lines are: most short, a tail of long ones.
    texts = [("word " * (2 + (i * 7919) % 60)) for i in range(10_000)]
    texts += ["long line " * 40] * 800
    order = sorted(range(len(texts)), key=lambda row: len(texts[row]))
    planned = _evenly(order, texts, 1024)

    batches = [batch for _, batch in planned]
    assert sorted(row for batch in batches for row in batch) == list(range(len(texts))), "each text once"
    assert sorted(map(tuple, batches)) == sorted(tuple(order[i : i + 1024]) for i in range(0, len(order), 1024))
    assert [before for before, _ in planned] == [sum(map(len, batches[:i])) for i in range(len(batches))]

    whole = sum(len(text) for text in texts)
    done = worked = 0
    for batch in batches[:-1]:
        done, worked = done + len(batch), worked + sum(len(texts[row]) for row in batch)
        assert abs(worked / whole - done / len(texts)) < 0.1, "the rate in texts stays near the stage's average"
    # Shortest first, the way they were cut, the share of work trails the share of texts far behind.
    half = order[: len(order) // 2]
    assert sum(len(texts[row]) for row in half) / whole < 0.35
