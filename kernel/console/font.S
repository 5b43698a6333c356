/* The console font, a PSF file from Debian's console-setup package,
 * decompressed by the Makefile (see tools/get-font.sh). */
    .section .rodata
    .balign 16
    .global font_psf_start, font_psf_end
font_psf_start:
    .incbin FONT_FILE
font_psf_end:
    .byte 0
