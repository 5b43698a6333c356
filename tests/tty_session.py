#!/usr/bin/env python3
"""A scripted session on mmk's console terminal (docs/terminal.md).

    python3 tests/tty_session.py [--build build] [--runs N] [--keep]

boots with tests/user/test_tty_echo.c as init (the program is added to a
copy of the initrd), COM1 on a socket (tools/qemu.py's Interactive), and
plays a user at the terminal, expect-style: it types on COM1 and presses
keys of the PS/2 keyboard (QEMU's monitor), then checks what the line
discipline echoed and what the program's read() returned.  Cases:

  typed_line       "hello" + Enter: echoed with CR LF, read as "hello\\n"
  erase, erase_ctrl_h, kill, werase
                   DEL and ^H erase a character, ^U the line, ^W a word:
                   the echo rubs them out, the read never sees them
  keyboard         the same line typed on the PS/2 keyboard, with Shift
  raw_mode         no echo, each byte read at once (VMIN 1); an arrow key
                   arrives as ESC [ A
  vtime_timeout    VMIN 0, VTIME 5: the read returns 0 after half a second
  sigint           ^C: echoed as ^C, the typed line flushed, SIGINT reaches
                   the program's handler (its read then says EINTR; if the
                   kernel cannot run handlers: the child is killed by
                   signal 2 and init goes on)
  overflow         5000 bytes without a newline: the line keeps 4095, the
                   rest rings the bell, Enter still ends it
  eof              ^D on an empty line: read returns 0, the program ends
  com2_unchanged   COM2 (the program's stdout) has the same lines, with
                   no CR added

Each case prints "ok - tty/NAME" or "not ok - tty/NAME: why"; the run ends
with "N passed, N failed" and exits 1 on any failure.  --runs N repeats
the whole session (to look for flakes); --keep keeps the work directory.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import qemu  # noqa: E402

PROGRAM = "test_tty_echo"


class Cases:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, name, why=""):
        if ok:
            self.passed += 1
            print("ok - tty/%s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - tty/%s: %s" % (name, why), flush=True)


def image(build, work):
    """A copy of the image whose init is the echo program."""
    with open(os.path.join(build, "user", PROGRAM), "rb") as f:
        prog = f.read()
    with open(os.path.join(build, "initrd.cpio"), "rb") as f:
        initrd = qemu.initrd_with(f.read(), "bin/" + PROGRAM, prog)
    initrd_path = os.path.join(work, "initrd.cpio")
    with open(initrd_path, "wb") as f:
        f.write(initrd)
    return qemu.image_with_cmdline(os.path.join(build, "esp.img"),
                                   os.path.join(work, "esp.img"), "init=/bin/" + PROGRAM,
                                   replace={"::/boot/initrd.cpio": initrd_path})


def line_case(c, s, name, typed, echo, got):
    """Type `typed`; the echo must contain `echo`, then the program must
    report `got`."""
    try:
        s.send(typed)
        before = s.expect("got " + got + "\r\n", timeout=20)
        c.check(echo.encode() in before, name, "echo %r lacks %r" % (before, echo))
    except TimeoutError as e:
        c.check(False, name, str(e).splitlines()[0])


def session(build, work, c):
    img = image(build, work)
    s = qemu.Interactive(img, mem="256M", workdir=os.path.join(work, "qemu"))
    try:
        s.expect("tty_echo: ready", timeout=180)
        line_case(c, s, "typed_line", b"hello\r", "hello\r\n", "6: hello\\n")
        line_case(c, s, "erase", b"abx\x7fc\r", "abx\b \bc\r\n", "4: abc\\n")
        line_case(c, s, "erase_ctrl_h", b"ab\x08c\r", "ab\b \bc", "3: ac\\n")
        line_case(c, s, "kill", b"junk\x15ok\r", "junk\b \b\b \b\b \b\b \bok", "3: ok\\n")
        line_case(c, s, "werase", b"one two\x17three\r", "one two\b \b\b \b\b \bthree",
                  "10: one three\\n")

        # The PS/2 keyboard: h, i, Shift+1, Enter.
        try:
            s.sendkey("h", "i", "shift-1", "ret")
            before = s.expect("got 4: hi!\\n\r\n", timeout=20)
            c.check(b"hi!\r\n" in before, "keyboard", "echo %r" % before)
        except TimeoutError as e:
            c.check(False, "keyboard", str(e).splitlines()[0])

        try:
            s.send(b"raw\r")
            s.expect("tty_echo: raw\r\n", timeout=20)
            s.send(b"x")
            before = s.expect("byte 78\r\n", timeout=20)
            ok = b"x" not in before                     # ECHO is off
            s.sendkey("up")                             # ESC [ A
            s.expect("byte 1b\r\n", timeout=20)
            s.expect("byte 5b\r\n", timeout=20)
            s.expect("byte 41\r\n", timeout=20)
            s.send(b"q")
            s.expect("tty_echo: cooked\r\n", timeout=20)
            c.check(ok, "raw_mode", "x was echoed: %r" % before)
        except TimeoutError as e:
            c.check(False, "raw_mode", str(e).splitlines()[0])

        try:
            s.send(b"timeout\r")
            s.expect("got 8: timeout\\n\r\n", timeout=20)
            t0 = time.time()
            s.expect("tty_echo: timeout read 0\r\n", timeout=20)
            dt = time.time() - t0
            c.check(0.3 < dt < 10, "vtime_timeout", "returned after %.2f s" % dt)
        except TimeoutError as e:
            c.check(False, "vtime_timeout", str(e).splitlines()[0])

        handlers = True
        try:
            # A line first, so that the program is back in read() when ^C
            # comes (it then says EINTR; a ^C between two reads runs the
            # handler only, which is fine too).
            s.send(b"sync\r")
            s.expect("got 5: sync\\n\r\n", timeout=20)
            s.settle(1.0)
            s.send(b"partial\x03")
            before = s.expect("tty_echo: ", timeout=20)
            rest = s.expect("\r\n", timeout=20)
            if rest.startswith(b"child killed by signal 2"):
                handlers = False
                c.check(b"partial^C" in before, "sigint", "echo %r" % before)
                s.expect("init: exited with status 0", timeout=20)
            else:
                s.send(b"after\r")
                between = s.expect("got 6: after\\n\r\n", timeout=20)
                print("# SIGINT %s" % ("interrupted read(): EINTR" if b"read: EINTR" in between
                                       else "came between two reads"))
                c.check(rest == b"SIGINT" and b"partial^C" in before, "sigint",
                        "echo %r, then %r" % (before, rest))
        except TimeoutError as e:
            c.check(False, "sigint", str(e).splitlines()[0])
            handlers = False
        if not handlers:
            print("# SIGINT killed the program: no handlers yet; the rest is skipped")
            return s.out()

        try:
            s.send(b"a" * 5000)
            s.send(b"\r")
            before = s.expect("got 4096: " + "a" * 4095 + "\\n\r\n", timeout=60)
            bells = before.count(b"\a")
            c.check(bells == 5000 - 4095, "overflow", "%d bells" % bells)
        except TimeoutError as e:
            c.check(False, "overflow", str(e).splitlines()[0][:200])

        try:
            s.send(b"\x04")
            s.expect("got 0: \r\n", timeout=20)
            s.expect("tty_echo: child exited 0", timeout=20)
            s.expect("init: exited with status 0", timeout=20)
            c.check(True, "eof")
        except TimeoutError as e:
            c.check(False, "eof", str(e).splitlines()[0])
        s.settle(0.5)
        return s.out()
    except TimeoutError as e:
        c.check(False, "boot", str(e))
        return ""
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    c = Cases()
    for run in range(a.runs):
        work = tempfile.mkdtemp(prefix="mmk-tty-session-")
        t0 = time.time()
        try:
            out = session(a.build, work, c)
            c.check("got 6: hello\\n\n" in out and "\r" not in out, "com2_unchanged",
                    "COM2 said %r" % out[:300])
        finally:
            if a.keep:
                print("# work directory: %s" % work)
            else:
                shutil.rmtree(work, ignore_errors=True)
        print("# run %d: %.1f s" % (run + 1, time.time() - t0), flush=True)
    print("%d passed, %d failed" % (c.passed, c.failed))
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
