"""A running session: the pipeline, the recorder and the event sinks, wired in one place.

Live sessions and the demo feed a :class:`Session`; it records every input exactly as the
pipeline receives it (so a replay can reproduce the session) and sends every event to the
recorder and to the sinks (console, JSON stream, dashboard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from liftguard.config import SessionConfig
from liftguard.events import Event
from liftguard.inputs import Input
from liftguard.pipeline import Pipeline
from liftguard.recording.recorder import Recorder

__all__ = ["Session"]


class Session:
    """Everything a source hands over goes through here.

    Args:
        config: the roster.
        sinks: called with every event, in order.
        recorder: where the session is recorded (``None``: not recorded).
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        sinks: Sequence[Callable[[Event], None]] = (),
        recorder: Recorder | None = None,
    ) -> None:
        self.config = config
        self.recorder = recorder
        self._sinks = list(sinks)
        self.pipeline = Pipeline(config, on_event=self._event)

    def packet(self, address: str, host_time: float, data: bytes | bytearray) -> None:
        """A BLE notification from ``address`` arrived at ``host_time`` (session s)."""
        if self.recorder is not None:
            self.recorder.packet(address, host_time, data)
        self.pipeline.feed_packet(address, host_time, data)

    def input(self, inp: Input) -> None:
        """A supervisor input."""
        if self.recorder is not None:
            self.recorder.input(inp)
        self.pipeline.input(inp)

    def connected(
        self, address: str, t: float, chip: str | None = None, *, state: str = "connected"
    ) -> None:
        """Sensor ``address`` connected (or ``reconnected``) at ``t``, with its IMU ``chip``
        where it has one."""
        if self.recorder is not None:
            self.recorder.connection(address, t, state, chip)
        self.pipeline.sensor_connected(address, t, chip=chip, state=state)

    def sensor_state(self, address: str, t: float, state: str, detail: str = "") -> None:
        """Any other sensor news (``missing``, ``failed`` …), recorded and shown."""
        if self.recorder is not None:
            self.recorder.connection(address, t, state)
        self.pipeline.sensor_state(address, t, state, detail=detail)

    def lost(self, address: str, t: float) -> None:
        """The link to ``address`` dropped without us asking."""
        if self.recorder is not None:
            self.recorder.connection(address, t, "lost")
        self.pipeline.sensor_state(address, t, "lost")

    def tick(self, now: float) -> None:
        """Session time advanced to ``now`` with or without data: recorded, and a silent
        sensor is noticed."""
        if self.recorder is not None:
            self.recorder.clock_tick(now)
        self.pipeline.tick(now)

    def emit(self, event: Event) -> None:
        """An event from outside the pipeline (e.g. the end-of-session summary)."""
        self._event(event)

    def close(self) -> None:
        """Flush and close the recording."""
        if self.recorder is not None:
            self.recorder.close()

    def _event(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder.event(event)
        for sink in self._sinks:
            sink(event)
