"""Ctrl-C at a known point of a run: a `paxcheck` subprocess is sent
SIGINT once a line of its stderr says the stage under test has begun, so
the test interrupts that stage and not start-up or the end.

The child gets SIGINT's default action back: a shell starts a background
job (`bash .ci/run &`, `nohup`) with SIGINT ignored, its children inherit
that, and an ignored Ctrl-C would leave every interrupt test to time out."""
from __future__ import annotations

import signal
import subprocess
import sys


def spawn(args: list[str]) -> subprocess.Popen[str]:
    """`python -m paxcheck ARGS` with pipes, interruptible by SIGINT."""
    return subprocess.Popen([sys.executable, "-m", "paxcheck", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted(args: list[str], when: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run `python -m paxcheck ARGS`, interrupt it after the first stderr
    line containing `when`, and return its exit code, stdout and all of
    its stderr."""
    proc = spawn(args)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if when in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, "".join(seen) + err
