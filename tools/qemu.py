#!/usr/bin/env python3
"""Boot build/esp.img in QEMU+OVMF.

Three uses:
  * interactive (`make run`, `make gdb`): `qemu.py run [--mem 1G]
    [--cmdline "..."] [--gui] [--usb] [--gdb]`: serial console on this
    terminal (Ctrl-A X quits QEMU);
  * the test harness (tests/run_all.py imports `boot()`): a headless boot
    with a timeout whose outcome is classified: clean isa-debug-exit pass
    or fail, hang (timeout), reboot or triple fault (QEMU exits by itself
    because of -no-reboot), or a crash of QEMU;
  * `make run-elf`: `qemu.py run-elf --elf PROGRAM [--args "..."]`: the
    program becomes PID 1 (init=/bin/NAME -- ARGS), its output (the second
    serial port, COM2) goes to stdout, the kernel log (COM1) to a file or
    to stderr, and the exit status is the program's (docs/user-programs.md).

Every boot gets its own copy of the OVMF variable store, and the image is
attached with snapshot=on so that nothing a boot does reaches the file.
A different command line is written into a copy of the image with mtools.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
ESP_OFFSET = 2048 * 512  # the ESP starts at sector 2048 (tools/mkimage.sh)

# isa-debug-exit: QEMU exits with (value << 1) | 1 (include/kernel/ktest.h)
EXIT_PASS = 33
EXIT_FAIL = 35


def image_with_cmdline(base, out, cmdline=None, replace=None, delete=()):
    """Copy the disk image `base` to `out`, then change files on its ESP:
    cmdline (str) becomes boot/cmdline.txt, `replace` maps ESP paths to
    host files to copy in, `delete` lists ESP paths to remove."""
    shutil.copyfile(base, out)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    img = f"{out}@@{ESP_OFFSET}"
    replace = dict(replace or {})
    tmpdir = tempfile.mkdtemp(prefix="mmk-img-")
    try:
        if cmdline is not None:
            path = os.path.join(tmpdir, "cmdline.txt")
            with open(path, "w") as f:
                f.write(cmdline + "\n")
            replace["::/boot/cmdline.txt"] = path
        for esp_path in delete:
            subprocess.run(["mdel", "-i", img, esp_path], env=env, check=True)
        for esp_path, host in replace.items():
            subprocess.run(["mcopy", "-o", "-i", img, host, esp_path],
                           env=env, check=True)
    finally:
        shutil.rmtree(tmpdir)
    return out


def qemu_args(img, mem, vars_path, usb=False, gui=False):
    args = [
        "qemu-system-x86_64",
        "-machine", "q35",
        "-cpu", "max",
        "-m", mem,
        "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,file={vars_path}",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-no-reboot",
        "-nic", "none",
    ]
    if usb:
        args += ["-drive", f"if=none,id=stick,format=raw,snapshot=on,file={img}",
                 "-device", "qemu-xhci,id=xhci",
                 "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on"]
    else:
        args += ["-drive", f"format=raw,snapshot=on,file={img}"]
    if not gui:
        args += ["-display", "none"]
    return args


class Result:
    """Outcome of one headless boot."""

    def __init__(self, status, exit_code, log, elapsed, out=""):
        self.status = status        # "pass", "fail", "hang", "reset", "qemu-error", "killed"
        self.exit_code = exit_code
        self.log = log              # COM1: the kernel log
        self.elapsed = elapsed
        self.out = out              # COM2: what user processes wrote (with serial2=True)

    def tail(self, lines=30):
        return "\n".join(self.log.splitlines()[-lines:])


def _monitor(sock_path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.settimeout(10)
    s.recv(4096)  # banner
    s.sendall((command + "\n").encode())
    time.sleep(0.5)
    try:
        s.recv(65536)
    except socket.timeout:
        pass
    s.close()


def boot(img, mem="1G", timeout=90, usb=False, wait_for=None, screendump=None,
         workdir=None, serial2=False, stop_on=None, on_poll=None):
    """Boot `img` headless; return a Result.

    wait_for: a list of strings; once all have appeared in the serial log
    the boot is stopped (status "killed" unless QEMU had already exited).
    screendump: a path; when given, QEMU gets a monitor socket and, once
    `wait_for` is satisfied, the screen is dumped there (PPM) before QEMU
    is told to quit.
    serial2: also give the machine a second serial port (COM2, where user
    processes write), captured in workdir/serial2.log and returned as
    Result.out.
    stop_on: a list of strings; the boot is stopped as soon as any one of
    them appears in the serial log (status "killed").
    on_poll: called as on_poll(com1_path, com2_path) at every poll (every
    0.2 s) and once more at the end, to follow the output as it comes.
    """
    work = workdir or tempfile.mkdtemp(prefix="mmk-qemu-")
    os.makedirs(work, exist_ok=True)
    vars_path = os.path.join(work, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_path)
    log_path = os.path.join(work, "serial.log")
    out_path = os.path.join(work, "serial2.log") if serial2 else None
    # A log left by an earlier boot in the same directory must not satisfy
    # wait_for before QEMU has even opened the file.
    for stale in (log_path, screendump, out_path):
        if stale and os.path.exists(stale):
            os.remove(stale)
    args = qemu_args(img, mem, vars_path, usb=usb)
    args += ["-serial", f"file:{log_path}"]
    if serial2:
        args += ["-serial", f"file:{out_path}"]
    mon = None
    if screendump:
        mon = os.path.join(work, "monitor.sock")
        args += ["-monitor", f"unix:{mon},server,nowait"]
    stderr_path = os.path.join(work, "qemu.stderr")
    start = time.time()
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
    status = None

    def read_log():
        try:
            with open(log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    while True:
        code = proc.poll()
        if on_poll:
            on_poll(log_path, out_path)
        if code is not None:
            break
        if time.time() - start > timeout:
            proc.kill()
            proc.wait()
            status, code = "hang", None
            break
        if stop_on and any(w in read_log() for w in stop_on):
            proc.kill()
            proc.wait()
            status, code = "killed", None
            break
        if wait_for and all(w in read_log() for w in wait_for):
            if screendump:
                _monitor(mon, f"screendump {screendump}")
                for _ in range(50):
                    if os.path.exists(screendump) and os.path.getsize(screendump) > 0:
                        break
                    time.sleep(0.1)
                time.sleep(0.3)
            proc.kill()
            proc.wait()
            status, code = "killed", None
            break
        time.sleep(0.2)
    elapsed = time.time() - start
    if on_poll:
        on_poll(log_path, out_path)
    log = read_log()
    out = ""
    if out_path and os.path.exists(out_path):
        with open(out_path, "rb") as f:
            out = f.read().decode("utf-8", "replace")
    with open(stderr_path) as f:
        qerr = f.read().strip()
    if status is None:
        if code == EXIT_PASS:
            status = "pass"
        elif code == EXIT_FAIL:
            status = "fail"
        elif code == 0:
            # With -no-reboot a guest reset (a triple fault, a reboot
            # request) makes QEMU exit with 0: the kernel did not finish.
            status = "reset"
        else:
            status = "qemu-error"
            if qerr:
                log += "\n[qemu stderr] " + qerr
    return Result(status, code, log, elapsed, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run"])
    ap.add_argument("--img", default="build/esp.img")
    ap.add_argument("--mem", default="1G")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--gui", action="store_true")
    ap.add_argument("--usb", action="store_true")
    ap.add_argument("--gdb", action="store_true")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mmk-run-")
    img = a.img
    if a.cmdline:
        img = image_with_cmdline(a.img, os.path.join(work, "esp.img"), a.cmdline)
    vars_path = os.path.join(work, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_path)
    args = qemu_args(img, a.mem, vars_path, usb=a.usb, gui=a.gui)
    args += ["-serial", "mon:stdio"]
    if a.gdb:
        args += ["-s", "-S"]
    print("mmk: booting %s with %s of memory (quit with Ctrl-A X)" % (img, a.mem),
          file=sys.stderr)
    try:
        rc = subprocess.call(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # isa-debug-exit codes of the in-kernel tests: 33 = all passed, 35 = failures
    sys.exit({EXIT_PASS: 0, EXIT_FAIL: 1}.get(rc, rc))


if __name__ == "__main__":
    main()
