"""A private ``dbus-daemon`` for the BlueZ double: started in a temp dir, torn down with it.

bleak's BlueZ backend talks to the *system* bus, which belongs to the machine (and, in CI, may
not exist). Tests therefore start their own bus with a permissive policy, point
``DBUS_SYSTEM_BUS_ADDRESS`` at it, and put the double on it; nothing touches the host's buses.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["DBusDaemonMissingError", "PrivateBus", "start_private_bus"]

#: How to get the binary; said in every error so a developer or CI log knows the fix.
INSTALL_HINT = (
    "dbus-daemon is not installed: install it (Debian/Ubuntu: `apt-get install -y dbus-daemon`, "
    "older releases ship it in the `dbus` package)"
)

# Everyone may own any name and send anything: the bus lives in a private temp dir and only
# exists for one test run, so the system bus's policy (root-only org.bluez) would only get in
# the way. Limits are raised for the same reason: a notification stream is thousands of signals.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>liftguard-test</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="reply_timeout">300000</limit>
</busconfig>
"""


class DBusDaemonMissingError(FileNotFoundError):
    """``dbus-daemon`` is not on ``PATH``; the message says what to install."""


class PrivateBus:
    """A running private ``dbus-daemon``. Use :func:`start_private_bus` to make one.

    ``address`` is the D-Bus address clients connect to (``unix:path=…,guid=…``); put it in
    ``DBUS_SYSTEM_BUS_ADDRESS`` for bleak. :meth:`stop` (or leaving the ``with`` block) kills
    the daemon and removes the temp dir.
    """

    def __init__(self, process: subprocess.Popen[bytes], address: str, directory: Path) -> None:
        self.process = process
        self.address = address
        self.directory = directory

    @property
    def running(self) -> bool:
        """True while the daemon process is alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the daemon (SIGTERM, then SIGKILL after ``timeout`` s) and clean up."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrivateBus:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def find_dbus_daemon() -> str:
    """Path of the ``dbus-daemon`` binary.

    Raises:
        DBusDaemonMissingError: it is not installed (the message says how to install it).
    """
    path = shutil.which("dbus-daemon")
    if path is None:
        raise DBusDaemonMissingError(INSTALL_HINT)
    return path


def start_private_bus(timeout: float = 10.0) -> PrivateBus:
    """Start a private, permissive ``dbus-daemon`` and wait until it accepts connections.

    Raises:
        DBusDaemonMissingError: ``dbus-daemon`` is not installed.
        RuntimeError: the daemon exited or did not report its address within ``timeout`` s.
    """
    binary = find_dbus_daemon()
    directory = Path(tempfile.mkdtemp(prefix="liftguard-dbus-"))
    config = directory / "bus.conf"
    config.write_text(_CONFIG.format(socket=directory / "bus"), encoding="utf-8")
    # The daemon writes its address to stdout once it is listening, which is the readiness
    # signal: no polling for the socket file, no race with the first client.
    # Its stderr goes to a log beside the config: in a container it warns that it cannot raise
    # its fd limit, which is noise in a test run; start-up errors quote the log instead.
    log_path = directory / "dbus-daemon.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            # Keep a terminal's Ctrl-C to ourselves: the daemon is stopped in teardown.
            start_new_session=True,
        )
    try:
        address = _read_address(process, timeout)
    except RuntimeError as exc:
        if process.poll() is None:
            process.kill()
        process.wait()
        log = log_path.read_text(errors="replace").strip() if log_path.exists() else ""
        _kill(process, directory)
        raise RuntimeError(f"{exc}; dbus-daemon said: {log or '(nothing)'}") from None
    except BaseException:
        _kill(process, directory)
        raise
    return PrivateBus(process, address, directory)


def _kill(process: subprocess.Popen[bytes], directory: Path) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
    shutil.rmtree(directory, ignore_errors=True)


def _read_address(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"dbus-daemon did not report its address within {timeout:g} s")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"dbus-daemon exited at start-up (exit code {process.wait()})")
        buffer += chunk
    return buffer.split(b"\n", 1)[0].decode().strip()
