#!/usr/bin/env python3
"""Turn `llvm-nm -n --defined-only kernel` output into the assembly of the
kernel's .ksyms section: count, sorted (address, name offset) pairs, names.
Only text symbols (t/T) are kept: an oops names functions."""
import sys

syms = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) != 3 or parts[1] not in ("t", "T"):
        continue
    addr, name = int(parts[0], 16), parts[2]
    if name.startswith(".L") or name.startswith("__") or name.endswith("_end"):
        continue  # local labels, linker markers, end-of-block markers
    syms.append((addr, name))
syms.sort()

out = ['    .section .ksyms, "a"', "    .balign 8",
       "    .global ksyms_count, ksyms_entries, ksyms_names",
       "ksyms_count:", f"    .quad {len(syms)}", "ksyms_entries:"]
off = 0
for addr, name in syms:
    out.append(f"    .quad 0x{addr:x}, {off}")
    off += len(name) + 1
out.append("ksyms_names:")
for _, name in syms:
    out.append(f'    .asciz "{name}"')
print("\n".join(out))
