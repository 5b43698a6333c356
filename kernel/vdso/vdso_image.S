/*
 * The two vDSO images, built by the Makefile from kernel/vdso/vdso64.S
 * and vdso32.S as small ELF shared objects, embedded here in .rodata,
 * each page aligned (kernel/vdso/vdso.c maps them into processes).
 * VDSO64_FILE and VDSO32_FILE are their paths (the Makefile defines them).
 */
    .section .rodata, "a"
    .balign 4096
    .globl vdso64_image, vdso64_image_end
vdso64_image:
    .incbin VDSO64_FILE
vdso64_image_end:

    .balign 4096
    .globl vdso32_image, vdso32_image_end
vdso32_image:
    .incbin VDSO32_FILE
vdso32_image_end:

    .section .note.GNU-stack, "", @progbits
