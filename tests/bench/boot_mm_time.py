#!/usr/bin/env python3
"""make bench, QEMU part: boot at 1 GiB and 16 GiB and print the time mm_init
took to build the frame descriptors and free lists (TSC ticks, from the boot
log).  The figure per GiB should stay about the same: the work is linear in
the number of frames."""
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import qemu  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
print("\nIn QEMU (TCG): building descriptors and free lists at boot")
print("%-8s %14s %10s %16s" % ("memory", "TSC ticks", "GiB", "ticks per GiB"))
rows = []
for mem in ("1G", "16G"):
    r = qemu.boot(os.path.join(build, "esp.img"), mem=mem, timeout=180,
                  wait_for=["Halted."], workdir=os.path.join(build, "bench", "boot-" + mem))
    m = re.search(r"built in (\d+) TSC ticks for ([\d.]+) GiB \((\d+) ticks per GiB\)", r.log)
    if not m:
        print("%-8s no mm_init timing line in the log (%s)" % (mem, r.status))
        sys.exit(1)
    rows.append(int(m.group(3)))
    print("%-8s %14s %10s %16s" % (mem, m.group(1), m.group(2), m.group(3)))
print("per-GiB ratio 16G/1G: %.2f (1.0 = perfectly linear)" % (rows[1] / rows[0]))
