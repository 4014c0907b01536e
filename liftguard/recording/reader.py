"""Reading a recording back — all of it, or everything up to where a crash cut it off."""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from mcap.exceptions import McapError
from mcap.records import Channel, Chunk, Footer, Header, Message, Schema
from mcap.stream_reader import StreamReader, breakup_chunk

from liftguard.config import SessionConfig
from liftguard.errors import CorruptRecordingError
from liftguard.inputs import Input
from liftguard.recording.schema import (
    PROFILE,
    config_from_json,
    input_from_json,
    unpack_packets,
    unpack_ticks,
)
from liftguard.samples import SampleBlock

__all__ = ["PacketBatch", "Recording", "read_recording"]

# Our chunks hold about half a second of a session: anything claiming to be far larger is a
# corrupted length field, and trusting it could exhaust memory.
_MAX_RECORD = 64 * 1024 * 1024
_MAX_CHUNK_UNCOMPRESSED = 256 * 1024 * 1024


@dataclass(frozen=True)
class PacketBatch:
    """Notifications of one sensor: ``seq`` ``(m,)``, ``t_host`` ``(m,)`` s, ``packets``."""

    address: str
    seq: npt.NDArray[np.int64]
    t_host: npt.NDArray[np.float64]
    packets: list[bytes]


@dataclass
class Recording:
    """A recording in memory.

    ``clean`` is True when the file was closed properly (its MCAP summary was read); otherwise
    ``problems`` says what was recovered and what was skipped.
    """

    path: Path
    meta: dict[str, Any]
    config: SessionConfig
    batches: list[PacketBatch] = field(default_factory=list)
    samples: list[tuple[int, str, SampleBlock]] = field(default_factory=list)
    inputs: list[tuple[int, Input]] = field(default_factory=list)
    connections: list[tuple[int, float, str, str, str | None]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    #: simulator per-sample truth: one dict of equal-length columns per message
    truth_samples: list[dict[str, Any]] = field(default_factory=list)
    ticks: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0))
    )
    clean: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        return bool(self.meta.get("simulated"))

    def packets_of(self, address: str) -> PacketBatch:
        """All notifications of one sensor, in arrival order."""
        mine = [b for b in self.batches if b.address.upper() == address.upper()]
        if not mine:
            return PacketBatch(address, np.zeros(0, np.int64), np.zeros(0), [])
        seq = np.concatenate([b.seq for b in mine])
        order = np.argsort(seq, kind="stable")
        hosts = np.concatenate([b.t_host for b in mine])[order]
        packets = [p for b in mine for p in b.packets]
        return PacketBatch(address, seq[order], hosts, [packets[i] for i in order])

    @property
    def end_time(self) -> float:
        """The last session time anything was recorded at, seconds."""
        times = [float(b.t_host[-1]) for b in self.batches if b.t_host.size]
        times += [float(b.t[-1]) for _, _, b in self.samples if len(b)]
        times += [float(e.get("t", 0.0)) for e in self.events]
        return max(times, default=0.0)


def read_recording(path: Path | str) -> Recording:
    """Read a LiftGuard recording, recovering what a crash or corruption left intact.

    Raises:
        CorruptRecordingError: the file is missing, not an MCAP file, not a LiftGuard
            recording, or damaged before its session configuration. The message is one line
            naming the file and the problem.
    """
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 — closed in the finally below
    except OSError as exc:
        raise CorruptRecordingError(f"{path}: cannot open ({exc.strerror})") from exc
    try:
        return _read(path, f)
    finally:
        f.close()


def _read(path: Path, f: Any) -> Recording:
    schemas: dict[int, str] = {}
    topics: dict[int, str] = {}
    messages: list[tuple[str, bytes]] = []
    problems: list[str] = []
    clean = False
    profile: str | None = None
    skipped_chunks = 0
    reader = StreamReader(f, emit_chunks=True, record_size_limit=_MAX_RECORD)
    try:
        for record in reader.records:
            if isinstance(record, Header):
                profile = record.profile
            elif isinstance(record, Chunk):
                try:
                    if record.uncompressed_size > _MAX_CHUNK_UNCOMPRESSED:
                        raise ValueError("implausible chunk size")
                    inner = breakup_chunk(record, validate_crc=True)
                except Exception:
                    skipped_chunks += 1
                    continue
                for rec in inner:
                    _collect(rec, schemas, topics, messages)
            elif isinstance(record, Footer):
                clean = True
            else:
                _collect(record, schemas, topics, messages)
    except McapError as exc:
        if profile is None:
            raise CorruptRecordingError(f"{path}: not an MCAP file ({exc})") from exc
        problems.append(f"file ends early or is damaged after {f.tell()} bytes ({exc})")
    except (struct.error, ValueError, EOFError, UnicodeDecodeError, MemoryError) as exc:
        if profile is None:
            raise CorruptRecordingError(f"{path}: not an MCAP file ({exc})") from exc
        problems.append(f"file damaged after {f.tell()} bytes ({type(exc).__name__})")
    if profile is None:
        raise CorruptRecordingError(f"{path}: empty or not an MCAP file")
    if profile != PROFILE:
        raise CorruptRecordingError(
            f"{path}: an MCAP file from another program (profile {profile!r}), "
            "not a LiftGuard recording"
        )
    if skipped_chunks:
        problems.append(f"skipped {skipped_chunks} damaged chunk(s)")
    if not clean and not problems:
        problems.append("not closed cleanly (the recording process stopped)")
    return _assemble(path, messages, clean, problems)


