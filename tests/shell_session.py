#!/usr/bin/env python3
"""A scripted session with busybox's shell on mmk's console (docs/terminal.md).

    python3 tests/shell_session.py [--build build] [--runs N] [--keep]

boots the image as it is (`make run`'s boot: init with no command prints
its banner and starts /bin/sh as a login shell), with COM1 on a socket
(tools/qemu.py's Interactive), waits for the prompt and plays a user at
the terminal, expect-style.  Every step types a command and checks what
the terminal shows before the next prompt:

  boot              the banner and the prompt
  edit_backspace, edit_ctrl_u, edit_ctrl_w
                    the shell's line editor (raw mode): DEL, ^U, ^W
  read_cooked       `read` through the kernel's line discipline (cooked
                    mode): ^U, DEL and ^W erase, the echo rubs them out
  ctrl_c_sleep, ctrl_c_loop
                    ^C ends `sleep 100`, then a busy `while :; do :; done`
                    run by the shell itself; the prompt returns, $? is 130
  pipes             seq 100 | grep 7 | wc -l
  redirections      >, >>, < and 2> with files in /tmp
  subshell, command_substitution, here_document
  background_jobs   `sleep 1 & wait`, `jobs`, kill %1
  ctrl_z_fg         ^Z stops `sleep 100`, `jobs` lists it, fg and ^C end it
  buddyinfo, free   /proc/buddyinfo and free have their shape
  sysctl            /proc/sys/vm written by the shell's redirections:
                    user_zone set and read back, compact_memory takes 1
                    and refuses 2; /proc/vmstat's migration lines
  test_program      /bin/test_cow passes
  program_32bit     pagetable32 prints its page directory and tables
  busybox32         busybox32 sh -c 'echo from 32', on i386 page tables
  exit, ctrl_d      the shell leaves; init starts a new one, which answers
  poweroff          `poweroff -f` powers the machine off through ACPI: QEMU exits 0

A line the kernel logs on COM1 in the middle of a command's output (a
child killed by a fault, a system call it does not have) is left out of
the comparison.  Nothing waits for a fixed time: every key waits for what
the terminal shows.  ^C and ^Z come once the line discipline echoes a '_'
typed after the command (the shell has left its raw line editor), and in
ctrl_z_fg once the job itself has printed a line (it holds the terminal).
A ^C to `sleep 100` that still reaches the shell (the job's group not yet
in the foreground) is typed again after 5 s without a prompt; a note line
says when that happened (docs/shell.md).

Each step prints "ok - shell/NAME" or "not ok - shell/NAME: why"; the run
ends with "N passed, N failed" and exits 1 on any failure.  --runs N
repeats the whole session (to look for flakes); --keep keeps the work
directory (QEMU's files).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import qemu  # noqa: E402

MEM = "256M"
# init's PS1 'mmk:\w# ' at the start of a line: the line editor also
# redraws it after a carriage return (^U), which is not the next prompt.
PROMPT_RE = re.compile(rb"\nmmk:[^\r\n#]*# ")
PS2 = b"\n> "
# The shell's line editor moves the cursor and asks where it is (ESC [ 6 n).
ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
# Kernel messages that may land among a command's output on COM1.
KLOG_RE = re.compile(r"^(pid \d+ \([^)]*\): killed by |syscall(32)?: )")


class Cases:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, name, why=""):
        if ok:
            self.passed += 1
            print("ok - shell/%s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - shell/%s: %s" % (name, why), flush=True)


def text_lines(raw):
    """Bytes the terminal showed, as lines: escape sequences removed, CRs
    dropped, kernel log lines left out."""
    text = ANSI_RE.sub(b"", raw).decode("utf-8", "replace").replace("\r", "")
    return [ln for ln in text.split("\n") if not KLOG_RE.match(ln)]


class Shell:
    """The conversation: `s` is a qemu.Interactive."""

    def __init__(self, s):
        self.s = s
        self.syncs = 0

    def expect_re(self, pattern, timeout):
        """Wait for `pattern` (compiled bytes regex) on COM1 after the last
        match; return what came before it."""
        s = self.s
        deadline = time.time() + timeout
        while True:
            m = pattern.search(s.log, s.pos)
            if m:
                before = s.log[s.pos:m.start()]
                s.pos = m.end()
                return before
            if time.time() > deadline or not s._pump():
                if pattern.search(s.log, s.pos):
                    continue
                raise TimeoutError("no %r on COM1; it said last:\n%s" % (
                    pattern.pattern, s.log[-600:].decode("utf-8", "replace")))

    def prompt(self, timeout=30):
        return self.expect_re(PROMPT_RE, timeout)

    def run(self, cmd, more=(), timeout=30):
        """Type `cmd` and Enter (then each line of `more` after the
        continuation prompt); return the output lines up to the next
        prompt, without the echo of what was typed."""
        self.s.send(cmd.encode() + b"\r")
        for line in more:
            self.s.expect(PS2, timeout=timeout)
            self.s.send(line.encode() + b"\r")
        raw = self.prompt(timeout)
        nl = raw.find(b"\n")
        lines = text_lines(raw[nl + 1:] if nl >= 0 else b"")
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    def wait_cooked(self, timeout=30):
        """Once the shell has taken a command line, wait until it has put
        the terminal back in cooked mode (its line editor runs it raw,
        without ISIG): type '_' until the line discipline echoes it.  A '_'
        typed too early waits unread, and the next ^C or ^Z flushes it."""
        deadline = time.time() + timeout
        while True:
            self.s.send(b"_")
            try:
                self.s.expect(b"_", timeout=0.5)
                return
            except TimeoutError:
                if time.time() > deadline:
                    raise

    def key_until(self, key, pattern, tries=3, wait=5.0):
        """Type `key` until `pattern` (a compiled regex) shows; return what
        came before it and the number of presses."""
        for n in range(1, tries + 1):
            self.s.send(key)
            try:
                return self.expect_re(pattern, wait), n
            except TimeoutError:
                if n == tries:
                    raise

    def sync(self):
        """Make sure the shell reads commands again, whatever stray input an
        interrupted program left: its output line comes before the prompt."""
        self.syncs += 1
        mark = "sync%d" % self.syncs
        self.s.send(("echo %s $?\r" % mark).encode())
        self.expect_re(re.compile(rb"\n" + mark.encode() + rb" \d+\r"), 30)
        status = int(re.search(rb" (\d+)\r$", self.s.log[:self.s.pos]).group(1))
        self.prompt()
        return status


def step(c, name, fn):
    """Run one step; a timeout or a failed assertion fails it."""
    try:
        why = fn()
        c.check(not why, name, why or "")
    except TimeoutError as e:
        c.check(False, name, str(e).splitlines()[0] + " | " + " / ".join(
            str(e).splitlines()[-3:]))


def expect_lines(got, want):
    return None if got == want else "got %r, wanted %r" % (got, want)


def interrupt(sh, command):
    """Type `command`, then ^C once the terminal is cooked again: the
    terminal must show ^C and the prompt must come back.  Returns $?.  A
    ^C that comes before the shell has made the program's group the
    terminal's foreground one reaches the shell instead, which goes on
    waiting: it is typed again after 5 s without a prompt (a note says so)."""
    sh.s.send(command.encode() + b"\r")
    sh.s.expect(b"\n", timeout=30)          # the shell took the line
    sh.wait_cooked()
    _, presses = sh.key_until(b"\x03", re.compile(rb"\^C\r?\n?" + PROMPT_RE.pattern))
    if presses > 1:
        print("# %s: ^C typed %d times" % (command, presses))
    return sh.sync()


def session(build, work, c, run_no):
    s = qemu.Interactive(os.path.join(build, "esp.img"), mem=MEM,
                         workdir=os.path.join(work, "qemu"))
    sh = Shell(s)
    t0 = time.time()
    try:
        try:
            before = s.expect(b"Welcome to mmk", timeout=180)
            banner = sh.prompt(timeout=60)
            print("# run %d: prompt after %.1f s" % (run_no, time.time() - t0), flush=True)
            missing = [w for w in ("cat /proc/buddyinfo", "pagetable32", "busybox32 sh",
                                   "Ctrl-C interrupts a program", "BusyBox v")
                       if w.encode() not in banner]
            c.check(b"init: starting /bin/init" in before and not missing, "boot",
                    "banner lacks %r" % missing)
        except TimeoutError as e:
            c.check(False, "boot", str(e))
            return

        step(c, "edit_backspace", lambda: expect_lines(sh.run("echo abx\x7fc"), ["abc"]))
        step(c, "edit_ctrl_u", lambda: expect_lines(sh.run("echo junk\x15echo ok"), ["ok"]))
        step(c, "edit_ctrl_w",
             lambda: expect_lines(sh.run("echo one two\x17three"), ["one three"]))

        def read_cooked():
            # "go" comes once the shell has put the terminal back in cooked
            # mode for `read`: only then are the keys edited by the kernel.
            s.send(b'echo go; read a b; echo "[$a] [$b]"\r')
            s.expect(b"\ngo\r\n", timeout=30)
            s.send(b"junk\x15one twx\x7fo\x17thrx\x08ee\r")
            raw = sh.prompt()
            lines = text_lines(raw)
            if lines[-2:] != ["[one] [three]", ""] and lines[-1:] != ["[one] [three]"]:
                return "got %r" % lines
            if b"junk\b \b\b \b\b \b\b \bone twx\b \bo\b \b\b \b\b \bthrx\b \bee" not in raw:
                return "echo %r" % raw
        step(c, "read_cooked", read_cooked)

        def ctrl_c(command):
            status = interrupt(sh, command)
            return None if status == 130 else "$? is %d, not 130" % status
        step(c, "ctrl_c_sleep", lambda: ctrl_c("sleep 100"))
        step(c, "ctrl_c_loop", lambda: ctrl_c("while :; do :; done"))

        step(c, "pipes", lambda: expect_lines(sh.run("seq 100 | grep 7 | wc -l"), ["19"]))

        def redirections():
            got = sh.run("echo one > /tmp/r; echo two >> /tmp/r; wc -l < /tmp/r; cat < /tmp/r")
            got += sh.run("ls /nonexistent 2> /tmp/e; echo status $?; cat /tmp/e")
            return expect_lines(got, ["2", "one", "two", "status 1",
                                      "ls: /nonexistent: No such file or directory"])
        step(c, "redirections", redirections)

        step(c, "subshell", lambda: expect_lines(
            sh.run("(cd /tmp; echo in $(pwd); exit 3); echo out $? $(pwd)"),
            ["in /tmp", "out 3 /"]))
        step(c, "command_substitution", lambda: expect_lines(
            sh.run('echo "[$(echo sub | tr a-z A-Z)]" $(( $(seq 10 | wc -l) * 2 )) `echo tick`'),
            ["[SUB] 20 tick"]))

        def here_document():
            got = sh.run("cat <<EOF", more=["sum $((1 + 2)) in $HOME", "EOF"])
            got += sh.run("cat <<'EOF' | wc -c", more=["$HOME", "EOF"])
            # the echo of the typed lines comes first: keep the output
            return expect_lines([g for g in got if not g.startswith("> ")],
                                ["sum 3 in /", "6"])
        step(c, "here_document", here_document)

        def background_jobs():
            got = sh.run("sleep 1 & wait; echo waited $?")
            if "waited 0" not in got:
                return "sleep 1 & wait: %r" % got
            got = sh.run("sleep 30 &")
            jobs = sh.run("jobs")
            if len(jobs) != 1 or not re.fullmatch(r"\[1\]\+\s+Running\s+sleep 30", jobs[0]):
                return "jobs said %r" % jobs
            got = sh.run("kill %1; wait %1; echo killed $?")
            if "killed 143" not in got:
                return "kill %%1: %r" % got
            jobs = sh.run("jobs")
            return None if jobs == [] else "jobs after kill: %r" % jobs
        step(c, "background_jobs", background_jobs)

        def ctrl_z_fg():
            # A job that speaks once it runs in the foreground: its subshell
            # takes the terminal before its first tick, and fg hands it
            # back before the job can tick again (typed earlier, a key
            # would reach the shell, which fg leaves stopped on ^C).
            job = "(while :; do echo tick; sleep 1; done)"
            sh.s.send(job.encode() + b"\r")
            sh.s.expect(b"\ntick\r\n", timeout=30)
            s.send(b"\x1a")
            stopped = text_lines(sh.prompt())
            if not any(re.search(r"\^Z\[1\]\+\s+Stopped\s+" + re.escape(job), ln)
                       for ln in stopped):
                return "after ^Z: %r" % stopped
            jobs = sh.run("jobs")
            if len(jobs) != 1 or not re.fullmatch(r"\[1\]\+\s+Stopped\s+" + re.escape(job),
                                                  jobs[0]):
                return "jobs said %r" % jobs
            sh.s.send(b"fg\r")
            sh.s.expect(b"\n" + job.encode() + b"\r\n", timeout=30)
            sh.s.expect(b"tick\r\n", timeout=30)
            s.send(b"\x03")
            sh.expect_re(re.compile(rb"\^C\r?\n?" + PROMPT_RE.pattern), 30)
            status = sh.sync()
            jobs = sh.run("jobs")
            if status != 130 or jobs:
                return "after fg and ^C: $? %d, jobs %r" % (status, jobs)

        step(c, "ctrl_z_fg", ctrl_z_fg)

        def buddyinfo():
            got = sh.run("cat /proc/buddyinfo")
            zones = []
            for ln in got:
                m = re.fullmatch(r"Node 0, zone\s+(\w+)((?:\s+\d+){11})", ln)
                if not m:
                    return "line %r" % ln
                zones.append(m.group(1))
            return None if zones[:2] == ["DMA", "DMA32"] else "zones %r" % zones
        step(c, "buddyinfo", buddyinfo)

        def free():
            got = sh.run("free")
            if len(got) < 3 or not re.fullmatch(
                    r"\s+total\s+used\s+free\s+shared\s+buff/cache\s+available", got[0]):
                return "got %r" % got
            mem = re.fullmatch(r"Mem:((?:\s+\d+){6})", got[1])
            swap = [ln for ln in got if ln.startswith("Swap:")]
            if not mem or swap != ["Swap:" + " " * 13 + "0           0           0"]:
                return "got %r" % got
            total, used, free_kb, shared, cache, avail = map(int, mem.group(1).split())
            if not (200 * 1024 < total <= 256 * 1024 and 0 < used < total and 0 < free_kb
                    and used + free_kb + cache == total and avail <= total):
                return "Mem: %r" % got[1]
        step(c, "free", free)

        def sysctl():
            vm = "/proc/sys/vm/"
            got = sh.run("cat %suser_zone" % vm)
            got += sh.run("echo DMA32 > %suser_zone" % vm)
            got += sh.run("cat %suser_zone" % vm)
            got += sh.run("echo Normal > %suser_zone; echo $?" % vm)
            got += sh.run("echo 1 > %scompact_memory; echo $?" % vm)
            got += sh.run("echo 2 2>&- > %scompact_memory; echo $?" % vm)
            got += sh.run("grep -c ^pgmigrate_ /proc/vmstat")
            return expect_lines(got, ["Normal", "DMA32", "0", "0", "1", "2"])
        step(c, "sysctl", sysctl)

        def test_program():
            got = sh.run("test_cow > /tmp/cow.out; echo status $?; tail -n 1 /tmp/cow.out",
                         timeout=120)
            if len(got) != 2 or got[0] != "status 0" or \
                    not re.fullmatch(r"\d+ passed, 0 failed", got[1]):
                return "got %r" % got
        step(c, "test_program", test_program)

        def program_32bit():
            got = sh.run("pagetable32")
            if not got or not got[0].startswith("pagetable: a 32-bit process"):
                return "got %r" % got[:3]
            pte = re.compile(r"  PTE\s+\d+\s+[0-9a-f]{8}\s+frame [0-9a-f]+\s+P ")
            ptes = [ln for ln in got if pte.match(ln)]
            mirror = [ln for ln in got if re.match(r"PDE 1023\s+ffc00000\s+mirror", ln)]
            if len(ptes) < 3 or not mirror:
                return "%d PTE lines, mirror %r" % (len(ptes), mirror)
        step(c, "program_32bit", program_32bit)

        step(c, "busybox32", lambda: expect_lines(
            sh.run("busybox32 sh -c 'echo from 32; "
                   "grep -q mirror /proc/self/pagetable32 && echo on i386 tables'"),
            ["from 32", "on i386 tables"]))

        ended = re.compile(rb"init: the shell ended \(exit \d+\); starting a new one")

        def exit_case():
            s.send(b"exit\r")      # with the last command's status
            sh.expect_re(ended, 30)
            s.expect(b"Welcome to mmk", timeout=30)
            sh.prompt()
            return expect_lines(sh.run("echo again"), ["again"])
        step(c, "exit", exit_case)

        def ctrl_d():
            s.send(b"\x04")
            sh.expect_re(ended, 30)
            sh.prompt()
            return expect_lines(sh.run("echo third"), ["third"])
        step(c, "ctrl_d", ctrl_d)

        # Last: busybox's poweroff -f calls reboot(2), which powers off
        # through ACPI S5 (docs/boot.md): QEMU exits by itself, with 0.
        def poweroff():
            s.send(b"poweroff -f\r")
            s.expect(b"ACPI: powering off", timeout=30)
            try:
                code = s.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                return "QEMU still runs 30 s after the power-off line"
            return None if code == 0 else "QEMU exited with %s" % code
        step(c, "poweroff", poweroff)
    finally:
        s.close()
        with open(os.path.join(work, "com1.log"), "wb") as f:
            f.write(s.log)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    c = Cases()
    for run in range(a.runs):
        work = tempfile.mkdtemp(prefix="mmk-shell-session-")
        t0 = time.time()
        try:
            session(a.build, work, c, run + 1)
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
