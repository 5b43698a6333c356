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
    `--input FILE` types FILE's bytes on COM1, the console terminal, once
    the program has started (docs/terminal.md);
  * a conversation with the console terminal (tests/tty_session.py):
    `Interactive` boots with COM1 on a socket, sends bytes and waits for
    text, and presses keys of the PS/2 keyboard through QEMU's monitor.

Every boot gets its own copy of the OVMF variable store, and the image is
attached with snapshot=on so that nothing a boot does reaches the file.
A different command line is written into a copy of the image with mtools.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
ESP_OFFSET = 2048 * 512  # the ESP starts at sector 2048 (tools/mkimage.sh)

# isa-debug-exit: QEMU exits with (value << 1) | 1 (include/kernel/ktest.h)
EXIT_PASS = 33
EXIT_FAIL = 35
# QEMU also exits with 0 when the guest powers off through ACPI; the
# kernel's line before it tells that apart from a reset.
POWEROFF_LINE = "ACPI: powering off"

# OVMF and the loader write their console to every serial port, COM2 too,
# and so does the kernel's log until a process first writes there
# (docs/consoles.md).  What processes wrote starts after the kernel's
# marker line on COM2 or, once the boot is over without one, after the
# loader's last line before ExitBootServices (docs/user-programs.md).
COM2_MARKER = b"mmk: process output follows\n"
LOADER_LAST = b"; exiting boot services"


def user_output(raw, final=False):
    """The part of COM2's bytes `raw` that processes wrote, or None while
    the kernel's marker has not arrived.
    final: the boot is over, decide with what there is (after the loader's
    last line, or all of `raw` if neither line is there)."""
    at = raw.find(COM2_MARKER)
    if at >= 0:
        return raw[at + len(COM2_MARKER):]
    if not final:
        return None                 # the kernel's log, then its marker, come first
    at = raw.find(LOADER_LAST)
    if at >= 0:
        nl = raw.find(b"\n", at)
        return raw[nl + 1:] if nl >= 0 else b""
    return raw if final else None


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


def parse_disk(spec):
    """--disk KIND:PATH (KIND virtio or nvme) as a (kind, path) pair;
    ValueError with a message when it is not one (docs/block.md)."""
    kind, sep, path = spec.partition(":")
    if not sep or kind not in ("virtio", "nvme") or not path:
        raise ValueError("--disk %r: expected virtio:PATH or nvme:PATH" % spec)
    if not os.path.isfile(path):
        raise ValueError("--disk %r: no such file %s" % (spec, path))
    return kind, path


def parse_disk_errors(spec):
    """--disk-errors KIND:PATH:RULES, RULES being read=SECTOR and
    write=SECTOR separated by commas (each may repeat), as a disk
    (kind, path, {"read": [sectors], "write": [sectors]}); ValueError with
    a message when it is not one (docs/swap.md, "I/O errors")."""
    head, sep, rules = spec.rpartition(":")
    if not sep or not rules:
        raise ValueError("--disk-errors %r: expected KIND:PATH:read=SECTOR,write=SECTOR" % spec)
    kind, path = parse_disk(head)
    errors = {"read": [], "write": []}
    for rule in rules.split(","):
        what, eq, sector = rule.partition("=")
        if what not in errors or not eq or not sector.isdigit():
            raise ValueError("--disk-errors %r: %r is not read=SECTOR or write=SECTOR"
                             % (spec, rule))
        errors[what].append(int(sector))
    return kind, path, errors


def blkdebug_config(errors):
    """The text of a blkdebug configuration that fails every request
    touching one of the sectors with EIO (errno 5): one inject-error rule
    per sector, active from the start (event "none"), for reads or writes
    only (iotype).  QEMU's docs/devel/blkdebug.rst describes the rules."""
    text = "# written by tools/qemu.py: read and write errors at chosen sectors\n"
    for iotype in ("read", "write"):
        for sector in errors.get(iotype, ()):
            text += ('\n[inject-error]\nevent = "none"\niotype = "%s"\nerrno = "5"\n'
                     'sector = "%d"\n' % (iotype, sector))
    return text


