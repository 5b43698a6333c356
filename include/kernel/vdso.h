/*
 * The vDSO (kernel/vdso/vdso.c, docs/time.md): a small ELF shared object
 * built with the kernel, mapped into every process by exec, found by C
 * libraries through AT_SYSINFO_EHDR.
 */
#ifndef KERNEL_VDSO_H
#define KERNEL_VDSO_H

#include <kernel/types.h>

struct mm;
struct vm_file;

/*
 * Map the vDSO for a 64-bit (is32 false) or i386 program into mm, where
 * mmap would put a mapping without a hint: *base gets its address (the
 * ELF header: AT_SYSINFO_EHDR), *vsyscall the i386 __kernel_vsyscall
 * (AT_SYSINFO; 0 for 64-bit).  Both 0 when the image is broken (no vDSO,
 * not an error).  mm_mmap's errors (-ENOMEM).
 */
int vdso_map(struct mm *mm, bool is32, uint64_t *base, uint64_t *vsyscall);
/*
 * Where an i386 signal handler without SA_RESTORER returns: the address
 * of __kernel_sigreturn (rt false) or __kernel_rt_sigreturn in mm's vDSO
 * mapping, or 0 when mm has none (unmapped: the frame's own code is used,
 * as Linux does without a vDSO).
 */
uint64_t vdso_sigreturn32(struct mm *mm, bool rt);
/* The image itself (checked), or NULL when it is broken: for the in-kernel test. */
const struct vm_file *vdso_image(bool is32);

#endif
