#!/usr/bin/env python3
"""pty-driver.py SCENARIO -- CMD... : plays an officer at a terminal against the real
ctlsign, with SoftHSM tokens "inserted" and "removed" by moving their directories.

Scenario lines (one step each, '#' comments):
  remove LABEL / insert LABEL   move the token's directory out of / into the token dir
  start ARGS...                 start CMD ARGS... on a new pseudo-terminal
  expect TEXT                   wait (30 s at most) until TEXT appears in the output
  send TEXT                     type TEXT and Enter
  exit CODE                     wait for CMD to end; its exit code must be CODE
  absent TEXT                   TEXT must appear nowhere in the output so far (a PIN
                                that must not have been echoed)
  run SHELL-COMMAND             run it (sh -c) and wait; it must exit 0 (e.g. the vcard
                                tests insert and pull cards with scripts/vcard-stack)
  ctrl-c                        type Ctrl-C (the terminal sends SIGINT to the program)
  signal NAME                   send signal NAME (TERM, INT, HUP...) to the program
  echo on|off                   the terminal's echo must be on (off): after a no-echo
                                prompt ended, the program must have switched it back on
The exit step waits 120 s at most for the program to end.
Environment (only for remove/insert): TOKENDIR (SoftHSM token directory), PARK (where
removed tokens wait), TOKEN_<LABEL>=<directory name of that token>."""
import os
import pty
import select
import shutil
import signal
import subprocess
import termios
import sys
import time

scenario, cmd = sys.argv[1], sys.argv[3:]
pid = fd = None
seen = b""      # all output so far
pos = 0         # where the next expect starts looking


def fail(msg):
    sys.stderr.write("pty-driver: %s\n--- output so far:\n%s\n" % (msg, seen.decode(errors="replace")))
    if pid:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    sys.exit(1)


def pump(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    seen += data
    return True


def move(label, inserting):
    name = os.environ["TOKEN_" + label]
    tokendir, park = os.environ["TOKENDIR"], os.environ["PARK"]
    src, dst = (park, tokendir) if inserting else (tokendir, park)
    shutil.move(os.path.join(src, name), os.path.join(dst, name))


for lineno, line in enumerate(open(scenario), 1):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    op, _, arg = line.partition(" ")
    if op == "remove":
        move(arg, False)
    elif op == "insert":
        move(arg, True)
    elif op == "absent":
        if arg.encode() in seen:
            fail("%s:%d: %r appeared in the output" % (scenario, lineno, arg))
    elif op == "run":
        if subprocess.run(arg, shell=True).returncode != 0:
            fail("%s:%d: %r failed" % (scenario, lineno, arg))
    elif op == "start":
        argv = cmd + arg.split()
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(argv[0], argv)
    elif op == "expect":
        deadline = time.time() + 30
        while True:
            i = seen.find(arg.encode(), pos)
            if i >= 0:
                pos = i + len(arg)
                break
            if time.time() > deadline:
                fail("%s:%d: timed out waiting for %r" % (scenario, lineno, arg))
            if not pump(0.2):
                if seen.find(arg.encode(), pos) < 0:
                    fail("%s:%d: program ended before %r" % (scenario, lineno, arg))
    elif op == "send":
        os.write(fd, (arg + "\n").encode())
    elif op == "ctrl-c":
        os.write(fd, b"\x03")
    elif op == "signal":
        os.kill(pid, getattr(signal, "SIG" + arg))
    elif op == "echo":
        on = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
        if on != (arg == "on"):
            fail("%s:%d: the terminal's echo is %s" % (scenario, lineno, "on" if on else "off"))
    elif op == "exit":
        deadline = time.time() + 120
        while pump(0.2):
            if time.time() > deadline:
                fail("%s:%d: the program did not end within 120 s" % (scenario, lineno))
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != int(arg):
            fail("%s:%d: exit code %d, expected %s" % (scenario, lineno, code, arg))
        pid = None
    else:
        fail("%s:%d: unknown step %r" % (scenario, lineno, op))
print("pty-driver: %s passed" % os.path.basename(scenario))