def disk_args(disks, workdir=None):
    """QEMU's options for extra disks [(kind, path) or (kind, path, errors)...],
    raw images written in place: virtio-blk-pci (vda, vdb... in order) and
    NVMe controllers (nvme0n1, nvme1n1...), each with its own drive.  A disk
    with errors (parse_disk_errors) goes through QEMU's blkdebug driver,
    whose configuration file is written in workdir; its device reports the
    errors to the guest (rerror/werror=report) instead of stopping the VM."""
    args = []
    for i, disk in enumerate(disks or ()):
        kind, path = disk[0], disk[1]
        errors = disk[2] if len(disk) > 2 else None
        drive = "disk%d" % i
        report = ""
        if errors:
            cfg = os.path.join(workdir or tempfile.gettempdir(), "%s.blkdebug" % drive)
            with open(cfg, "w") as f:
                f.write(blkdebug_config(errors))
            args += ["-blockdev", f"driver=raw,node-name={drive},file.driver=blkdebug,"
                     f"file.config={cfg},file.image.driver=file,file.image.filename={path}"]
            report = ",rerror=report,werror=report" if kind == "virtio" else ""
        else:
            args += ["-drive", f"if=none,id={drive},format=raw,file={path}"]
        if kind == "virtio":
            args += ["-device", f"virtio-blk-pci,drive={drive}{report}"]
        else:
            args += ["-device", f"nvme,drive={drive},serial=mmk{i}"]
    return args


def _mib(size):
    """"512M", "2G", "0" in MiB; ValueError when it is not a size."""
    m = re.fullmatch(r"(\d+)([MG]?)", size)
    if not m:
        raise ValueError("%r is not a size like 512M or 2G" % size)
    return int(m.group(1)) * (1024 if m.group(2) == "G" else 1)


