#!/usr/bin/env python3
"""The host oracle of the user programs, and the comparison with mmk.

    python3 tests/user/run_host.py [--build build] [NAME...]

runs every user test program (the lines of build/initrd-root/etc/user-tests,
or the NAMEs) natively on the host, one after the other, and keeps what
each printed and how it ended.  A line is "[NAME=]PROGRAM [ARG...]" (the
name defaults to the program's).  A program ending in 32 is the i386 build
(build/user32/BASE, /bin/BASE32 on mmk), run natively too; busybox and
busybox32 run from the initrd's copies:

    build/user-oracle/NAME.out      stdout and stderr, as one stream
    build/user-oracle/NAME.status   "exit N" or "signal S"

It prints "ok - user-host/NAME" when the program exited 0 and its own
summary line says "N passed, 0 failed" with as many ok lines as N, and
ends with "N passed, N failed" (exit status 1 on any failure).

tests/run_all.py imports this file for the other half: split_runs() cuts
the output of `init test` on mmk (COM2) at its marker lines, and judge()
compares one program's piece with its oracle (docs/user-programs.md).

The host runs a program as mmk's init does: argv[0] is the program's path,
the environment is init's (HOME=/ TERM=linux), no stdin, the working
directory is /.  Only the arguments differ where the host needs other
paths (HOST_ARGS); the programs' own defaults keep the host safe (no
fork bomb, no touching half of a big shared machine).
"""
import argparse
import difflib
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Arguments on the host, by program; {build} is the build directory.
HOST_ARGS = {
    "test_badelf": ["{build}/user/badelf"],
}
# Otherwise a program gets the arguments of its /etc/user-tests line, with
# these initrd paths turned into the source files they were copied from.
HOST_PATHS = {
    "/etc/busybox-tests/": os.path.join(os.path.dirname(HERE), "busybox") + "/",
}
HOST_ENV = {"HOME": "/", "TERM": "linux"}
TIMEOUT = 300

# What `init test` prints around each program (tests/user/init.c).
BEGIN_RE = re.compile(r"^=== begin (\S+)$")
END_RE = re.compile(r"^=== end (\S+): (exit|signal) (-?\d+), MemFree (-?\d+) kB -> (-?\d+) kB, "
                    r"slab objects (-?\d+) -> (-?\d+), slab pages (-?\d+) -> (-?\d+)$")
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$")
CHECK_RE = re.compile(r"^(ok|not ok) - \S+")

# Leak rule for one program run by `init test`: the free memory (MemFree
# plus the pages slab caches keep, which they give back only when memory is
# short) may end up at most LEAK_TOLERANCE_KB lower, and the count of active
# slab objects at most SLAB_TOLERANCE higher.  mmk keeps a few objects and
# pages per program file the first time it runs one (seen: 4 kmalloc-32
# objects and 4-8 kB per new program, none on a second run).
LEAK_TOLERANCE_KB = 64
SLAB_TOLERANCE = 8


def status_str(returncode):
    return "signal %d" % -returncode if returncode < 0 else "exit %d" % returncode


def normalise(text):
    """The lines compared with the oracle: "# ..." note lines dropped, and
    the " # SKIP ..." (or any " # ...") directive cut off ok lines."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("ok - ") and " # " in line:
            line = line[:line.index(" # ")]
        out.append(line)
    return out


def self_check(text):
    """Problems with a test program's own report (empty list when fine)."""
    lines = text.splitlines()
    checks = [ln for ln in lines if CHECK_RE.match(ln)]
    summary = [SUMMARY_RE.match(ln) for ln in lines]
    summary = [m for m in summary if m]
    if not summary:
        return ["no 'N passed, N failed' summary line"]
    passed, failed = int(summary[-1].group(1)), int(summary[-1].group(2))
    problems = []
    if failed:
        problems.append("%d check(s) failed: %s" % (failed, "; ".join(
            ln for ln in checks if ln.startswith("not ok"))[:600]))
    if passed + failed != len(checks):
        problems.append("the summary counts %d checks, the output has %d"
                        % (passed + failed, len(checks)))
    return problems


def is_test(name):
    return name.startswith("test_")


def parse_line(words):
    """One line of /etc/user-tests, split into words: "[NAME=]PROGRAM
    [ARG...]" (tests/user/init.c).  Returns (name, program, args); the name
    is the program's when the line gives none."""
    name, eq, prog = words[0].partition("=")
    if not eq:
        prog = name
    return name, prog, words[1:]


def program_lines(build):
    """The lines of /etc/user-tests as {name: (program, [args])}, in order."""
    path = os.path.join(build, "initrd-root", "etc", "user-tests")
    with open(path) as f:
        lines = [parse_line(ln.split()) for ln in f if ln.strip() and not ln.startswith("#")]
    return {name: (prog, args) for name, prog, args in lines}


def program_list(build):
    return list(program_lines(build))


def line_of(build, name):
    """(program, args) of the line called `name`, or (name, []) for a
    program that has no line."""
    try:
        return program_lines(build).get(name, (name, []))
    except OSError:
        return name, []


def host_args(build, name):
    """The arguments the host run gets (see HOST_ARGS and HOST_PATHS)."""
    if base_name(name) in HOST_ARGS:
        return [a.format(build=os.path.abspath(build)) for a in HOST_ARGS[base_name(name)]]
    out = []
    for a in line_of(build, name)[1]:
        for mmk_path, host_path in HOST_PATHS.items():
            if a.startswith(mmk_path):
                a = host_path + a[len(mmk_path):]
        out.append(a)
    return out


