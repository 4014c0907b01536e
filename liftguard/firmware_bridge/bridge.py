"""``liftguard bridge decode``: the codecs' public face for people with new firmware.

Each notification given as hex is decoded on its own (MetaMotion, Movella DOT) or as part of
one byte stream (WitMotion frames may be split across notifications), and every sample comes
out as one JSON object in SI units.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.dot import DotConfig, DotDecoder, TimestampUnwrapper
from liftguard.firmware_bridge.metawear import MetaWearConfig, MetaWearDecoder
from liftguard.firmware_bridge.witmotion import FrameReassembler, decode_frames

__all__ = ["decode_hex"]


def _packets(hexes: Sequence[str]) -> list[bytes]:
    out = []
    for i, h in enumerate(hexes, 1):
        try:
            out.append(bytes.fromhex(h.replace(":", " ")))
        except ValueError:
            raise ConfigError(f"notification {i} ({h!r}) is not hex bytes") from None
    return out


def _vec(a: np.ndarray) -> list[float]:
    return [float(x) for x in a]


def decode_hex(
    family: str,
    hexes: Sequence[str],
    *,
    chip: str = "bmi160",
    acc_range_g: int = 16,
    gyro_range_dps: int = 2000,
    mode: int = 21,
) -> Iterator[dict[str, Any]]:
    """Yield one dict per decoded sample: ``notification`` (1-based), and the fields the
    stream carries — ``acc`` m/s², ``gyr`` rad/s, ``quat`` [w, x, y, z], ``t_device`` s,
    ``free_acc`` m/s², ``clipped``.

    Raises:
        ConfigError: bad options or non-hex input.
        ProtocolError: a notification that is not valid for the family and options.
    """
    packets = _packets(hexes)
    if family == "metawear":
        if chip not in ("bmi160", "bmi270"):
            raise ConfigError(f"--chip must be bmi160 or bmi270, got {chip!r}")
        mw = MetaWearDecoder(
            MetaWearConfig(chip=chip, acc_range_g=acc_range_g, gyro_range_dps=gyro_range_dps)  # type: ignore[arg-type]
        )
        for i, p in enumerate(packets, 1):
            pkt = mw.decode(p)
            if pkt is None:
                raise ProtocolError(
                    f"notification {i} ({p.hex(' ')}) is not {chip} acc/gyro data "
                    "(a command reply, another module, or malformed)"
                )
            for v, c in zip(pkt.values, pkt.clipped, strict=True):
                yield {"notification": i, pkt.stream: _vec(v), "clipped": bool(c)}
    elif family == "dot":
        dot = DotDecoder(DotConfig(mode=mode, rate_hz=60))
        unwrap = TimestampUnwrapper()
        for i, p in enumerate(packets, 1):
            d = dot.decode(p)
            if d is None:
                raise ProtocolError(
                    f"notification {i} ({len(p)} bytes) is not a DOT payload of mode {mode}"
                )
            for k in range(len(d)):
                obj: dict[str, Any] = {
                    "notification": i,
                    "t_device": unwrap.unwrap(int(d.t_us[k])),
                }
                for name in ("acc", "gyr", "quat", "free_acc"):
                    arr = getattr(d, name)
                    if arr is not None:
                        obj[name] = _vec(arr[k])
                yield obj
    elif family == "witmotion":
        reassembler = FrameReassembler()
        for i, p in enumerate(packets, 1):
            frames = reassembler.feed(p)
            if frames.shape[0]:
                s = decode_frames(frames)
                assert s.quat is not None  # asked for by default
                for k in range(s.acc.shape[0]):
                    yield {
                        "notification": i,
                        "acc": _vec(s.acc[k]),
                        "gyr": _vec(s.gyr[k]),
                        "quat": _vec(s.quat[k]),
                        "clipped": bool(s.clipped[k]),
                    }
        if reassembler.pending:
            raise ProtocolError(
                f"the last {reassembler.pending} byte(s) are the start of an incomplete frame"
            )
        if reassembler.garbage_runs:
            raise ProtocolError(
                f"{reassembler.garbage_runs} stretch(es) of bytes were not 55 61 frames"
            )
    else:
        raise ConfigError(f"--family must be metawear, dot or witmotion, got {family!r}")