def parse_numa(spec, mem):
    """--numa NODES[:dist=A-B=D,...] as ([(MiB, cpus)...], [(a, b, d)...])
    (docs/numa.md).  NODES is a count of equal nodes sharing `mem` ("2")
    or one SIZE[/CPUS] per node ("2G,4G/0"), the sizes adding up to
    `mem`; a size of 0 is a memory-less node; CPUS (default 1) is how many
    CPUs the node has.  Under TCG every CPU but the first spins in the
    firmware's idle loop (the kernel never starts them), so tests give
    CPUs only where they matter.  dist= sets the SLIT distance between two
    nodes, both ways (QEMU mirrors a distance given one way); without it
    QEMU builds no SLIT.  ValueError with a message when the spec is not
    one."""
    nodes_text, _, opts = spec.partition(":")
    total = _mib(mem)
    if nodes_text.isdigit():
        n = int(nodes_text)
        if not 1 <= n <= 8 or total % n:
            raise ValueError("--numa %r: 1 to 8 nodes sharing %s evenly" % (spec, mem))
        nodes = [(total // n, 1)] * n
    else:
        nodes = []
        for item in nodes_text.split(","):
            size, slash, cpus = item.partition("/")
            if slash and not cpus.isdigit():
                raise ValueError("--numa %r: %r is not SIZE/CPUS" % (spec, item))
            nodes.append((_mib(size), int(cpus) if slash else 1))
        if not 1 <= len(nodes) <= 8 or sum(m for m, _ in nodes) != total:
            raise ValueError("--numa %r: 1 to 8 sizes adding up to --mem %s" % (spec, mem))
    if any(m == 0 and c == 0 for m, c in nodes) or not sum(c for _, c in nodes):
        raise ValueError("--numa %r: a node needs memory or CPUs, and some node a CPU"
                         % spec)
    dists = []
    for opt in filter(None, opts.split(",")):
        m = re.fullmatch(r"(?:dist=)?(\d+)-(\d+)=(\d+)", opt)
        if not m:
            raise ValueError("--numa %r: %r is not dist=A-B=DISTANCE" % (spec, opt))
        a, b, d = (int(x) for x in m.groups())
        if a >= len(nodes) or b >= len(nodes) or a == b or not 10 < d < 256:
            raise ValueError("--numa %r: %r names no pair of nodes or a distance "
                             "outside 11..255" % (spec, opt))
        dists.append((a, b, d))
    return nodes, dists


def numa_args(numa):
    """QEMU's options for the nodes of parse_numa: a RAM backend per node
    with memory (reserve=off, as below), its CPUs, the distances."""
    nodes, dists = numa
    args = ["-smp", str(sum(c for _, c in nodes))]
    first = 0
    for i, (size, cpus) in enumerate(nodes):
        opts = f"node,nodeid={i}"
        if cpus:
            opts += f",cpus={first}" + (f"-{first + cpus - 1}" if cpus > 1 else "")
            first += cpus
        if size:
            args += ["-object", f"memory-backend-ram,id=m{i},size={size}M,reserve=off"]
            opts += f",memdev=m{i}"
        args += ["-numa", opts]
    for a, b, d in dists:
        args += ["-numa", f"dist,src={a},dst={b},val={d}"]
    return args


def qemu_args(img, mem, vars_path, usb=False, gui=False, disks=(), numa=None, smp=1):
    # Guest RAM comes from a backend with reserve=off (MAP_NORESERVE): the
    # host gives a page only when the guest first writes it, and nothing
    # is reserved up front, so a 64 GiB guest boots on a host with less
    # free memory, as long as the guest does not write all of it.
    if numa:    # NUMA nodes (--numa): a backend per node (numa_args)
        ram = ["-machine", "q35"] + numa_args(numa)
    else:
        ram = ["-machine", "q35,memory-backend=ram0",
               "-object", f"memory-backend-ram,id=ram0,size={mem},reserve=off"]
        if smp > 1:     # CPUs (--smp; with --numa they come from the nodes)
            ram += ["-smp", str(smp)]
    args = ["qemu-system-x86_64"] + ram + [
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
    return args + disk_args(disks, os.path.dirname(vars_path))


class Result:
    """Outcome of one headless boot."""

    def __init__(self, status, exit_code, log, elapsed, out=""):
        self.status = status        # "pass", "fail", "hang", "reset", "poweroff", "qemu-error", "killed"
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


def _connect_unix(path, timeout=20):
    """A connected socket to the Unix socket QEMU serves at path (it
    appears a moment after QEMU starts)."""
    deadline = time.time() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def _com1_typist(sock_path, log_path, data):
    """COM1 as a socket: copy what the machine writes to log_path (as
    `-serial file:` would) and type `data` once init has started, when the
    kernel takes COM1's input (before, the firmware would read it)."""
    conn = _connect_unix(sock_path)

    def run():
        seen, typed = b"", False
        with open(log_path, "ab") as log:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                if not typed:
                    seen = (seen + chunk)[-4096:]
                    if b"init: starting" in seen:
                        typed = True
                        try:
                            conn.sendall(data)
                        except OSError:
                            break
        conn.close()

    threading.Thread(target=run, daemon=True).start()


class Interactive:
    """A boot to talk to: COM1 (the console terminal and the kernel log) on
    a socket, COM2 (what processes write) in workdir/serial2.log, and QEMU's
    monitor on a socket, to press keys of the PS/2 keyboard (sendkey).
    expect() waits for text on COM1 after the previous match."""

    def __init__(self, img, mem="512M", workdir=None):
        self.work = workdir or tempfile.mkdtemp(prefix="mmk-tty-")
        os.makedirs(self.work, exist_ok=True)
        vars_path = os.path.join(self.work, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_path)
        com1 = os.path.join(self.work, "com1.sock")
        self.mon_path = os.path.join(self.work, "monitor.sock")
        self.out_path = os.path.join(self.work, "serial2.log")
        for stale in (com1, self.mon_path, self.out_path):
            if os.path.exists(stale):
                os.remove(stale)
        args = qemu_args(img, mem, vars_path)
        args += ["-chardev", f"socket,id=com1,path={com1},server=on,wait=on",
                 "-serial", "chardev:com1", "-serial", f"file:{self.out_path}",
                 "-monitor", f"unix:{self.mon_path},server,nowait"]
        self.stderr = open(os.path.join(self.work, "qemu.stderr"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.com1 = _connect_unix(com1)
        self.com1.settimeout(0.2)
        self.log = b""      # everything COM1 said
        self.pos = 0        # where the next expect() starts looking
        self.mon = None

    def _pump(self):
        try:
            chunk = self.com1.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            return False
        self.log += chunk
        return bool(chunk)

    def send(self, data):
        """Type bytes on COM1."""
        self.com1.sendall(data if isinstance(data, bytes) else data.encode())

    def expect(self, text, timeout=30):
        """Wait until `text` (str or bytes) appears on COM1 after the last
        match; return what came before it (since the last match).  Raises
        TimeoutError when it does not come."""
        want = text if isinstance(text, bytes) else text.encode()
        deadline = time.time() + timeout
        while True:
            at = self.log.find(want, self.pos)
            if at >= 0:
                before = self.log[self.pos:at]
                self.pos = at + len(want)
                return before
            if time.time() > deadline or not self._pump():
                if self.log.find(want, self.pos) >= 0:
                    continue
                raise TimeoutError("no %r on COM1; it said last:\n%s" % (
                    want, self.log[-600:].decode("utf-8", "replace")))

    def settle(self, seconds):
        """Read COM1 for a while (nothing expected)."""
        deadline = time.time() + seconds
        while time.time() < deadline and self._pump():
            pass

    def sendkey(self, *keys):
        """Press keys on the PS/2 keyboard (QEMU's names: a, shift-a, ret,
        ctrl-c, backspace, up...)."""
        if self.mon is None:
            self.mon = _connect_unix(self.mon_path)
            self.mon.settimeout(2)
        for k in keys:
            self.mon.sendall(("sendkey %s\n" % k).encode())
            time.sleep(0.05)

    def out(self):
        """What processes wrote (COM2, after the kernel's marker)."""
        try:
            with open(self.out_path, "rb") as f:
                return user_output(f.read(), final=True).decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()
        for s in (self.com1, self.mon):
            if s:
                s.close()
        return self.proc.returncode


def boot(img, mem="1G", timeout=90, usb=False, wait_for=None, screendump=None,
         workdir=None, serial2=False, stop_on=None, on_poll=None, com1_input=None,
         disks=(), numa=None, smp=1):
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
    com1_input: bytes typed on COM1 once the kernel says init started
    (COM1 is then a socket, copied to the same log file).
    disks: extra disks, [(kind, path)...] as parse_disk gives them, or
    (kind, path, errors) as parse_disk_errors does.
    numa: NUMA nodes as parse_numa gives them (None: one node).
    smp: CPUs, when numa does not give them.
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
    args = qemu_args(img, mem, vars_path, usb=usb, disks=disks, numa=numa, smp=smp)
    com1_sock = os.path.join(work, "com1.sock") if com1_input is not None else None
    if com1_sock:
        args += ["-chardev", f"socket,id=com1,path={com1_sock},server=on,wait=on",
                 "-serial", "chardev:com1"]
    else:
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
    if com1_sock:
        _com1_typist(com1_sock, log_path, com1_input)
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
            raw = f.read()
        out = user_output(raw, final=True).decode("utf-8", "replace")
    with open(stderr_path) as f:
        qerr = f.read().strip()
    if status is None:
        if code == EXIT_PASS:
            status = "pass"
        elif code == EXIT_FAIL:
            status = "fail"
        elif code == 0 and POWEROFF_LINE in log:
            status = "poweroff"    # ACPI S5 (kernel/acpi/power.c)
        elif code == 0:
            # With -no-reboot a guest reset (a triple fault, a reboot
            # request) makes QEMU exit with 0: the kernel did not finish.
            status = "reset"
        else:
            status = "qemu-error"
            if qerr:
                log += "\n[qemu stderr] " + qerr
    return Result(status, code, log, elapsed, out)


# ---- run-elf: a static program as PID 1 ----------------------------------------

CPIO_MAGIC = b"070701"
# Not anchored at the start of a line: COM1 carries the processes' output
# too, and a program whose output does not end in a newline leaves the
# kernel's line glued to its last bytes ("hiinit: exited with status 0").
INIT_END_RE = re.compile(r"init: (exited with status|killed by signal) (\d+)\s*$", re.M)
# The loader's limit on boot/cmdline.txt (include/boot/boot_info.h).
CMDLINE_MAX = 1023


def cpio_entries(data):
    """The entries of a cpio "newc" archive, as [name, fields, body] lists
    (fields: the 13 numbers of the header), without the trailer."""
    entries, pos = [], 0
    while True:
        if data[pos:pos + 6] != CPIO_MAGIC:
            raise ValueError("not a cpio newc archive (offset %d)" % pos)
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        filesize, namesize = fields[6], fields[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode("utf-8", "replace")
        body_at = (pos + 110 + namesize + 3) & ~3
        body = data[body_at:body_at + filesize]
        pos = (body_at + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries.append([name, fields, body])


def cpio_pack(entries):
    """A cpio newc archive of `entries` (as cpio_entries gives them), with
    its trailer; sizes are recomputed."""
    out = bytearray()
    trailer = ["TRAILER!!!", [0, 0, 0, 0, 1] + [0] * 8, b""]
    for name, fields, body in list(entries) + [trailer]:
        raw = name.encode() + b"\0"
        f = list(fields)
        f[6], f[11] = len(body), len(raw)
        out += CPIO_MAGIC + b"".join(b"%08X" % v for v in f) + raw
        out += bytes(-len(out) % 4)
        out += body
        out += bytes(-len(out) % 4)
    return bytes(out)


def initrd_with(initrd, path, data):
    """The initrd archive `initrd` (bytes) with the executable file `path`
    ("bin/name") holding `data`, replacing any entry of that name, and
    with the directories on its way."""
    norm = lambda n: "/".join(c for c in n.split("/") if c not in ("", "."))  # noqa: E731
    entries = [e for e in cpio_entries(initrd) if norm(e[0]) != norm(path)]
    names = {norm(e[0]) for e in entries}
    ino = max([e[1][0] for e in entries] + [0]) + 1
    parts = norm(path).split("/")
    for i in range(1, len(parts)):
        d = "/".join(parts[:i])
        if d not in names:
            entries.append([d, [ino, 0o40755, 0, 0, 2] + [0] * 8, b""])
            ino += 1
    entries.append([norm(path), [ino, 0o100755, 0, 0, 1] + [0] * 8, data])
    return cpio_pack(entries)


def elf_cmdline(name, args, extra=""):
    """The kernel command line that starts /bin/<name> as PID 1 with
    argv = ["/bin/<name>"] + args (docs/user-programs.md)."""
    words = ([extra.strip()] if extra.strip() else []) + ["init=/bin/" + name]
    if args:
        words += ["--"] + list(args)
    return " ".join(words)


def run_elf(a):
    """`make run-elf`: returns the exit status to leave with."""
    def fail(code, msg):
        print("run-elf: " + msg, file=sys.stderr)
        return code

    try:
        with open(a.elf, "rb") as f:
            data = f.read()
    except OSError as e:
        return fail(2, "cannot read %s: %s" % (a.elf, e.strerror))
    if data[:4] != b"\x7fELF":
        print("run-elf: %s is not an ELF file; the kernel should refuse it" % a.elf,
              file=sys.stderr)
    name = os.path.basename(a.elf)
    if not re.fullmatch(r"[A-Za-z0-9._+-]+", name):
        name = "program"
    words = a.args.split()
    cmdline = elf_cmdline(name, words, a.cmdline)
    if len(cmdline) > CMDLINE_MAX or not all(32 <= ord(c) < 127 for c in cmdline):
        return fail(2, "the command line must be printable ASCII of at most %d bytes: %r"
                    % (CMDLINE_MAX, cmdline))
    try:
        with open(a.initrd, "rb") as f:
            initrd = initrd_with(f.read(), "bin/" + name, data)
    except (OSError, ValueError) as e:
        return fail(2, "cannot use the initrd %s: %s" % (a.initrd, e))

    work = tempfile.mkdtemp(prefix="mmk-run-elf-")
    try:
        initrd_path = os.path.join(work, "initrd.cpio")
        with open(initrd_path, "wb") as f:
            f.write(initrd)
        try:
            img = image_with_cmdline(a.img, os.path.join(work, "esp.img"), cmdline,
                                     replace={"::/boot/initrd.cpio": initrd_path})
        except subprocess.CalledProcessError:
            return fail(2, "could not put the program into a copy of %s (too big?)" % a.img)
        if a.verbose:
            print("run-elf: booting with command line %r" % cmdline, file=sys.stderr)
        seen = {"com1": 0, "out": 0}

        def follow(com1, com2, final=False):
            # Copy what arrived since the last poll: the processes' part of
            # COM2 to stdout, and with --verbose COM1 to stderr.
            if com2 and os.path.exists(com2):
                with open(com2, "rb") as f:
                    out = user_output(f.read(), final)
                if out is not None and len(out) > seen["out"]:
                    sys.stdout.buffer.write(out[seen["out"]:])
                    sys.stdout.buffer.flush()
                    seen["out"] = len(out)
            if a.verbose and com1 and os.path.exists(com1):
                with open(com1, "rb") as f:
                    f.seek(seen["com1"])
                    chunk = f.read()
                seen["com1"] += len(chunk)
                sys.stderr.buffer.write(chunk)
                sys.stderr.buffer.flush()

        typed = None
        if a.input:
            try:
                with open(a.input, "rb") as f:
                    typed = f.read()
            except OSError as e:
                return fail(2, "cannot read %s: %s" % (a.input, e.strerror))
        r = boot(img, mem=a.mem, timeout=a.timeout, workdir=work, serial2=True,
                 stop_on=["Halted.", "System halted."], on_poll=follow, com1_input=typed,
                 disks=a.disks, numa=a.numa_nodes, smp=a.smp)
        follow(None, os.path.join(work, "serial2.log"), final=True)
        if a.log:
            os.makedirs(os.path.dirname(os.path.abspath(a.log)), exist_ok=True)
            with open(a.log, "w") as f:
                f.write(r.log)
        where = " (kernel log: %s)" % a.log if a.log and not a.verbose else ""
        ends = INIT_END_RE.findall(r.log)
        if ends:
            how, n = ends[-1]
            return int(n) if how.startswith("exited") else 128 + int(n)
        if "init: cannot run" in r.log:
            line = [ln for ln in r.log.splitlines() if "init: cannot run" in ln][-1]
            return fail(127, "the kernel could not start the program: %s%s"
                        % (line.strip(), where))
        if r.status == "hang":
            return fail(124, "no end within %d s%s" % (a.timeout, where))
        hint = ""
        if "KERNEL PANIC" in r.log:
            hint = ": the kernel panicked"
        elif "Nothing to run. Halted." in r.log:
            hint = ": the kernel could start no process"
        return fail(125, "the kernel stopped without saying how the program ended (%s)%s%s"
                    % (r.status, hint, where))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "run-elf"])
    ap.add_argument("--img", default="build/esp.img")
    ap.add_argument("--mem", default="1G")
    ap.add_argument("--cmdline", default="",
                    help="run: the whole command line; run-elf: options put before init=")
    ap.add_argument("--gui", action="store_true")
    ap.add_argument("--usb", action="store_true")
    ap.add_argument("--gdb", action="store_true")
    ap.add_argument("--elf", help="run-elf: the static program to start as PID 1")
    ap.add_argument("--args", default="", help="run-elf: its arguments, separated by blanks")
    ap.add_argument("--initrd", default="build/initrd.cpio",
                    help="run-elf: the initrd to add the program to")
    ap.add_argument("--log", default="build/run-elf.log", help="run-elf: where the kernel log goes")
    ap.add_argument("--verbose", action="store_true", help="run-elf: kernel log on stderr too")
    ap.add_argument("--timeout", type=int, default=300, help="run-elf: seconds before giving up")
    ap.add_argument("--input", help="run-elf: a file whose bytes are typed on COM1, the console "
                    "terminal, once the program has started")
    ap.add_argument("--disk", action="append", default=[], metavar="KIND:PATH",
                    help="attach a raw disk image: virtio:PATH (virtio-blk) or nvme:PATH "
                    "(NVMe); repeat for more (docs/block.md)")
    ap.add_argument("--disk-errors", action="append", default=[],
                    metavar="KIND:PATH:read=SECTOR,write=SECTOR",
                    help="attach a raw disk image whose reads or writes touching the "
                    "sectors fail with EIO (QEMU's blkdebug); attached after the --disk "
                    "ones (docs/swap.md)")
    ap.add_argument("--smp", type=int, default=1, metavar="N",
                    help="CPUs (QEMU's -smp; with --numa the nodes say; docs/smp.md)")
    ap.add_argument("--numa", metavar="NODES[:dist=A-B=D,...]",
                    help="NUMA nodes: a count sharing --mem evenly (2) or SIZE[/CPUS] per "
                    "node adding up to --mem (2G,4G/0: CPUS defaults to 1; a size of 0 is a "
                    "memory-less node), with SLIT distances (:dist=0-1=21,...; none: no "
                    "SLIT) (docs/numa.md)")
    a = ap.parse_args()
    try:
        a.disks = [parse_disk(d) for d in a.disk]
        a.disks += [parse_disk_errors(d) for d in a.disk_errors]
        a.numa_nodes = parse_numa(a.numa, a.mem) if a.numa else None
    except ValueError as e:
        ap.error(str(e))

    if a.mode == "run-elf":
        if not a.elf:
            ap.error("run-elf needs --elf PROGRAM")
        try:
            sys.exit(run_elf(a))
        except KeyboardInterrupt:
            sys.exit(130)

    work = tempfile.mkdtemp(prefix="mmk-run-")
    img = a.img
    if a.cmdline:
        img = image_with_cmdline(a.img, os.path.join(work, "esp.img"), a.cmdline)
    vars_path = os.path.join(work, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_path)
    args = qemu_args(img, a.mem, vars_path, usb=a.usb, gui=a.gui, disks=a.disks,
                     numa=a.numa_nodes, smp=a.smp)
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