def program_path(build, name):
    """The binary behind a name of /etc/user-tests, found from its line's
    PROGRAM: build/user/PROGRAM, or for PROGRAM = BASE32 the i386 build of
    BASE, build/user32/BASE (the initrd's /bin/BASE32); a program that is
    not built here (busybox, busybox32) is run from the initrd's copy,
    build/initrd-root/bin/PROGRAM."""
    prog = line_of(build, name)[0]
    if prog.endswith("32"):
        path = os.path.join(build, "user32", prog[:-2])
    else:
        path = os.path.join(build, "user", prog)
    if not os.path.exists(path):
        path = os.path.join(build, "initrd-root", "bin", prog)
    return path


def base_name(name):
    return name[:-2] if name.endswith("32") else name


def default_signals():
    """In the child, before exec: SIGINT and SIGQUIT back to their default
    action, as init leaves them on mmk.  A test run started in the
    background of a shell inherits them ignored, and an ignored signal
    stays ignored across execve: busybox_signals would then see a shell
    survive its own SIGINT on the host only."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def run_native(build, name, outdir):
    """Run the program on the host (program_path); store NAME.out and
    NAME.status.  Returns (ok, why, detail)."""
    prog = os.path.abspath(program_path(build, name))
    args = host_args(build, name)
    try:
        p = subprocess.run([prog] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=HOST_ENV, cwd="/", timeout=TIMEOUT,
                           preexec_fn=default_signals)
        out, status = p.stdout, status_str(p.returncode)
    except subprocess.TimeoutExpired as e:
        out, status = e.stdout or b"", "timeout"
    except OSError as e:
        return False, "cannot run %s: %s" % (prog, e.strerror), ""
    with open(os.path.join(outdir, name + ".out"), "wb") as f:
        f.write(out)
    with open(os.path.join(outdir, name + ".status"), "w") as f:
        f.write(status + "\n")
    text = out.decode("utf-8", "replace")
    problems = [] if status == "exit 0" else ["ended with %s" % status]
    if is_test(name):
        problems += self_check(text)
    tail = "\n".join(text.splitlines()[-15:])
    return not problems, "; ".join(problems), tail if problems else ""


def split_runs(text):
    """Cut the output of `init test` into {name: run}; run is a dict with
    "out" (the program's own output), and from the end marker "status"
    ("exit N" / "signal S"), "memfree", "slab" and "slab_pages" (before,
    after) pairs; a run without its end marker has status None."""
    runs, cur, lines = {}, None, []
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        m = BEGIN_RE.match(bare)
        if m:
            cur, lines = m.group(1), []
            runs[cur] = {"out": "", "status": None}
            continue
        m = END_RE.match(bare)
        if m and cur == m.group(1):
            runs[cur].update(out="".join(lines), status="%s %s" % (m.group(2), m.group(3)),
                             memfree=(int(m.group(4)), int(m.group(5))),
                             slab=(int(m.group(6)), int(m.group(7))),
                             slab_pages=(int(m.group(8)), int(m.group(9))))
            cur = None
            continue
        if cur:
            lines.append(line)
            runs[cur]["out"] = "".join(lines)
    return runs


def judge(name, run, oracle_dir):
    """Problems with one program's run on mmk, against its oracle."""
    try:
        with open(os.path.join(oracle_dir, name + ".out"), "rb") as f:
            want = f.read().decode("utf-8", "replace")
        with open(os.path.join(oracle_dir, name + ".status")) as f:
            want_status = f.read().strip()
    except OSError:
        return ["no oracle for it in %s (run tests/user/run_host.py)" % oracle_dir], ""
    if run is None:
        return ["not run (no '=== begin %s' marker)" % name], ""
    problems, detail = [], ""
    if run["status"] is None:
        problems.append("did not finish (no '=== end' marker)")
    elif run["status"] != want_status:
        problems.append("ended with %s, on the host with %s" % (run["status"], want_status))
    got_lines, want_lines = normalise(run["out"]), normalise(want)
    if got_lines != want_lines:
        diff = list(difflib.unified_diff(want_lines, got_lines, "host", "mmk", lineterm="", n=1))
        problems.append("output differs from the host's")
        detail = "\n".join(diff[:40])
    if is_test(name):
        problems += self_check(run["out"])
    if run.get("memfree"):
        (f0, f1), (s0, s1), (p0, p1) = run["memfree"], run["slab"], run["slab_pages"]
        if f0 < 0 or f1 < 0:
            problems.append("MemFree unreadable from /proc/meminfo")
        elif f1 + 4 * max(p1, 0) < f0 + 4 * max(p0, 0) - LEAK_TOLERANCE_KB:
            problems.append("leak: MemFree + slab pages %d kB before, %d kB after"
                            % (f0 + 4 * max(p0, 0), f1 + 4 * max(p1, 0)))
        if s0 < 0 or s1 < 0:
            problems.append("slab objects unreadable from /proc/slabinfo")
        elif s1 > s0 + SLAB_TOLERANCE:
            problems.append("leak: %d active slab objects before, %d after" % (s0, s1))
    return problems, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", help="default: BUILD/user-oracle")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    outdir = a.out or os.path.join(a.build, "user-oracle")
    os.makedirs(outdir, exist_ok=True)
    names = a.names or program_list(a.build)
    passed = failed = 0
    for name in names:
        ok, why, detail = run_native(a.build, name, outdir)
        if ok:
            passed += 1
            print("ok - user-host/%s" % name, flush=True)
        else:
            failed += 1
            print("not ok - user-host/%s: %s" % (name, why), flush=True)
            if detail:
                print("    " + detail.replace("\n", "\n    "), flush=True)
    print("# outputs in %s" % outdir)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
