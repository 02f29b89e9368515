#!/usr/bin/env python3
"""Runs a command in a process group of its own, tied to the process that started it.

    tied.py --parent PID CMD [ARG...]

The command's whole group is stopped (TERM, then KILL after 10 s) when this gets TERM,
INT or HUP, when the command ends (what it left running goes with it), and when PID (the
script that started this; it must be this process's parent) dies, even by SIGKILL, through
Linux's parent-death signal. So no stand-in outlives a test run, however the run ends.
Exits with the command's status (128 + N for signal N).
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 10.0


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


def stop_group(pgid, status=None):
    """TERM the group whose leader is `pgid`, KILL it once the grace period is over, and
    reap the leader (unless its `status` is already known); returns the leader's status."""
    def reap(block):
        nonlocal status
        if status is None:
            pid, st = os.waitpid(pgid, 0 if block else os.WNOHANG)
            if pid:
                status = st

    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        reap(True)
        return status
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        reap(False)  # a dead leader stays in its group until reaped
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return status
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap(True)
    return status


def main(argv):
    if len(argv) < 4 or argv[1] != "--parent":
        print(__doc__.strip(), file=sys.stderr)
        return 2
    parent = int(argv[2])
    command = argv[3:]
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        print("tied.py: prctl(PR_SET_PDEATHSIG) failed", file=sys.stderr)
        return 1
    if os.getppid() != parent:
        return 1  # the parent died before the tie was made

    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as e:
            print(f"tied.py: cannot run {command[0]}: {e}", file=sys.stderr)
            os._exit(127)
    try:
        os.setpgid(child, child)
    except OSError:
        pass  # the child did it first (or has already gone)

    try:
        _, status = os.waitpid(child, 0)
    except Stop:
        # Ignore further signals while the group is being stopped.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        status = stop_group(child)
    else:
        # The command ended by itself: nothing it started may stay behind.
        stop_group(child, status)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code

if __name__ == "__main__":
    sys.exit(main(sys.argv))
