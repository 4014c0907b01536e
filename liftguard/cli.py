"""The ``liftguard`` command."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from liftguard import __version__
from liftguard.errors import LiftGuardError

__all__ = ["main"]

DESCRIPTION = """\
LiftGuard watches the lower backs of athletes doing supervised heavy lifting and impact
training. Two BLE IMU sensors per athlete (T12/L1 and sacrum) give lumbar flexion; LiftGuard
counts reps and alerts the supervisor when a lift goes into unsafe spinal flexion.
It is not a medical device: thresholds are the supervising professional's call."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump, no traceback)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole_number(minimum: int, rule: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{rule}, got {value}")
        return value

    return parse


_positive_int = _whole_number(1, "must be at least 1")
_non_negative_int = _whole_number(0, "must not be negative")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liftguard",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"liftguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="simulated athletes doing deadlift sets on emulated sensors",
        description=(
            "Run a session with simulated athletes wearing emulated MetaMotion sensors. "
            "The emulators speak the real wire protocol behind a simulated bleak backend, so "
            "the driver, pipeline and alerts are exactly those of a live session. Each athlete "
            "calibrates (stand still, bend forward), then does deadlift sets of 5 reps, some "
            "with a rounded lower back. Prints every rep and alert as it happens and, at the "
            "end, each athlete's counts next to the simulator's truth."
        ),
    )
    demo.add_argument(
        "--athletes", type=_positive_int, default=2, metavar="N", help="athletes (1-16, default 2)"
    )
    demo.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="session length in simulated seconds (at least 30; calibration and one set of "
        "five take about 60; default 120, or the whole program)",
    )
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        metavar="FACTOR",
        help="simulated seconds per real second (default 1 = real time)",
    )
    demo.add_argument(
        "--seed", type=_non_negative_int, default=0, metavar="K", help="random seed (default 0)"
    )
    demo.add_argument(
        "--program",
        default="deadlift",
        metavar="deadlift|liftmor|FILE",
        help="deadlift sets (default), the whole LIFTMOR program (all four exercises), or a "
        "TOML of [[exercise]] name/sets/reps; with a program, --duration defaults to all of it",
    )
    demo.add_argument(
        "--family",
        choices=("metawear", "dot", "witmotion", "mixed"),
        default="metawear",
        help="sensor family the athletes wear (mixed: alternating by athlete)",
    )
    demo.add_argument("--json", action="store_true", help="one JSON event per line instead of text")
    _add_record_options(demo)

    simulate = sub.add_parser(
        "simulate",
        help="write simulated sessions (recordings with truth) for training and validation",
        description=(
            "Simulate athletes doing a program on emulated sensors and record it exactly as a "
            "live session (raw notifications through the byte-exact emulators and bleak) plus "
            "the simulator's truth: per-rep (faults, severities, phases) and per-sample "
            "(lumbar angles, phases, clipped samples) channels."
        ),
    )
    simulate.add_argument(
        "--athletes", type=_positive_int, default=1, metavar="N", help="athletes per session"
    )
    simulate.add_argument(
        "--program",
        default="liftmor",
        metavar="liftmor|FILE",
        help="the LIFTMOR program (default) or a TOML of [[exercise]] name/sets/reps",
    )
    simulate.add_argument(
        "--minutes",
        type=_positive_float,
        metavar="M",
        help="session length (default: the whole program)",
    )
    simulate.add_argument("--seed", type=_non_negative_int, default=0, metavar="S")
    simulate.add_argument(
        "--family", choices=("metawear", "dot", "witmotion", "mixed"), default="metawear"
    )
    out = simulate.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", type=Path, metavar="FILE.mcap", help="one session")
    out.add_argument(
        "--dataset", type=Path, metavar="DIR", help="--count sessions of different athletes"
    )
    simulate.add_argument(
        "--count", type=_positive_int, default=10, metavar="K", help="sessions in --dataset"
    )

    live = sub.add_parser(
        "live",
        help="a session with real sensors, from a roster TOML",
        description=(
            "Connect every sensor of the roster (one scan, serialised connects, automatic "
            "reconnects), run the pipeline and record the session. Supervisor commands are "
            "read from standard input, one per line: 'calibrate [ATHLETE...]', "
            "'set ATHLETE EXERCISE [REPS]' (default 5; the set ends when they are done, 0: "
            "on a pause), 'ack ALERT_ID', 'quit'."
        ),
    )
    live.add_argument("--config", required=True, type=Path, metavar="SESSION.toml")
    live.add_argument(
        "--duration",
        type=_positive_float,
        metavar="SECONDS",
        help="stop after this long (default: at 'quit' or Ctrl-C)",
    )
    live.add_argument(
        "--scan-timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="how long the first scan looks for the roster (default 10)",
    )
    live.add_argument("--json", action="store_true", help="one JSON event per line")
    _add_record_options(live)

    rep = sub.add_parser(
        "replay",
        help="run a recording through the pipeline again",
        description=(
            "Replay a recorded session through today's codecs and pipeline. The rep and alert "
            "events equal the ones the live session produced. Paced at real time unless "
            "--speed or --fast says otherwise."
        ),
    )
    rep.add_argument("file", metavar="FILE", help="a .mcap recording")
    rep.add_argument("--json", action="store_true", help="one JSON event per line")
    pace = rep.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        metavar="FACTOR",
        help="session seconds per real second (default 1)",
    )
    pace.add_argument("--fast", action="store_true", help="as fast as the machine allows")

    info = sub.add_parser(
        "info",
        help="what a recording holds, and whether it was closed cleanly",
        description=(
            "Athletes, sensors, duration, samples and packets per sensor, gaps and lost "
            "packets, counts of reps and alerts, and whether the file was closed cleanly or "
            "recovered after a crash."
        ),
    )
    info.add_argument("file", metavar="FILE", help="a .mcap recording")
    info.add_argument("--json", action="store_true", help="one JSON object instead of text")

    exp = sub.add_parser(
        "export",
        help="CSV files of a recording's samples, reps and alerts",
        description=(
            "Write one CSV per sensor (t_s; acc m/s²; gyr rad/s; quat_w..z where the sensor "
            "reports an orientation; clipped and interpolated flags 0/1) plus reps.csv and "
            "alerts.csv, into DIR."
        ),
    )
    exp.add_argument("file", metavar="FILE", help="a .mcap recording")
    exp.add_argument("--csv", required=True, type=Path, metavar="DIR", help="output folder")

    scan = sub.add_parser(
        "scan",
        help="list the supported sensors in range",
        description=(
            "Scan for MetaMotion, Movella DOT and WitMotion sensors and list family, name, "
            "address and signal strength, strongest first."
        ),
    )
    scan.add_argument(
        "--timeout", type=_positive_float, default=5.0, metavar="S", help="seconds (default 5)"
    )
    scan.add_argument("--json", action="store_true", help="one JSON object per sensor")
    scan.add_argument(
        "--simulated", action="store_true", help="scan the demo's emulated sensors instead"
    )

    bridge = sub.add_parser("bridge", help="the wire formats, for debugging firmware")
    bridge_sub = bridge.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    bridge_sub.required = True
    dec = bridge_sub.add_parser(
        "decode",
        help="decode notifications given as hex",
        description=(
            "Decode BLE notifications (hex, one argument each) of a sensor family and print "
            "one JSON object per sample in SI units: acc m/s², gyr rad/s, quat [w,x,y,z], "
            "t_device s. WitMotion arguments are one byte stream (frames may be split)."
        ),
    )
    dec.add_argument("--family", required=True, choices=("metawear", "dot", "witmotion"))
    dec.add_argument("--chip", default="bmi160", choices=("bmi160", "bmi270"), help="MetaMotion")
    dec.add_argument(
        "--acc-range", type=int, default=16, choices=(2, 4, 8, 16), metavar="G", help="±g"
    )
    dec.add_argument(
        "--gyro-range",
        type=int,
        default=2000,
        choices=(125, 250, 500, 1000, 2000),
        metavar="DPS",
        help="±°/s",
    )
    dec.add_argument(
        "--mode", type=int, default=21, choices=(2, 3, 20, 21), help="DOT payload mode"
    )
    dec.add_argument("hex", nargs="+", metavar="HEX", help="a notification, e.g. 03041000f0ff0008")

    imp = sub.add_parser("import", help="turn other tools' files into a recording")
    imp_sub = imp.add_subparsers(dest="source", metavar="SOURCE", parser_class=_Parser)
    imp_sub.required = True
    mb = imp_sub.add_parser(
        "metabase",
        help="MbientLab MetaBase CSV exports",
        description=(
            "Import one sensor's MetaBase CSVs (an accelerometer and a gyroscope file, "
            "optionally a quaternion file; 'epoc' and 'epoch' header spellings; any rates) "
            "into a recording that replays like any other."
        ),
    )
    mb.add_argument("files", nargs="+", metavar="FILE", help="MetaBase .csv files of one sensor")
    mb.add_argument("--athlete", required=True, metavar="NAME")
    mb.add_argument("--placement", required=True, choices=("upper", "sacrum", "wrist"))
    mb.add_argument("--exercise", choices=("deadlift", "squat", "ohp", "jump"))
    mb.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.mcap")
    return parser


