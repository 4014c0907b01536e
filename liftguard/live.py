"""`liftguard live`: a session with real sensors.

The roster comes from the session TOML; the connection manager finds, connects and keeps
every sensor streaming; the pipeline, recorder and event stream are the demo's. The
supervisor's inputs arrive as lines on standard input (the dashboard will send the same):

    calibrate [ATHLETE ...]          everyone (or the named) stand still 3 s, then bend and return
    set ATHLETE EXERCISE [REPS]      ATHLETE starts the next set of EXERCISE (default 5 reps; the
                                     set ends when they are done, 0: when the athlete pauses)
    ack ALERT_ID                     the supervisor saw the alert
    quit                             end the session
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from liftguard.config import SessionConfig
from liftguard.errors import ConfigError
from liftguard.events import Event, SummaryEvent
from liftguard.inputs import Acknowledge, Calibrate, Input, StartSet
from liftguard.recording.recorder import Recorder
from liftguard.sensors.clock import Clock, MonotonicClock
from liftguard.sensors.manager import ConnectionManager
from liftguard.session import Session

__all__ = ["CommandParser", "LiveOptions", "run_live"]

EXERCISES = ("deadlift", "squat", "ohp", "jump")


@dataclass
class CommandParser:
    """Turns the supervisor's typed lines into inputs; keeps each athlete's set numbers."""

    config: SessionConfig
    _sets: dict[tuple[str, str], int] = field(default_factory=dict)

    def parse(self, line: str, t: float) -> Input | str | None:
        """An :class:`Input`, ``"quit"``, or ``None`` for a blank line.

        Raises:
            ConfigError: a line that is not a command (one line saying what is wrong).
        """
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise ConfigError(f"cannot read {line!r}: {exc}") from None
        if not words:
            return None
        cmd, args = words[0].lower(), words[1:]
        names = [a.name for a in self.config.athletes]
        if cmd == "quit":
            return "quit"
        if cmd == "calibrate":
            unknown = [a for a in args if a not in names]
            if unknown:
                raise ConfigError(f"no athlete {unknown[0]!r} in the roster")
            return Calibrate(t=t, athletes=tuple(args) or None)
        if cmd == "set":
            if len(args) not in (2, 3) or args[0] not in names or args[1] not in EXERCISES:
                raise ConfigError(
                    f"usage: set ATHLETE EXERCISE [REPS] (athletes: {', '.join(names)}; "
                    f"exercises: {', '.join(EXERCISES)})"
                )
            reps = int(args[2]) if len(args) == 3 and args[2].isdigit() else 5
            key = (args[0], args[1])
            self._sets[key] = self._sets.get(key, 0) + 1
            return StartSet(t, args[0], args[1], self._sets[key], reps)
        if cmd == "ack" and len(args) == 1:
            return Acknowledge(t=t, alert_id=args[0])
        raise ConfigError(f"unknown command {line.strip()!r} (calibrate, set, ack, quit)")


@dataclass(frozen=True)
class LiveOptions:
    """``duration``: stop after this many seconds (``None``: until ``quit`` or Ctrl-C)."""

    duration: float | None = None
    scan_timeout: float = 10.0


async def run_live(
    config: SessionConfig,
    on_event: Callable[[Event], None],
    *,
    opts: LiveOptions = LiveOptions(),
    record: Path | None = None,
    commands: TextIO | None = None,
    on_error: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    clock: Clock | None = None,
    scanner_backend: type[BaseBleakScanner] | None = None,
    client_backend: type[BaseBleakClient] | None = None,
) -> list[SummaryEvent]:
    """Run a live session until ``quit``, end of ``duration``, or cancellation.

    Raises:
        BluetoothUnavailableError: no Bluetooth on this machine.
        ConfigError: the recording cannot be written (checked before connecting).
    """
    clock = clock or MonotonicClock()
    recorder = None if record is None else Recorder(record, config, meta={"simulated": False})
    session = Session(config, sinks=[on_event], recorder=recorder)
    parser = CommandParser(config)

    def on_state(address: str, t: float, state: str, detail: str, chip: str | None) -> None:
        if state in ("connected", "reconnected"):
            session.connected(address, t, chip=chip, state=state)
        elif state == "lost":
            session.lost(address, t)
        else:
            session.sensor_state(address, t, state, detail)

    manager = ConnectionManager(
        config,
        clock=clock,
        on_data=session.packet,
        on_state=on_state,
        scanner_backend=scanner_backend,
        client_backend=client_backend,
        scan_timeout=opts.scan_timeout,
    )
    quit_event = asyncio.Event()

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.25)
            session.tick(clock.now())

    async def read_commands() -> None:
        if commands is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, commands.readline)
            if not line:
                return  # end of input: keep monitoring until duration or Ctrl-C
            try:
                inp = parser.parse(line, clock.now())
            except ConfigError as exc:
                on_error(f"liftguard live: {exc}")
                continue
            if inp == "quit":
                quit_event.set()
                return
            if isinstance(inp, Input):
                session.input(inp)

    tasks: list[asyncio.Task[None]] = []
    try:
        await manager.start()
        tasks = [asyncio.create_task(ticker()), asyncio.create_task(read_commands())]
        waiter = asyncio.create_task(quit_event.wait())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, opts.duration)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await manager.stop()
        t_end = clock.now()
        summaries = [
            SummaryEvent(
                t=t_end,
                athlete=a.name,
                reps=session.pipeline.rep_counts[a.name],
                alerts=session.pipeline.alert_counts[a.name],
            )
            for a in config.athletes
        ]
        for s in summaries:
            session.emit(s)
        session.close()
    return summaries
