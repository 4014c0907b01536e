"""Writing a session to MCAP as it happens, so that a crash loses at most the last second."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
from mcap.writer import CompressionType, Writer

from liftguard import __version__
from liftguard.config import SessionConfig
from liftguard.errors import ConfigError
from liftguard.events import Event
from liftguard.inputs import Input
from liftguard.recording.schema import (
    CHANNELS,
    FORMAT_VERSION,
    PROFILE,
    config_to_json,
    input_to_json,
    pack_packets,
    pack_ticks,
)
from liftguard.samples import SampleBlock

__all__ = ["Recorder", "default_recording_path"]

#: Free space below which a recording refuses to start (a 30-minute session of 8 athletes
#: needs a few tens of MB; this leaves room for the rest of the laptop).
MIN_FREE_BYTES = 200 * 1024 * 1024


def default_recording_path(session_name: str, directory: Path | str = "recordings") -> Path:
    """``recordings/<UTC date-time>_<session name>.mcap``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in session_name) or "session"
    return Path(directory) / f"{stamp}_{safe}.mcap"


class Recorder:
    """Records one session.

    Notifications are buffered per sensor and written as one message per sensor per flush;
    every ``flush_interval_s`` of session time the MCAP chunk in progress is closed and
    written, so the file on disk is never more than that behind the session, and a reader
    can recover everything up to the last complete chunk after a crash.

    Args:
        path: the ``.mcap`` file to create (its folder is created).
        config: the session's roster.
        flush_interval_s: session seconds between flushes to disk.
        meta: extra fields for the session message (e.g. ``{"simulated": True}``).

    Raises:
        ConfigError: the location is not writable or the disk is (nearly) full — before the
            session starts, never in its middle.
    """

    def __init__(
        self,
        path: Path | str,
        config: SessionConfig,
        *,
        flush_interval_s: float = 0.5,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self._stream = _open_for_recording(self.path)
        self._writer = Writer(self._stream, compression=CompressionType.ZSTD)
        self._writer.start(profile=PROFILE, library=f"liftguard {__version__}")
        self._channels: dict[str, int] = {}
        for topic, (name, schema) in CHANNELS.items():
            sid = self._writer.register_schema(
                name=name, encoding="jsonschema", data=json.dumps(schema).encode()
            )
            self._channels[topic] = self._writer.register_channel(
                topic=topic, message_encoding="json", schema_id=sid
            )
        self._seq = 0
        self._pending: dict[str, tuple[list[int], list[float], list[bytes]]] = {}
        self._ticks: tuple[list[int], list[float]] = ([], [])
        self._last_flush = 0.0
        self._last_fsync = time.monotonic()
        self._now = 0.0
        self.closed = False
        #: Set when writing failed mid-session (e.g. the disk filled up); the session goes on.
        self.error: str | None = None
        session = {
            "format": FORMAT_VERSION,
            "software": f"liftguard {__version__}",
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **config_to_json(config),
            **(meta or {}),
        }
        self._write("/liftguard/session", session, 0.0)
        self.flush()

    # -- what the session records --------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def packet(self, address: str, host_time: float, data: bytes | bytearray) -> None:
        """A BLE notification exactly as received at ``host_time`` (session s)."""
        seqs, hosts, packets = self._pending.setdefault(address, ([], [], []))
        seqs.append(self.next_seq())
        hosts.append(host_time)
        packets.append(bytes(data))
        self.tick(host_time)

    def samples(self, address: str, block: SampleBlock) -> None:
        """Decoded samples of a sensor without raw packets (imports)."""
        msg: dict[str, Any] = {
            "address": address,
            "seq": self.next_seq(),
            "t": block.t.tolist(),
            "acc": block.acc.tolist(),
            "gyr": block.gyr.tolist(),
            "flags": block.flags.tolist(),
        }
        if block.quat is not None:
            msg["quat"] = block.quat.tolist()
        t = float(block.t[-1]) if len(block) else self._now
        self._write("/liftguard/samples", msg, t)
        self.tick(t)

    def input(self, inp: Input) -> None:
        """A supervisor input, in order with the notifications around it."""
        self._write("/liftguard/input", input_to_json(inp, self.next_seq()), inp.t)

    def connection(self, address: str, t: float, state: str, chip: str | None = None) -> None:
        """A sensor connected (with its chip), was lost, or came back."""
        msg = {"seq": self.next_seq(), "t": t, "address": address, "state": state, "chip": chip}
        self._write("/liftguard/connection", msg, t)

    def event(self, event: Event) -> None:
        """Every event the session produced."""
        self._write("/liftguard/events", event.to_json(), event.t)

    def truth(self, athlete: str, payload: dict[str, Any], t: float = 0.0) -> None:
        """Simulator ground truth for a simulated athlete."""
        self._write("/liftguard/truth", {"athlete": athlete, **payload}, t)

    def clock_tick(self, now: float) -> None:
        """Record a clock tick of the session (time passing, data or not), then :meth:`tick`."""
        self._ticks[0].append(self.next_seq())
        self._ticks[1].append(now)
        self.tick(now)

    def truth_samples(self, athlete: str, samples: dict[str, Any]) -> None:
        """Per-sample simulator truth (a dict of equal-length arrays, ``t`` in session s)."""
        t = samples["t"]
        msg: dict[str, Any] = {"athlete": athlete}
        for key, value in samples.items():
            arr = np.asarray(value)
            if arr.dtype.kind in "fiub":
                msg[key] = base64.b64encode(arr.astype("<f8").tobytes()).decode("ascii")
            else:
                msg[key] = [str(v) for v in arr]
        self._write("/liftguard/truth_samples", msg, float(t[0]) if len(t) else self._now)

    def tick(self, now: float) -> None:
        """Session time is ``now``: flush if a flush is due."""
        self._now = max(self._now, now)
        if self._now - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered and close the chunk in progress."""
        if self.closed:
            return
        for address, (seqs, hosts, packets) in self._pending.items():
            if seqs:
                data = pack_packets(address, seqs, hosts, packets)
                self._add("/liftguard/ble", data, hosts[-1])
        self._pending = {}
        if self._ticks[0]:
            self._add("/liftguard/ticks", pack_ticks(*self._ticks), self._ticks[1][-1])
            self._ticks = ([], [])
        self._last_flush = self._now
        try:
            self._writer.flush()
            # fsync protects against power loss too; once a wall second is plenty.
            if time.monotonic() - self._last_fsync >= 1.0:
                os.fsync(self._stream.fileno())
                self._last_fsync = time.monotonic()
        except OSError as exc:
            self._fail(exc)

    def close(self) -> None:
        """Flush and write the MCAP summary (the file is then 'closed cleanly')."""
        if self.closed:
            return
        self.flush()
        try:
            self._writer.finish()
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
        except OSError as exc:
            self._fail(exc)
        self.closed = True

    # -- internals -----------------------------------------------------------------------

    def _write(self, topic: str, obj: dict[str, Any], t: float) -> None:
        self._add(topic, json.dumps(obj, separators=(",", ":")).encode(), t)

    def _add(self, topic: str, data: bytes, t: float) -> None:
        if self.error is not None:
            return
        ns = max(0, round(t * 1e9))
        try:
            self._writer.add_message(
                channel_id=self._channels[topic], log_time=ns, data=data, publish_time=ns
            )
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        if self.error is None:
            self.error = f"recording to {self.path} stopped: {exc.strerror or exc}"


def _open_for_recording(path: Path) -> IO[bytes]:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {folder} for the recording: {exc.strerror}") from exc
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise ConfigError(
            f"only {free // (1024 * 1024)} MB free in {folder}; free some space or record "
            "elsewhere (--record PATH)"
        )
    try:
        stream = open(path, "xb")  # noqa: SIM115 — the recorder owns it until close()
    except FileExistsError:
        raise ConfigError(f"{path} already exists; choose another --record path") from None
    except OSError as exc:
        raise ConfigError(f"cannot write the recording {path}: {exc.strerror}") from exc
    return stream