def _add_record_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--record",
        type=Path,
        metavar="PATH",
        help="record the session here (default: recordings/<UTC date-time>_<session>.mcap)",
    )
    group.add_argument("--no-record", action="store_true", help="do not record the session")


def _cmd_demo(args: argparse.Namespace) -> int:
    from liftguard.console import ConsoleSink
    from liftguard.demo import DemoOptions, run_demo_sync
    from liftguard.recording import default_recording_path

    families = ("metawear", "dot", "witmotion") if args.family == "mixed" else (args.family,)
    program = None if args.program == "deadlift" else _load_program(args.program)
    duration = args.duration if args.duration is not None else (120.0 if program is None else None)
    opts = DemoOptions(
        athletes=args.athletes,
        duration=duration,
        speed=args.speed,
        seed=args.seed,
        families=families,
        program=program,
    )
    record = None if args.no_record else (args.record or default_recording_path("demo"))
    run_demo_sync(opts, ConsoleSink(json=args.json), record=record)
    if record is not None and not args.json:
        print(f"recorded to {record}", file=sys.stderr)
    return 0


def _load_program(spec: str) -> Any:
    import tomllib

    from liftguard.errors import ConfigError
    from liftguard.sim import Program

    if spec == "liftmor":
        return Program.liftmor()
    try:
        with open(spec, "rb") as f:
            doc = tomllib.load(f)
        items = [(str(e["name"]), int(e["sets"]), int(e["reps"])) for e in doc["exercise"]]
    except FileNotFoundError:
        raise ConfigError(f"{spec}: no such program file (or use 'liftmor')") from None
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{spec}: a program is [[exercise]] tables with name, sets and reps ({exc})"
        ) from None
    return Program.from_list(items)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import math

    from liftguard.demo import DemoOptions, run_demo_sync
    from liftguard.errors import ConfigError

    program = _load_program(args.program)
    families = ("metawear", "dot", "witmotion") if args.family == "mixed" else (args.family,)
    jobs: list[tuple[Path, int, int | None]]
    if args.output is not None:
        jobs = [(args.output, args.seed, None)]
    else:
        try:
            args.dataset.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {args.dataset}: {exc.strerror}") from None
        jobs = [
            (args.dataset / f"session_{args.seed + k:05d}.mcap", args.seed + k, k)
            for k in range(args.count)
        ]
    for n, (path, seed, k) in enumerate(jobs, 1):
        names = (
            None
            if k is None
            else [f"sim{seed:05d}{chr(ord('a') + i)}" for i in range(args.athletes)]
        )
        opts = DemoOptions(
            athletes=args.athletes,
            duration=None if args.minutes is None else args.minutes * 60.0,
            speed=math.inf,
            seed=seed,
            families=families,
            program=program,
            names=names,
            truth_hz=100.0,
            session_name="simulated",
        )
        if len(jobs) > 1:
            done = "#" * (30 * (n - 1) // len(jobs))
            print(f"\r[{done:<30}] {n - 1}/{len(jobs)} sessions", end="", file=sys.stderr)
        run_demo_sync(opts, lambda _e: None, record=path)
        if len(jobs) == 1:
            print(path)
    if len(jobs) > 1:
        print(f"\r[{'#' * 30}] {len(jobs)}/{len(jobs)} sessions", file=sys.stderr)
        print(args.dataset)
    return 0


def _cmd_live(args: argparse.Namespace) -> int:
    import asyncio

    from liftguard.config import load_config
    from liftguard.console import ConsoleSink
    from liftguard.live import LiveOptions, run_live
    from liftguard.recording import default_recording_path

    config = load_config(args.config)
    record = None if args.no_record else (args.record or default_recording_path(config.name))
    opts = LiveOptions(duration=args.duration, scan_timeout=args.scan_timeout)
    asyncio.run(
        run_live(config, ConsoleSink(json=args.json), opts=opts, record=record, commands=sys.stdin)
    )
    if record is not None and not args.json:
        print(f"recorded to {record}", file=sys.stderr)
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from liftguard.console import ConsoleSink
    from liftguard.recording import read_recording, replay

    rec = read_recording(args.file)
    for problem in rec.problems:
        print(f"liftguard replay: {args.file}: {problem}", file=sys.stderr)
    replay(rec, ConsoleSink(json=args.json), speed=math.inf if args.fast else args.speed)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from liftguard.recording import read_recording
    from liftguard.recording.export import export_csv

    for path in export_csv(read_recording(args.file), args.csv):
        print(path)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from liftguard.recording.metabase import import_metabase

    out = import_metabase(
        args.files,
        athlete=args.athlete,
        placement=args.placement,
        out=args.output,
        exercise=args.exercise,
    )
    print(out)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    import asyncio

    from liftguard.sensors.scan import scan_sensors, scan_simulated

    found = asyncio.run(
        scan_simulated(min(args.timeout, 2.0)) if args.simulated else scan_sensors(args.timeout)
    )
    for f in found:
        if args.json:
            print(json.dumps(f.to_json()))
        else:
            print(f"{f.family:<10} {f.name:<16} {f.address}  {f.rssi:4d} dBm")
    if not found and not args.json:
        print("no supported sensors found (charged, awake, not connected elsewhere?)")
    return 0


def _cmd_bridge(args: argparse.Namespace) -> int:
    from liftguard.firmware_bridge.bridge import decode_hex

    samples = decode_hex(
        args.family,
        args.hex,
        chip=args.chip,
        acc_range_g=args.acc_range,
        gyro_range_dps=args.gyro_range,
        mode=args.mode,
    )
    for sample in samples:
        print(json.dumps(sample))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from liftguard.recording import read_recording
    from liftguard.recording.info import format_info, inspect_recording

    info = inspect_recording(read_recording(args.file))
    if args.json:
        print(json.dumps(info.to_json()))
    else:
        print(format_info(info))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``liftguard`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "simulate":
            return _cmd_simulate(args)
        if args.command == "live":
            return _cmd_live(args)
        if args.command == "replay":
            return _cmd_replay(args)
        if args.command == "info":
            return _cmd_info(args)
        if args.command == "scan":
            return _cmd_scan(args)
        if args.command == "bridge":
            return _cmd_bridge(args)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "import":
            return _cmd_import(args)
    except LiftGuardError as exc:
        print(f"liftguard {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("liftguard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