def _collect(
    record: Any, schemas: dict[int, str], topics: dict[int, str], out: list[tuple[str, bytes]]
) -> None:
    if isinstance(record, Schema):
        schemas[record.id] = record.name
    elif isinstance(record, Channel):
        topics[record.id] = record.topic
    elif isinstance(record, Message) and record.channel_id in topics:
        out.append((topics[record.channel_id], record.data))


def _assemble(
    path: Path, messages: list[tuple[str, bytes]], clean: bool, problems: list[str]
) -> Recording:
    session: dict[str, Any] | None = None
    bad = 0
    rec_parts: dict[str, list[Any]] = {k: [] for k in ("ble", "samples", "input", "conn", "ticks")}
    events: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    truth_samples: list[dict[str, Any]] = []
    for topic, data in messages:
        try:
            obj = json.loads(data)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            if topic == "/liftguard/session" and session is None:
                session = obj
            elif topic == "/liftguard/ble":
                address, seq, hosts, packets = unpack_packets(obj)
                rec_parts["ble"].append(PacketBatch(address, seq, hosts, packets))
            elif topic == "/liftguard/samples":
                block = SampleBlock(
                    t=np.asarray(obj["t"], dtype=np.float64),
                    acc=np.asarray(obj["acc"], dtype=np.float64).reshape(-1, 3),
                    gyr=np.asarray(obj["gyr"], dtype=np.float64).reshape(-1, 3),
                    quat=(
                        np.asarray(obj["quat"], dtype=np.float64).reshape(-1, 4)
                        if "quat" in obj
                        else None
                    ),
                    flags=np.asarray(obj.get("flags", []), dtype=np.uint8),
                )
                rec_parts["samples"].append((int(obj["seq"]), str(obj["address"]), block))
            elif topic == "/liftguard/input":
                rec_parts["input"].append((int(obj["seq"]), input_from_json(obj)))
            elif topic == "/liftguard/connection":
                rec_parts["conn"].append(
                    (
                        int(obj["seq"]),
                        float(obj["t"]),
                        str(obj["address"]),
                        str(obj["state"]),
                        obj.get("chip"),
                    )
                )
            elif topic == "/liftguard/truth_samples":
                truth_samples.append(_truth_columns(obj))
            elif topic == "/liftguard/ticks":
                rec_parts["ticks"].append(unpack_ticks(obj))
            elif topic == "/liftguard/events":
                events.append(obj)
            elif topic == "/liftguard/truth":
                truth.append(obj)
        except (ValueError, KeyError, TypeError):
            bad += 1
    if session is None:
        raise CorruptRecordingError(f"{path}: the session configuration is missing or damaged")
    if bad:
        problems.append(f"skipped {bad} malformed message(s)")
    return Recording(
        path=path,
        meta={k: v for k, v in session.items() if k != "athletes"},
        config=config_from_json(session),
        batches=rec_parts["ble"],
        samples=rec_parts["samples"],
        inputs=rec_parts["input"],
        connections=rec_parts["conn"],
        events=events,
        truth=truth,
        truth_samples=truth_samples,
        ticks=(
            (
                np.concatenate([s for s, _ in rec_parts["ticks"]]),
                np.concatenate([t for _, t in rec_parts["ticks"]]),
            )
            if rec_parts["ticks"]
            else (np.zeros(0, np.int64), np.zeros(0))
        ),
        clean=clean,
        problems=problems,
    )


def _truth_columns(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"athlete": str(obj["athlete"])}
    n = None
    for key, value in obj.items():
        if key == "athlete":
            continue
        col = (
            np.frombuffer(base64.b64decode(value, validate=True), dtype="<f8").astype(np.float64)
            if isinstance(value, str)
            else np.asarray(value, dtype=object)
        )
        if n is not None and len(col) != n:
            raise ValueError("truth columns differ in length")
        n = len(col)
        out[key] = col
    return out
