/* Placeholder symbol table for the first kernel link (see kernel/console/ksyms.c). */
    .section .ksyms, "a"
    .balign 8
    .global ksyms_count, ksyms_entries, ksyms_names
ksyms_count:
    .quad 0
ksyms_entries:
ksyms_names:
    .byte 0
