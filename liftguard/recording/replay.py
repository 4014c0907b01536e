"""Replaying a recording through the same codecs and pipeline as the live session."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from liftguard.alerts.health import STALE_S
from liftguard.events import Event, SummaryEvent
from liftguard.inputs import Input
from liftguard.pipeline import Pipeline
from liftguard.recording.reader import PacketBatch, Recording
from liftguard.samples import SampleBlock
from liftguard.signal.athlete import AngleSamples

__all__ = ["FAST_WINDOW_S", "replay"]

#: Session seconds fed per step when replaying as fast as possible.
FAST_WINDOW_S = 60.0


@dataclass
class _Cursor:
    batch: PacketBatch
    pos: int = 0


def replay(
    recording: Recording,
    on_event: Callable[[Event], None],
    *,
    speed: float = math.inf,
    window_s: float | None = None,
    on_angles: Callable[[str, AngleSamples], None] | None = None,
) -> Pipeline:
    """Run a recording through a fresh :class:`Pipeline`.

    Notifications are re-decoded by today's codecs. Inputs and connection changes are applied
    in the order the live pipeline received them (their sequence numbers); in between, each
    sensor's notifications are fed in batches, which every stage of the pipeline treats
    exactly as it treats them one by one. So the ``rep`` and ``alert`` events equal the live
    session's, field for field.

    Args:
        recording: what :func:`~liftguard.recording.reader.read_recording` returned.
        on_event: receives every event, in session-time order within each window.
        speed: session seconds per real second; ``math.inf`` runs as fast as possible.
        window_s: session seconds fed per step (default: 0.05 s when paced, 60 s when fast:
            every step costs a fixed number of numpy calls per stage, so large steps run fast
            replays about twice as fast as 5-s ones; beyond a minute it hardly pays).
        on_angles: receives ``(athlete, AngleSamples)`` for every processed block.

    Ends with a ``summary`` event per athlete (with the simulator's truth when recorded).

    Returns:
        The pipeline, for its counters.
    """
    pending: list[Event] = []
    pipeline = Pipeline(recording.config, on_event=pending.append, on_angles=on_angles)
    step = window_s if window_s is not None else (FAST_WINDOW_S if math.isinf(speed) else 0.05)
    cursors = [_Cursor(recording.packets_of(s.address)) for _, s in recording.config.sensors()]
    cursors = [c for c in cursors if c.batch.seq.size]
    controls: list[tuple[int, Callable[[], None]]] = []
    for seq, inp in recording.inputs:
        controls.append((seq, _bind_input(pipeline, inp)))
    for seq, t, address, state, chip in recording.connections:
        controls.append((seq, _bind_connection(pipeline, address, t, state, chip)))
    for seq, address, block in recording.samples:
        controls.append((seq, _bind_samples(pipeline, address, block)))
    for seq, t in _ticks_that_can_matter(recording, cursors):
        controls.append((seq, _bind_tick(pipeline, t)))
    controls.sort(key=lambda c: c[0])
    start_wall = time.monotonic()

    def deliver() -> None:
        pending.sort(key=lambda e: e.t)
        for e in pending:
            on_event(e)
        pending.clear()

    def feed(seq_limit: float, host_limit: float) -> None:
        for c in cursors:
            b = c.batch
            end = int(np.searchsorted(b.seq, seq_limit, side="left"))
            end = min(end, int(np.searchsorted(b.t_host, host_limit, side="right")))
            if end > c.pos:
                pipeline.feed_packets(b.address, b.t_host[c.pos : end], b.packets[c.pos : end])
                c.pos = end

    def feed_windows(seq_limit: float, until: float) -> None:
        # Feed everything before seq_limit, step session seconds at a time (pacing if asked).
        while True:
            heads = [
                float(c.batch.t_host[c.pos])
                for c in cursors
                if c.pos < c.batch.seq.size and c.batch.seq[c.pos] < seq_limit
            ]
            if not heads:
                return
            t_next = min(heads) + step
            if not math.isinf(speed):
                delay = start_wall + t_next / speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            feed(seq_limit, min(t_next, until))
            deliver()

    for seq, apply in controls:
        feed_windows(seq, math.inf)
        apply()
        deliver()
    feed_windows(math.inf, math.inf)
    deliver()
    truth = {t.get("athlete"): t for t in recording.truth}
    for athlete in recording.config.athletes:
        known = truth.get(athlete.name)
        on_event(
            SummaryEvent(
                t=recording.end_time,
                athlete=athlete.name,
                reps=pipeline.rep_counts[athlete.name],
                alerts=pipeline.alert_counts[athlete.name],
                truth=(
                    None
                    if known is None
                    else {k: v for k, v in known.items() if k not in ("athlete", "reps_detail")}
                ),
            )
        )
    return pipeline


def _ticks_that_can_matter(recording: Recording, cursors: list[_Cursor]) -> list[tuple[int, float]]:
    """The recorded ticks at which some sensor had been silent long enough to go stale.

    A tick only checks staleness; at any other tick every sensor had sent data within
    :data:`~liftguard.alerts.health.STALE_S`, so skipping it changes nothing — and not
    splitting the replay at every tick keeps it fast.
    """
    seqs, times = recording.ticks
    if seqs.size == 0:
        return []
    relevant = np.zeros(seqs.size, dtype=bool)
    for c in cursors:
        last = np.searchsorted(c.batch.seq, seqs) - 1
        before = np.where(last >= 0, c.batch.t_host[np.maximum(last, 0)], -np.inf)
        relevant |= times - before > STALE_S * 0.9
    return [(int(s), float(t)) for s, t in zip(seqs[relevant], times[relevant], strict=True)]


def _bind_tick(pipeline: Pipeline, t: float) -> Callable[[], None]:
    return lambda: pipeline.tick(t)


def _bind_input(pipeline: Pipeline, inp: Input) -> Callable[[], None]:
    return lambda: pipeline.input(inp)


def _bind_connection(
    pipeline: Pipeline, address: str, t: float, state: str, chip: str | None
) -> Callable[[], None]:
    if state in ("connected", "reconnected"):
        return lambda: pipeline.sensor_connected(address, t, chip=chip, state=state)
    return lambda: pipeline.sensor_state(address, t, state)


def _bind_samples(pipeline: Pipeline, address: str, block: SampleBlock) -> Callable[[], None]:
    return lambda: pipeline.feed_samples(address, block)
