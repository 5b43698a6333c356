#!/usr/bin/env python3
"""Write the ELF files test_badelf hands to execve, into one directory.

    python3 tests/user/mkbadelf.py DIR

The Makefile puts DIR (build/user/badelf) into the initrd as /badelf; the
host oracle passes the same directory to test_badelf.  One well-formed
program (`good`: exit(42) in 12 bytes of code) is the control, and every
other file is that program broken in one way.  DIR/MANIFEST lists them,
one "name expectation" per line, in the order test_badelf runs them:

  run42    must run and exit with 42 (the control)
  enoexec  execve fails with ENOEXEC, on Linux and on mmk
  refused  execve fails: ENOEXEC on mmk; some Linux versions say EIO when
           they cannot read the program headers, so EIO is also accepted
           on the host (Linux 6.18 says ENOEXEC)
  not_run  the code must never run: execve fails with ENOEXEC, or the
           process is killed before its first instruction (Linux finds
           some errors only after the point of no return of execve and
           kills the process with SIGSEGV or SIGBUS); on mmk ENOEXEC is
           required: mmk checks the whole file before the old image is
           dropped (docs/exec.md)
  no_entry nothing is mapped at the entry point: refused (ENOEXEC) or
           killed with SIGSEGV at the first instruction, on either system
  mmk_enoexec  ENOEXEC on mmk; anything on Linux.  For i386 files with a
           segment at or above 0xffc00000, where every 32-bit process on
           mmk sees its own page tables (docs/compat32.md): Linux's i386
           user space goes on up to 0xffffe000, so it may run the program,
           or refuse it when the segment meets its (randomly placed) stack

The i386 files (names ending in 32) hold the same program for i386
(exit_group(42) through int 0x80), so that a 64-bit and a 32-bit
test_badelf each start the other class too.

Every broken file still holds the exit(42) code, so a kernel that runs one
anyway is caught by its exit status.

Left out on purpose, because Linux runs them: a wrong EI_CLASS, EI_DATA or
EI_VERSION byte with an x86-64 e_machine (Linux looks at e_machine only),
and a huge p_memsz (whether a lazy bss of 64 TiB is refused is a policy,
not a rule of the format).
"""
import os
import struct
import sys

BASE = 0x400000
EHDR = 64
PHDR = 56
# mov edi, 42; mov eax, 231 (exit_group); syscall
CODE = bytes.fromhex("bf2a000000" "b8e7000000" "0f05")


def ehdr(entry, phoff=EHDR, phnum=1, phentsize=PHDR, ident=None, etype=2, machine=62):
    ident = ident or (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8))
    return ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, phoff, 0, 0,
                               EHDR, phentsize, phnum, 64, 0, 0)


def phdr(ptype=1, flags=5, offset=0, vaddr=BASE, filesz=None, memsz=None, align=0x1000):
    filesz = EHDR + PHDR + len(CODE) if filesz is None else filesz
    memsz = filesz if memsz is None else memsz
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, vaddr, filesz, memsz, align)


def good(**kw):
    return ehdr(BASE + EHDR + PHDR, **kw) + phdr() + CODE


def segment_at(vaddr):
    return ehdr(vaddr + EHDR + PHDR) + phdr(vaddr=vaddr) + CODE


def truncated_segment():
    # The code lives in a second page of the file, which is cut off.
    entry = BASE + 0x1000
    head = ehdr(entry) + phdr(offset=0x1000, vaddr=entry, filesz=len(CODE))
    return head + bytes(0x800 - len(head))


# The same for i386 (ELF32): mov ebx, 42; mov eax, 252 (exit_group); int 0x80
BASE32 = 0x08048000
EHDR32 = 52
PHDR32 = 32
CODE32 = bytes.fromhex("bb2a000000" "b8fc000000" "cd80")


def ehdr32(entry):
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, EHDR32, 0, 0, EHDR32, PHDR32,
                               1, 40, 0, 0)


def segment32_at(vaddr, memsz=None):
    filesz = EHDR32 + PHDR32 + len(CODE32)
    memsz = filesz if memsz is None else memsz
    return (ehdr32(vaddr + EHDR32 + PHDR32) +
            struct.pack("<IIIIIIII", 1, 0, vaddr, vaddr, filesz, memsz, 5, 0x1000) + CODE32)


FILES = [
    ("good", "run42", good()),
    ("empty", "enoexec", b""),
    ("bad_magic", "enoexec", b"\x7fELG" + good()[4:]),
    ("truncated_header", "enoexec", good()[:40]),
    ("wrong_machine_ia64", "enoexec", good(machine=50)),
    ("wrong_machine_i386_in_elf64", "enoexec", good(machine=3)),
    ("relocatable_not_executable", "enoexec", good(etype=1)),
    ("core_file", "enoexec", good(etype=4)),
    ("bad_phentsize", "enoexec", good(phentsize=32)),
    ("too_many_phdrs", "enoexec", good(phnum=0xffff)),
    ("no_phdrs", "enoexec", good(phnum=0)),
    ("truncated_phdrs", "refused", good()[:EHDR + 20]),
    ("phdrs_past_eof", "refused", good(phoff=0x10000)),
    ("truncated_segment", "not_run", truncated_segment()),
    ("segment_in_kernel_half", "not_run", segment_at(0xffff800000000000)),
    ("segment_non_canonical", "not_run", segment_at(0x0000800000000000)),
    ("segment_crossing_user_end", "not_run", segment_at(0x00007ffffffff000)),
    ("filesz_above_memsz", "not_run", ehdr(BASE + EHDR + PHDR) +
     phdr(filesz=EHDR + PHDR + len(CODE), memsz=16) + CODE),
    ("memsz_wraps_around", "not_run", ehdr(BASE + EHDR + PHDR) +
     phdr(memsz=(1 << 64) - 0x1000) + CODE),
    ("offset_vaddr_misaligned", "not_run", ehdr(BASE + 0x10 + EHDR + PHDR) +
     phdr(vaddr=BASE + 0x10) + CODE),
    ("entry_outside_segments", "no_entry", ehdr(0x10000000) + phdr() + CODE),
    ("no_load_segment", "no_entry", ehdr(BASE + EHDR + PHDR) + phdr(ptype=4) + CODE),
    ("good32", "run42", segment32_at(BASE32)),
    ("segment_above_user_end32", "not_run", segment32_at(0xfffff000)),
    ("segment_crossing_mirror32", "mmk_enoexec", segment32_at(0xffbff000, memsz=0x2000)),
    ("segment_in_mirror32", "mmk_enoexec", segment32_at(0xffd00000)),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkbadelf.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, _, data in FILES:
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o755)
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        for name, expect, _ in FILES:
            f.write("%s %s\n" % (name, expect))


if __name__ == "__main__":
    main()
