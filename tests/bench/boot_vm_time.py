#!/usr/bin/env python3
"""make bench, QEMU part for the virtual layer: boot once with `bench` on the
command line and print what kernel/test/bench.c measured (TSC ticks under
TCG): kmalloc and vmalloc, fork+exit with copy-on-write against an eager
copy, demand-zero and copy-on-write faults, 64-bit and 32-bit, each as the
median of per-round ratios to a reference measured in the same round, page
migration and the evacuation of the DMA zone, swap I/O against the raw disk
(a fresh swap disk as vda, swap=vda); then its target lines.  A second
boot, with four CPUs, measures a TLB shootdown and the page allocator on
several CPUs at once (`bench=smp`, kernel/test/bench_smp.c): the other
figures stay those of one CPU.

    python3 tests/bench/boot_vm_time.py BUILD [migrate|swap|smp]

With `migrate`, the boot runs only the migration figures (`bench=migrate`);
with `swap`, only the swap I/O figures (`bench=swap`); with `smp`, only the
four-CPU boot."""
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import qemu  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
only = sys.argv[2] if len(sys.argv) > 2 else ""
if only not in ("", "migrate", "swap", "smp"):
    sys.exit("usage: boot_vm_time.py BUILD [migrate|swap|smp]")
work = os.path.join(build, "bench", "boot-vm" + ("-" + only if only else ""))
os.makedirs(work, exist_ok=True)
# A fresh 64 MiB swap disk for the swap I/O figures (kernel/test/bench_swap.c).
swap = os.path.join(work, "swap.img")
with open(swap, "wb") as f:
    f.write(bytes(64 << 20))        # written, not sparse: no block allocation in the timings
    f.flush()
    os.fsync(f.fileno())            # and on the disk: no host writeback during them
subprocess.run([shutil.which("mkswap") or "/sbin/mkswap", swap], check=True,
               capture_output=True)


def bench_boot(cmdline, name, **kw):
    """One boot with `cmdline`: its bench lines (exits when there are none)."""
    img = qemu.image_with_cmdline(os.path.join(build, "esp.img"),
                                  os.path.join(work, name + ".img"), cmdline)
    r = qemu.boot(img, mem="1G", timeout=300, wait_for=["bench: done"], workdir=work, **kw)
    lines = [ln for ln in r.log.splitlines() if ln.startswith("bench: ") and "done" not in ln]
    if not lines:
        print("no bench lines in the log of %s (%s); tail:\n%s" % (name, r.status, r.tail(20)))
        sys.exit(1)
    return lines


lines = []
if only != "smp":
    lines += bench_boot(("bench=" + only if only else "bench") + " swap=vda", "esp",
                        disks=[("virtio", swap)])
if only in ("", "smp"):
    lines += bench_boot("bench=smp", "esp-smp4", smp=4)
print("\nIn QEMU (TCG): the virtual layer, TSC ticks")
figures = [ln[len("bench: "):] for ln in lines]
for ln in figures:
    if not ln.startswith("target "):
        print("  " + ln)
for ln in figures:
    if ln.startswith("target "):
        print(ln)
