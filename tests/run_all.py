#!/usr/bin/env python3
"""`make test`: the host unit tests, then the QEMU boots, then one last line
"N passed, N failed".  Exit status 0 only when nothing failed.

Each boot is a few seconds of OVMF under TCG, so the in-kernel tests run
many cases per boot (ktest=all) and the boots run two at a time.  A boot's
outcome is a case of its own ("boot/<name>"), and each in-kernel case it
reports becomes "<name>/<case>".  On a failure the tail of the serial log
is printed; whole logs are kept in build/test-logs/.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import qemu  # noqa: E402
import screencheck  # noqa: E402

RESULT_RE = re.compile(r"^(ok|not ok) - (\S+)(?:: (.*))?$")
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def case(self, ok, name, why="", detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - %s: %s" % (name, why), flush=True)
            if detail:
                print("    " + detail.replace("\n", "\n    "), flush=True)


def run_host(rep, binaries, build):
    for b in binaries:
        name = os.path.basename(b)
        args = [b]
        if name == "test_pe":
            args.append(os.path.join(build, "BOOTX64.EFI"))
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            rep.case(False, "host/%s" % name, "timed out after 300 s")
            continue
        seen = 0
        for line in p.stdout.splitlines():
            m = RESULT_RE.match(line)
            if m:
                seen += 1
                rep.case(m.group(1) == "ok", "host/%s/%s" % (name, m.group(2)),
                         m.group(3) or "")
        if p.returncode != 0 and seen == 0 or p.returncode < 0:
            rep.case(False, "host/%s" % name, "exit status %d" % p.returncode,
                     (p.stdout + p.stderr)[-3000:])
        elif p.returncode != 0 and "not ok" not in p.stdout:
            rep.case(False, "host/%s" % name,
                     "exit status %d with no failing case" % p.returncode,
                     (p.stdout + p.stderr)[-3000:])


def run_docs_check(rep):
    """tests/docs_check.py: its self-test (each check must fail on its
    fixtures), then the pages against the tree.  Its "ok - docs/..." lines
    are cases; the "FILE:LINE: stale NAME (kind)" lines above a failing
    one are printed as they come."""
    for args in (["--self-test"], []):
        p = subprocess.run([sys.executable, os.path.join(HERE, "docs_check.py")] + args,
                           capture_output=True, text=True, timeout=120)
        seen = 0
        for line in p.stdout.splitlines():
            m = RESULT_RE.match(line)
            if m:
                seen += 1
                rep.case(m.group(1) == "ok", m.group(2), m.group(3) or "")
            else:
                print("    " + line, flush=True)
        if seen == 0 or p.returncode != 0 and "not ok" not in p.stdout:
            rep.case(False, "docs/check%s" % "".join(args), "exit status %d" % p.returncode,
                     p.stderr[-2000:])


# ---- the boots -----------------------------------------------------------

class Boot:
    """One QEMU boot and what it must show.

    expect: "pass" (isa-debug-exit with the pass code and a clean summary),
            "poweroff" (a clean summary, then QEMU off through ACPI S5),
            "fail" (the harness must see a failure, e.g. an oops),
            "text" (stopped once `wait_for` has appeared in the log).
    """

    def __init__(self, name, mem="1G", cmdline=None, expect="pass", usb=False,
                 wait_for=None, must_show=(), must_not_show=(), replace=None,
                 delete=(), screen=None, timeout=120, disks=None, numa=None, smp=1):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def make_bad_files(work, build):
    """Inputs the loader and the kernel must refuse gracefully."""
    files = {}
    kernel = open(os.path.join(build, "kernel.elf"), "rb").read()
    files["truncated_kernel"] = os.path.join(work, "kernel-truncated.elf")
    # Headers intact, segment data cut off: only a bounds check catches it.
    # Cut half-way through the loadable data (debug sections after it would
    # otherwise let a cut at a fixed fraction of the file miss the segments).
    phoff, = struct.unpack_from("<Q", kernel, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", kernel, 0x36)
    load_end = 0
    for i in range(phnum):
        ptype, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", kernel,
                                                            phoff + i * phentsize)
        if ptype == 1:  # PT_LOAD
            load_end = max(load_end, offset + filesz)
    with open(files["truncated_kernel"], "wb") as f:
        f.write(kernel[:load_end // 2])
    files["huge_cmdline"] = os.path.join(work, "cmdline-huge.txt")
    with open(files["huge_cmdline"], "w") as f:
        f.write(("ktest=all " * 300).strip() + "\n")  # ~3000 bytes > 1023
    files["garbage_initrd"] = os.path.join(work, "initrd-garbage.cpio")
    with open(files["garbage_initrd"], "wb") as f:
        f.write(bytes((i * 37 + 11) & 255 for i in range(4096)))
    return files


# The block boot's disks (tests/kernel/test_block.c has the same values).
BLOCK_TEST_MAGIC = b"MMK-BLOCK-TEST-DISK"
BLOCK_PART1_UUID = "6d6d6b01-0000-4000-8000-000000000001"
BLOCK_PART2_UUID = "6d6d6b02-0000-4000-8000-000000000002"


def make_block_disks(work):
    """Fresh disk images for the block boot, in `work`: a virtio disk
    marked as the test disk in sector 0, an NVMe disk with a GPT of two
    partitions (sgdisk, fixed PARTUUIDs), a second virtio disk whose GPT
    has a broken header CRC in both copies (to be refused), and two empty
    disks (to be given up)."""
    vda = os.path.join(work, "virtio-test.img")
    with open(vda, "wb") as f:
        f.write(BLOCK_TEST_MAGIC + bytes(512 - len(BLOCK_TEST_MAGIC)))
        f.truncate(4 << 20)
    nvme = os.path.join(work, "nvme-gpt.img")
    bad = os.path.join(work, "virtio-badgpt.img")
    for path in (nvme, bad):
        with open(path, "wb") as f:
            f.truncate(8 << 20)
        subprocess.run(["sgdisk", "-o",
                        "-n", "1:2048:4095", "-t", "1:8200", "-u", "1:" + BLOCK_PART1_UUID,
                        "-n", "2:4096:12287", "-t", "2:8300", "-u", "2:" + BLOCK_PART2_UUID,
                        path], check=True, capture_output=True)
    with open(bad, "r+b") as f:
        for lba in (1, (8 << 20) // 512 - 1):
            f.seek(lba * 512 + 60)      # a byte of the disk GUID: the CRC no longer fits
            b = f.read(1)
            f.seek(lba * 512 + 60)
            f.write(bytes([b[0] ^ 0xff]))
    # Two empty disks: an NVMe namespace and a virtio disk of size 0,
    # which the drivers must give up with a line each.
    empty = []
    for name in ("nvme-empty.img", "virtio-empty.img"):
        empty.append(os.path.join(work, name))
        open(empty[-1], "wb").close()
    return [("virtio", vda), ("nvme", nvme), ("virtio", bad), ("nvme", empty[0]),
            ("virtio", empty[1])]


def make_swap_disks(work, formatted=True):
    """A fresh 64 MiB virtio disk for the swap boots, in `work`: formatted
    by util-linux's mkswap (label mmkswap), or left all zeros (to be
    refused by swap=vda, and never written)."""
    path = os.path.join(work, "swap.img")
    with open(path, "wb") as f:
        f.truncate(64 << 20)
    if formatted:
        subprocess.run(["mkswap", "-L", "mmkswap", path], check=True, capture_output=True)
    return [("virtio", path)]


def make_big_swap_disk(work):
    """A fresh 512 MiB swap disk (mkswap) for the swap-pressure boot."""
    path = os.path.join(work, "swap.img")
    with open(path, "wb") as f:
        f.truncate(512 << 20)
    subprocess.run(["mkswap", path], check=True, capture_output=True)
    return [("virtio", path)]


# The swap-errors boot's disk: the slots (4 KiB pages of the area) whose
# reads or writes fail.  A fresh area hands out slots from 256 (the first
# cluster holds the header); esp/initrd/etc/swaperr-tests gives the same
# numbers to test_swaperr (64-bit: 256, 257) and test_swaperr32 (320, 321).
SWAPERR_READ_SLOTS = (256, 320)
SWAPERR_WRITE_SLOTS = (257, 321)


def make_swaperr_disk(work):
    """A fresh 16 MiB swap disk (mkswap) whose reads of the read slots and
    writes of the write slots fail with EIO (QEMU's blkdebug, tools/qemu.py)."""
    path = os.path.join(work, "swap.img")
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkswap", path], check=True, capture_output=True)
    return [("virtio", path, {"read": [s * 8 for s in SWAPERR_READ_SLOTS],
                              "write": [s * 8 for s in SWAPERR_WRITE_SLOTS]})]


def boots(bad):
    summary_seen = ["passed,", "ktest: halted"]
    return [
        # calibrate=: the timers measured against the PM timer, not the
        # first reference that works (docs/time.md).
        Boot("128M", mem="128M", cmdline="ktest=all calibrate=pmtimer",
             must_show=["calibration: pmtimer (calibrate=pmtimer)"]),
        # Four CPUs (docs/smp.md): the three others started, plus a ghost
        # APIC id that nobody answers for (the start's timeout).
        Boot("1G", mem="1G", cmdline="ktest=all unknown.option=1 smp.ghost=9", smp=4,
             must_show=["cmdline: unknown option 'unknown.option' ignored",
                        "NUMA: no SRAT: one node",
                        "smp: 4 CPUs in the ACPI MADT (boot CPU: APIC id 0)",
                        "smp: CPU 3 (APIC id 0x3) is up in",
                        "smp: CPU 4 (APIC id 0x9) did not answer: left out",
                        "smp: 4 of 5 CPUs online"]),
        # Two NUMA nodes (docs/numa.md): 2 GiB below the PCI hole, 4 GiB
        # above 4 GiB (a node with no DMA32 zone) and no CPU; the layout,
        # the zonelists, and the in-kernel NUMA tests of ktest=all.
        # Then (ktest.end=init) the NUMA policies' user test, 64- and
        # 32-bit (docs/mempolicy.md): the 32-bit one cannot use node 1,
        # all above 4 GiB, and skips its two-node checks.  test_sysfs_node
        # reads the nodes' files in /sys (docs/numa.md), here and in numa-4.
        Boot("6G", mem="6G", numa="2G,4G/0:dist=0-1=21",
             cmdline="ktest=all ktest.end=init init=/bin/init -- test test_mempolicy "
                     "test_mempolicy32 test_sysfs_node test_sysfs_node32",
             expect="text", wait_for=["init: exited"], timeout=300,
             must_not_show=["not ok", "KERNEL PANIC", "KERNEL OOPS"],
             must_show=["ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]",
                        "ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x1ffffffff]",
                        "ACPI: SRAT: PXM 0 -> APIC 0x00 -> Node 0",
                        "NUMA: Node 1: 4 GiB in 1 range, 0 CPUs",
                        "NUMA: 2 nodes from the ACPI SRAT, distances from the SLIT",
                        "node distances:", "node   0   1", "  0:  10  21", "  1:  21  10",
                        "Fallback order for Node 0: 0 1", "Fallback order for Node 1: 1 0",
                        "Zonelist of Node 0, Normal: 0:DMA32 0:DMA 1:Normal",
                        "Zonelist of Node 1, Normal: 1:Normal 0:DMA32 0:DMA",
                        "ioapic: from the ACPI MADT: I/O APIC at 0xfec00000",
                        "ktest: starting init (ktest.end=init)",
                        "=== end test_mempolicy: exit 0", "=== end test_mempolicy32: exit 0",
                        "=== end test_sysfs_node: exit 0", "=== end test_sysfs_node32: exit 0",
                        "init: exited with status 0"]),
        # Four domains, uneven distances, PXM 2 with a CPU and no memory,
        # PXM 1 and 3 with memory and no CPU: the boot lines only.  Domains
        # with CPUs are numbered first (Linux's pxm_to_node): PXM 2 is
        # node 1, PXM 1 node 2.
        # The NUMA policies' user test runs there too (docs/mempolicy.md).
        Boot("numa-4", mem="2G",
             cmdline="ktest=bootinfo_header,numa_nodes_consistent,numa_alloc_on_node,"
                     "numa_mask_and_bad_node,numa_fallback_nearest,numa_cpu_local_node ktest.end=init "
                     "init=/bin/init -- test test_mempolicy test_mempolicy32 "
                     "test_sysfs_node test_sysfs_node32 test_numa_fallback "
                     "test_numa_fallback32",
             expect="text", wait_for=["init: exited"],
             numa="512M,512M/0,0,1G/0:0-1=15,0-2=20,0-3=30,1-2=30,1-3=20,2-3=15",
             must_show=["ACPI: SRAT: PXM 2 -> APIC 0x01 -> Node 1",
                        "NUMA: CPU 1 (APIC id 0x1) on node 1",
                        "numa_cpu_local_node: CPU 1 (APIC id 0x1): node 1, a frame from node 3",
                        "ACPI: SRAT: Node 2 PXM 1 [mem 0x20000000-0x3fffffff]",
                        "ACPI: SRAT: Node 3 PXM 3 [mem 0x40000000-0x7fffffff]",
                        "NUMA: Node 1: memory-less, 1 CPU only",
                        "node   0   1   2   3", "  0:  10  20  15  30", "  1:  20  10  30  15",
                        "  2:  15  30  10  20", "  3:  30  15  20  10",
                        "Fallback order for Node 0: 0 2 3",
                        "Fallback order for Node 1: 3 0 2",
                        "Fallback order for Node 3: 3 2 0",
                        "Zonelist of Node 0, Normal: 0:DMA32 0:DMA 2:DMA32 3:DMA32",
                        "Zonelist of Node 1, Normal: 3:DMA32 0:DMA32 0:DMA 2:DMA32",
                        "Zonelist of Node 3, Normal: 3:DMA32 2:DMA32 0:DMA32 0:DMA",
                        "6 passed, 0 failed",
                        "=== end test_mempolicy: exit 0", "=== end test_mempolicy32: exit 0",
                        "=== end test_sysfs_node: exit 0", "=== end test_sysfs_node32: exit 0",
                        "=== end test_numa_fallback: exit 0",
                        "=== end test_numa_fallback32: exit 0",
                        "init: exited with status 0"],
             must_not_show=["ACPI: SLIT:", "ACPI: SRAT: entry", "SRAT refused", "not ok"]),
        # Booted from a USB stick, with two equal NUMA nodes of 512 MiB:
        # every in-kernel test on a machine with two nodes.
        Boot("usb-stick", mem="1G", cmdline="ktest=all", usb=True, numa="2"),
        # With the memory map on beside the text: screencheck checks both.
        Boot("screen", mem="1G",
             cmdline="ktest=bootinfo_header,fbcon_title_pixels ktest.end=halt memview=on",
             expect="text", wait_for=summary_seen, must_show=["memview: on, text in columns"],
             screen=["ok - bootinfo_header", "ok - fbcon_title_pixels",
                     "2 passed, 0 failed", "ktest: halted (ktest.end=halt)"]),
        # The empty command line: init prints its banner and starts the
        # shell, whose prompt ends the boot (tests/shell_session.py talks
        # to it).
        Boot("default-cmdline", mem="512M", cmdline=None, expect="text",
             wait_for=["\nmmk:/# "],
             must_show=["mmk 0.1", "Firmware memory map:", "Total usable memory:",
                        'command line: ""', "init: starting /bin/init as pid 1",
                        "Welcome to mmk, a kernel about memory management.",
                        "  cat /proc/buddyinfo    free blocks per order",
                        "  busybox32 sh           the same shell",
                        "Ctrl-C interrupts a program", "BusyBox v"],
             must_not_show=["init: cannot execute /bin/sh", "init: the shell ended"]),
        Boot("loader-truncated-kernel", cmdline="ktest=all", expect="text",
             replace={"::/boot/kernel.elf": bad["truncated_kernel"]},
             wait_for=["returning to the firmware"],
             must_show=["is not a valid kernel", "past the end of the file"],
             must_not_show=["mmk 0.1 - "]),
        Boot("loader-missing-kernel", cmdline="ktest=all", expect="text",
             delete=["::/boot/kernel.elf"],
             wait_for=["returning to the firmware"],
             must_show=["kernel.elf is missing"], must_not_show=["mmk 0.1 - "]),
        Boot("bad-cmdline-and-initrd", cmdline=None, expect="text",
             replace={"::/boot/cmdline.txt": bad["huge_cmdline"],
                      "::/boot/initrd.cpio": bad["garbage_initrd"]},
             wait_for=["Halted."],
             must_show=["more than the limit of 1023; ignoring it",
                        "not a cpio (newc) archive", 'command line: ""']),
        # Ends through ACPI S5 (ktest.end=poweroff, docs/boot.md): QEMU
        # exits 0 after the kernel's power-off line.
        Boot("missing-initrd", cmdline="ktest=bootinfo_header,trap_symbols ktest.end=poweroff",
             delete=["::/boot/initrd.cpio"], expect="poweroff",
             must_show=["initrd.cpio is missing", "initrd: none", "ACPI: powering off"]),
        Boot("oops-outside-tests", cmdline="ktest=all ktest.crash=oops",
             expect="fail",
             must_show=["KERNEL OOPS", "not-present page, write, kernel mode",
                        "KERNEL PANIC", "<kmain_late+"]),
        # The slab tests with red zones and poison; the debug cases provoke
        # each mistake, which must be reported and survived.
        Boot("slab-debug", mem="1G", cmdline="ktest=slab_*,kmalloc_*,vm_* slab_debug",
             must_show=["slab error: red zone after the object overwritten (seen at free): "
                        "cache kt_redzone",
                        "slab error: write after free (seen at allocation): cache kt_uaf",
                        "slab error: double free (the object is not allocated): "
                        "cache kt_dfree",
                        "vfree: ", "is a stack area (free it with vfree_stack)"],
             must_not_show=["skipped: needs slab_debug"]),
        # Without slab_debug a bad free is a panic naming the culprit.
        Boot("bad-kfree-panics", cmdline="ktest=all ktest.crash=kfree", expect="fail",
             must_show=["KERNEL PANIC: slab error: double free (the object is not "
                        "allocated): cache kmalloc-64, object 0x", "<kmain_late+"]),
        # Disks on the PCI bus (docs/block.md): virtio-blk and NVMe, a GPT
        # read, a hostile one refused; the block tests write and read them.
        Boot("block", mem="512M", cmdline="ktest=block_*,pci_*", disks=make_block_disks,
             must_show=["pci: 00:00.0 8086:29c0", "virtio-blk: ", "nvme: ",
                        "blk: nvme0n1p2: sectors 4096..12287 of nvme0n1 (4 MiB), PARTUUID="
                        + BLOCK_PART2_UUID,
                        "blk: vdb: warning: GPT ignored: header CRC32",
                        "blk: vda: no GPT",
                        "namespace 1 has a size of 0 blocks", "capacity of 0 sectors",
                        "is an I/O port range, not memory; refused"],
             must_not_show=["skipped: no"]),
        # Swap (docs/swap.md): the area named by swap= is switched on at boot
        # and the swap tests use it; a disk without mkswap's signature is
        # refused with a line saying why.
        Boot("swap", mem="512M", cmdline="ktest=swap_* swap=vda", disks=make_swap_disks,
             must_show=["Adding 65532k swap on /dev/vda.  Priority:-1 extents:1 "
                        "across:65532k label:mmkswap", "swap=vda: swapping on /dev/vda",
                        "swap_boot_area: vda, 16383 pages, priority -1"],
             must_not_show=["skipped"]),
        # Reclaim (docs/reclaim.md): three times the RAM through a 512 MiB
        # swap disk, 64- and 32-bit; then, without swap, the OOM killer.
        Boot("swap-pressure", mem="128M", cmdline="swap=vda init=/bin/init -- test "
             "test_kswapd test_swapout test_swapout32", disks=make_big_swap_disk,
             expect="text", wait_for=["init: exited"], timeout=600,
             must_show=["=== end test_kswapd: exit 0", "=== end test_swapout: exit 0",
                        "=== end test_swapout32: exit 0"],
             must_not_show=["not ok", "KERNEL PANIC", "KERNEL OOPS"]),
        # Swap I/O errors (docs/swap.md): MADV_PAGEOUT puts pages in slots
        # whose read or write fails; SIGBUS, a retired slot, and on.
        Boot("swap-errors", mem="256M", cmdline="swap=vda init=/bin/init -- "
             "-l /etc/swaperr-tests test", disks=make_swaperr_disk, expect="text",
             wait_for=["init: exited"], timeout=120,
             must_show=["=== end test_swaperr: exit 0", "=== end test_swaperr32: exit 0",
                        "Write-error on swap-device (vda:2056)",
                        "swap: write error at entry 0x2020: slot 257 retired",
                        "Read-error on swap-device (vda:2048)",
                        "Read-error on swap-device (vda:2560)",
                        "(test_swaperr): killed by SIGBUS (swap read error): read at 0x",
                        "(test_swaperr32): killed by SIGBUS (swap read error): read at 0x"],
             must_not_show=["not ok", "KERNEL PANIC", "KERNEL OOPS"]),
        Boot("oom", mem="128M", cmdline="init=/bin/test_swapout -- oom",
             expect="text", wait_for=["init: exited"], timeout=300,
             must_show=["Out of memory: Killed process", "ok - oom_killer_kills_the_big_one",
                        "ok - oom_small_one_survives",
                        "init: exited with status 0"],
             must_not_show=["not ok", "KERNEL PANIC", "KERNEL OOPS"]),
        Boot("swap-refused", mem="512M", cmdline="ktest=swap_ramdisk swap=vda",
             disks=lambda work: make_swap_disks(work, formatted=False),
             must_show=["swap=vda: /dev/vda refused (error -22): no swap signature"],
             must_not_show=["Adding 65532k swap"]),
        Boot("bad-vfree-panics", cmdline="ktest=all ktest.crash=vfree", expect="fail",
             must_show=["was not allocated (no area there: already freed?)",
                        "KERNEL PANIC: vfree(0x", "): bad pointer", "<kmain_late+"]),
    ]


def run_boot(b, build, logs):
    work = os.path.join(logs, b.name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    img = os.path.join(build, "esp.img")
    if b.cmdline is not None or b.replace or b.delete:
        img = qemu.image_with_cmdline(img, os.path.join(work, "esp.img"), b.cmdline,
                                      replace=b.replace, delete=b.delete)
    shot = os.path.join(work, "screen.ppm") if b.screen else None
    disks = b.disks(work) if b.disks else ()
    numa = qemu.parse_numa(b.numa, b.mem) if b.numa else None
    r = qemu.boot(img, mem=b.mem, timeout=b.timeout, usb=b.usb,
                  wait_for=b.wait_for, screendump=shot, workdir=work, disks=disks,
                  numa=numa, smp=b.smp)
    for disk in disks:
        os.remove(disk[1])
    with open(os.path.join(logs, b.name + ".log"), "w") as f:
        f.write(r.log)
    if img != os.path.join(build, "esp.img"):
        os.remove(img)
    return b, r, shot


def judge(rep, b, r, shot, build):
    name = "boot/" + b.name
    problems = []
    lines = [ln.rstrip("\r") for ln in r.log.splitlines()]
    results = [RESULT_RE.match(ln) for ln in lines]
    results = [m for m in results if m]
    summary = SUMMARY_RE.findall("\n".join(lines))

    if b.expect in ("pass", "poweroff"):
        if r.status != b.expect:
            problems.append({"fail": "the kernel reported failures",
                             "hang": "no exit within %d s (hang)" % b.timeout,
                             "reset": "the machine reset (triple fault or reboot)",
                             "qemu-error": "QEMU failed (exit %s)" % r.exit_code,
                             }.get(r.status, r.status))
        if not summary:
            problems.append("no 'N passed, N failed' summary line in the log")
        elif int(summary[-1][1]) != 0 or int(summary[-1][0]) != \
                sum(1 for m in results if m.group(1) == "ok"):
            problems.append("summary %s passed, %s failed does not match the cases"
                            % summary[-1])
    elif b.expect == "fail":
        if r.status != "fail":
            problems.append("expected the harness to see a failure, got '%s'" % r.status)
    else:
        # stopped by us once the text appeared, or the kernel powered off
        # (init exited with status 0) before we looked
        if r.status not in ("killed", "pass"):
            problems.append("expected to stop on %r, got '%s'" % (b.wait_for, r.status))
    for s in b.must_show:
        if s not in r.log:
            problems.append("log lacks %r" % s)
    for s in b.must_not_show:
        if s in r.log:
            problems.append("log shows %r" % s)
    if b.screen:
        if not shot or not os.path.exists(shot):
            problems.append("no screendump was taken")
        else:
            problems += ["screen: " + p for p in screencheck.check(
                shot, os.path.join(build, "font.psf"), r.log,
                screencheck.kernel_title(os.path.join(HERE, "..")), b.screen)]

    # Every in-kernel case is reported too, under the boot's name; in a boot
    # expected to fail, only the boot's own verdict counts.
    if b.expect != "fail":
        for m in results:
            rep.case(m.group(1) == "ok", "%s/%s" % (b.name, m.group(2)), m.group(3) or "")
    rep.case(not problems, name + " (%s, %.1f s)" % (r.status, r.elapsed),
             "; ".join(problems), "" if not problems else "serial log tail:\n" + r.tail(25))


# ---- user programs ------------------------------------------------------------

USER_MEM = "512M"
USER_TIMEOUT = 900
INIT_END_RE = re.compile(r"^init: (exited with status|killed by signal) (\d+)\s*$", re.M)


def run_user_programs(rep, build, logs, smp=4):
    """The user programs of tests/user/ (docs/user-programs.md): each one
    natively on the host first, which makes the oracle (build/user-oracle/),
    then all of them in a single boot of mmk under `init=/bin/init -- test`,
    whose COM2 output is cut at init's marker lines; each piece must match
    the program's host run, end the same way and leak nothing.
    MMK_USER_TESTS=0 skips the step (e.g. while working on the kernel alone)."""
    if os.environ.get("MMK_USER_TESTS") == "0":
        print("# user programs not run (MMK_USER_TESTS=0)", flush=True)
        return
    sys.path.insert(0, os.path.join(HERE, "user"))
    import run_host as oracle  # noqa: E402
    names = oracle.program_list(build)
    odir = os.path.join(build, "user-oracle")
    os.makedirs(odir, exist_ok=True)
    for n in names:
        ok, why, detail = oracle.run_native(build, n, odir)
        rep.case(ok, "user-host/" + n, why, detail)

    work = os.path.join(logs, "user-programs")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    img = qemu.image_with_cmdline(os.path.join(build, "esp.img"), os.path.join(work, "esp.img"),
                                  # the mirror readable: test_pte32 reads its PTEs
                                  "compat32.mirror=ro init=/bin/init -- test")
    # Four CPUs by default (docs/smp.md): the programs and their threads run
    # on all of them at once; `make test SMP=1` runs them on one.
    r = qemu.boot(img, mem=USER_MEM, timeout=USER_TIMEOUT, workdir=work, serial2=True,
                  stop_on=["Halted.", "System halted."], smp=smp)
    os.remove(img)
    with open(os.path.join(logs, "user-programs.log"), "w") as f:
        f.write(r.log)
    with open(os.path.join(logs, "user-programs.out"), "w") as f:
        f.write(r.out)
    boot_name = "boot/user-programs (%s, %.1f s)" % (r.status, r.elapsed)
    ends = INIT_END_RE.findall(r.log)
    if not ends:
        rep.case(False, boot_name, "no 'init: exited' line: the kernel did not run init to "
                 "its end", "serial log tail:\n" + r.tail(25))
        for n in names:
            rep.case(False, "user/" + n, "not run")
        return
    runs = oracle.split_runs(r.out)
    for n in names:
        problems, detail = oracle.judge(n, runs.get(n), odir)
        rep.case(not problems, "user/" + n, "; ".join(problems), detail)
    how, code = ends[-1]
    problems = []
    if not (how.startswith("exited") and code == "0" and r.status == "pass"):
        problems.append("init: %s %s" % (how, code))
    # The kernel log goes to every serial port, COM2 too until programs
    # write there (docs/consoles.md).
    with open(os.path.join(work, "serial2.log"), "rb") as f:
        com2 = f.read()
    marker = com2.find(qemu.COM2_MARKER)
    if marker < 0 or b"consoles: serial COM1, COM2" not in com2[:marker]:
        problems.append("COM2 lacks the kernel log before the process-output marker")
    if "=== done:" not in r.out:
        problems.append("no '=== done' line on COM2: init did not run in test mode (are the "
                        "words after -- passed to init?)")
    rep.case(not problems, boot_name, "; ".join(problems), "serial log tail:\n" + r.tail(25))


def run_session(rep, build, logs, name):
    """tests/NAME_session.py: a user typing at the console terminal
    (docs/terminal.md): "tty" plays with the line discipline, "shell"
    with busybox's shell; its "ok - NAME/..." lines become cases."""
    p = subprocess.run([sys.executable, os.path.join(HERE, name + "_session.py"),
                        "--build", build], capture_output=True, text=True, timeout=600)
    with open(os.path.join(logs, name + "-session.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    seen = 0
    for line in p.stdout.splitlines():
        m = RESULT_RE.match(line)
        if m:
            seen += 1
            rep.case(m.group(1) == "ok", m.group(2), m.group(3) or "")
    if seen == 0 or p.returncode != 0 and "not ok" not in p.stdout:
        rep.case(False, name + "/session", "exit status %d" % p.returncode,
                 (p.stdout + p.stderr)[-2000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", help="run only the boots whose name contains this")
    ap.add_argument("--no-host", action="store_true")
    ap.add_argument("--numa", type=int, metavar="N",
                    help="boot with N equal NUMA nodes (CPUs on node 0 only) every boot "
                         "that has no layout of its own (make test NUMA=N)")
    ap.add_argument("--smp", type=int, metavar="N",
                    help="CPUs of the boots that have one, and of the user programs' (4 by "
                         "default); make test SMP=N")
    ap.add_argument("host", nargs="*", help="host test binaries")
    a = ap.parse_args()

    rep = Report()
    start = time.time()
    if not a.no_host:
        run_host(rep, a.host, a.build)
        usb = os.path.join(HERE, "usb_refusals.sh")
        if os.path.exists(usb):
            p = subprocess.run(["sh", usb], capture_output=True, text=True)
            for line in p.stdout.splitlines():
                m = RESULT_RE.match(line)
                if m:
                    rep.case(m.group(1) == "ok", "usb/" + m.group(2), m.group(3) or "")
            if p.returncode != 0 and "not ok" not in p.stdout:
                rep.case(False, "usb/refusals", "exit status %d" % p.returncode,
                         p.stderr[-2000:])
        run_docs_check(rep)

    logs = os.path.join(a.build, "test-logs")
    os.makedirs(logs, exist_ok=True)
    bad = make_bad_files(logs, a.build)
    todo = [b for b in boots(bad) if not a.only or a.only in b.name]
    if a.smp:
        for b in todo:
            if b.smp == 1:
                b.smp = a.smp
    if a.numa:
        for b in todo:
            if b.numa is None and qemu._mib(b.mem) % a.numa == 0:
                size = qemu._mib(b.mem) // a.numa
                # The boot's CPUs all on node 0 (a boot with smp=4 keeps four).
                b.numa = ",".join(["%dM/%d" % (size, b.smp)] + ["%dM/0" % size] * (a.numa - 1))
                b.must_show = [m for m in b.must_show if "no SRAT" not in m]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futs = [pool.submit(run_boot, b, a.build, logs) for b in todo]
        for fut in futs:
            b, r, shot = fut.result()
            judge(rep, b, r, shot, a.build)
    if not a.only or a.only in "user-programs":
        run_user_programs(rep, a.build, logs, a.smp or 4)
    for session in ("tty", "shell"):
        if not a.only or a.only in session + "-session":
            run_session(rep, a.build, logs, session)

    print("# %.0f s; logs in %s" % (time.time() - start, logs))
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    sys.exit(1 if rep.failed else 0)


if __name__ == "__main__":
    main()
