"""The recording format: MCAP channels, their JSON schemas, and (de)serialisation helpers.

One session is one MCAP file with profile ``liftguard``. Every channel carries JSON messages
with a JSON-schema, so generic MCAP tools (Foxglove, the ``mcap`` CLI) can read them. Items
that drive the pipeline (BLE notifications, decoded samples, supervisor inputs, connection
changes) carry a session-wide sequence number ``seq``: replay applies them in that order,
which is the order the live pipeline saw them in.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import numpy as np

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, Thresholds
from liftguard.errors import CorruptRecordingError
from liftguard.inputs import Acknowledge, Calibrate, Input, StartSet

__all__ = [
    "CHANNELS",
    "FORMAT_VERSION",
    "PROFILE",
    "config_from_json",
    "config_to_json",
    "input_from_json",
    "input_to_json",
    "pack_packets",
    "pack_ticks",
    "unpack_packets",
    "unpack_ticks",
]

PROFILE = "liftguard"
FORMAT_VERSION = 1

_NUM = {"type": "number"}
_INT = {"type": "integer"}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _b64(description: str) -> dict[str, Any]:
    return {"type": "string", "contentEncoding": "base64", "description": description}


def _enc(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


#: topic → (schema name, JSON schema)
CHANNELS: dict[str, tuple[str, dict[str, Any]]] = {
    "/liftguard/session": (
        "liftguard.Session",
        {
            "type": "object",
            "description": "Session configuration: roster, sensors, thresholds, software version",
            "required": ["format", "software", "name", "athletes"],
            "properties": {
                "format": _INT,
                "software": {"type": "string"},
                "name": {"type": "string"},
                "created_utc": {"type": "string"},
                "simulated": {"type": "boolean"},
                "athletes": _array({"type": "object"}),
            },
        },
    ),
    "/liftguard/ble": (
        "liftguard.BleBatch",
        {
            "type": "object",
            "description": (
                "BLE notifications of one sensor exactly as received, batched. The arrays are "
                "base64 of little-endian binary (JSON number lists made replay 2x slower)."
            ),
            "required": ["address", "seq", "t_host", "size", "data"],
            "properties": {
                "address": {"type": "string"},
                "seq": _b64("int64 LE: session-wide sequence number of each notification"),
                "t_host": _b64("float64 LE: host receive time of each notification, session s"),
                "size": _b64("uint16 LE: length of each notification in bytes"),
                "data": _b64("the notifications' bytes, concatenated; split by `size`"),
            },
        },
    ),
    "/liftguard/samples": (
        "liftguard.SampleBatch",
        {
            "type": "object",
            "description": "Decoded samples (imports): SI units, session seconds",
            "required": ["address", "seq", "t", "acc", "gyr"],
            "properties": {
                "address": {"type": "string"},
                "seq": _INT,
                "t": _array(_NUM),
                "acc": _array(_array(_NUM)),
                "gyr": _array(_array(_NUM)),
                "quat": _array(_array(_NUM)),
                "flags": _array(_INT),
            },
        },
    ),
    "/liftguard/input": (
        "liftguard.Input",
        {
            "type": "object",
            "description": "A supervisor input: calibrate, start_set or ack",
            "required": ["seq", "t", "kind"],
            "properties": {"seq": _INT, "t": _NUM, "kind": {"type": "string"}},
        },
    ),
    "/liftguard/connection": (
        "liftguard.Connection",
        {
            "type": "object",
            "description": "A sensor connected, was lost or reconnected",
            "required": ["seq", "t", "address", "state"],
            "properties": {
                "seq": _INT,
                "t": _NUM,
                "address": {"type": "string"},
                "state": {"type": "string"},
                "chip": {"type": ["string", "null"]},
            },
        },
    ),
    "/liftguard/ticks": (
        "liftguard.Ticks",
        {
            "type": "object",
            "description": (
                "Clock ticks of a live session (time passing without data is how a silent "
                "sensor is noticed), batched"
            ),
            "required": ["seq", "t"],
            "properties": {
                "seq": _b64("int64 LE: sequence number of each tick"),
                "t": _b64("float64 LE: session time of each tick, s"),
            },
        },
    ),
    "/liftguard/truth_samples": (
        "liftguard.TruthSamples",
        {
            "type": "object",
            "description": (
                "Simulator per-sample truth of one athlete: numeric columns are base64 "
                "float64 LE (t s; flexion_deg, bend_deg, twist_deg, trunk_deg, pelvis_deg; "
                "set, rep; clipped_<placement> 0/1), text columns (phase, exercise) lists"
            ),
            "required": ["athlete", "t"],
            "properties": {"athlete": {"type": "string"}, "t": _b64("float64 LE session s")},
        },
    ),
    "/liftguard/events": (
        "liftguard.Event",
        {
            "type": "object",
            "description": "A session event, in the --json form documented in README",
            "required": ["type", "t", "athlete"],
            "properties": {"type": {"type": "string"}, "t": _NUM, "athlete": {"type": "string"}},
        },
    ),
    "/liftguard/truth": (
        "liftguard.Truth",
        {
            "type": "object",
            "description": "Simulator ground truth for one athlete",
            "required": ["athlete"],
            "properties": {"athlete": {"type": "string"}, "reps": _array({"type": "object"})},
        },
    ),
}


def config_to_json(config: SessionConfig) -> dict[str, Any]:
    """The roster as a JSON object (also the shape of the session TOML's athletes)."""
    return {
        "name": config.name,
        "athletes": [
            {
                "name": a.name,
                "thresholds": dataclasses.asdict(a.thresholds),
                "exercises": {ex: dataclasses.asdict(th) for ex, th in a.exercises},
                "sensors": [dataclasses.asdict(s) for s in a.sensors],
            }
            for a in config.athletes
        ],
    }


def config_from_json(obj: dict[str, Any]) -> SessionConfig:
    """Inverse of :func:`config_to_json`; raises CorruptRecordingError on a malformed roster."""
    try:
        athletes = tuple(
            AthleteConfig(
                name=str(a["name"]),
                sensors=tuple(SensorConfig(**s) for s in a["sensors"]),
                thresholds=Thresholds(**a.get("thresholds", {})),
                exercises=tuple(
                    (str(ex), Thresholds(**th)) for ex, th in a.get("exercises", {}).items()
                ),
            )
            for a in obj["athletes"]
        )
        return SessionConfig(name=str(obj["name"]), athletes=athletes)
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecordingError(f"session configuration is malformed ({exc})") from exc


def input_to_json(inp: Input, seq: int) -> dict[str, Any]:
    """A supervisor input as a ``/liftguard/input`` message."""
    if isinstance(inp, Calibrate):
        athletes = list(inp.athletes) if inp.athletes is not None else None
        return {"seq": seq, "t": inp.t, "kind": "calibrate", "athletes": athletes}
    if isinstance(inp, StartSet):
        return {
            "seq": seq,
            "t": inp.t,
            "kind": "start_set",
            "athlete": inp.athlete,
            "exercise": inp.exercise,
            "set": inp.set,
            "target_reps": inp.target_reps,
        }
    if isinstance(inp, Acknowledge):
        return {"seq": seq, "t": inp.t, "kind": "ack", "alert_id": inp.alert_id}
    raise TypeError(f"cannot record input {inp!r}")


def input_from_json(obj: dict[str, Any]) -> Input:
    """Inverse of :func:`input_to_json`; raises ValueError/KeyError on a malformed message."""
    kind = obj["kind"]
    t = float(obj["t"])
    if kind == "calibrate":
        athletes = obj.get("athletes")
        return Calibrate(t=t, athletes=None if athletes is None else tuple(athletes))
    if kind == "start_set":
        return StartSet(
            t, str(obj["athlete"]), str(obj["exercise"]), int(obj["set"]), int(obj["target_reps"])
        )
    if kind == "ack":
        return Acknowledge(t=t, alert_id=str(obj["alert_id"]))
    raise ValueError(f"unknown input kind {kind!r}")


def pack_packets(address: str, seqs: list[int], hosts: list[float], packets: list[bytes]) -> bytes:
    """A ``/liftguard/ble`` message: one sensor's notifications since the last flush."""
    return json.dumps(
        {
            "address": address,
            "seq": _enc(np.asarray(seqs, dtype="<i8")),
            "t_host": _enc(np.asarray(hosts, dtype="<f8")),
            "size": _enc(np.asarray([len(p) for p in packets], dtype="<u2")),
            "data": base64.b64encode(b"".join(packets)).decode("ascii"),
        },
        separators=(",", ":"),
    ).encode()


def pack_ticks(seqs: list[int], times: list[float]) -> bytes:
    """A ``/liftguard/ticks`` message."""
    return json.dumps(
        {"seq": _enc(np.asarray(seqs, dtype="<i8")), "t": _enc(np.asarray(times, dtype="<f8"))},
        separators=(",", ":"),
    ).encode()


def unpack_ticks(obj: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(seq (m,), t (m,))`` from a ``/liftguard/ticks`` message."""
    seq = np.frombuffer(base64.b64decode(obj["seq"], validate=True), dtype="<i8").astype(np.int64)
    t = np.frombuffer(base64.b64decode(obj["t"], validate=True), dtype="<f8").astype(np.float64)
    if seq.shape != t.shape or not np.all(np.isfinite(t)):
        raise ValueError("malformed ticks")
    return seq, t


def unpack_packets(
    obj: dict[str, Any],
) -> tuple[str, np.ndarray, np.ndarray, list[bytes]]:
    """``(address, seq (m,), t_host (m,), packets)`` from a ``/liftguard/ble`` message."""
    data = base64.b64decode(obj["data"], validate=True)
    sizes = np.frombuffer(base64.b64decode(obj["size"], validate=True), dtype="<u2")
    seq = np.frombuffer(base64.b64decode(obj["seq"], validate=True), dtype="<i8").astype(np.int64)
    hosts = np.frombuffer(base64.b64decode(obj["t_host"], validate=True), dtype="<f8").astype(
        np.float64
    )
    if int(sizes.sum()) != len(data):
        raise ValueError("packet sizes do not add up to the data")
    if not seq.shape == hosts.shape == sizes.shape:
        raise ValueError("seq, t_host and size differ in length")
    if not np.all(np.isfinite(hosts)):
        raise ValueError("non-finite receive time")
    ends = np.cumsum(sizes).tolist()
    starts = [0, *ends[:-1]]
    return str(obj["address"]), seq, hosts, [data[a:b] for a, b in zip(starts, ends, strict=True)]
