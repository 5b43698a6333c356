# mmk: one Makefile for the loader, the kernel, the image and the tests.
#
#   make            build/esp.img (GPT disk image with the EFI system partition)
#   make run        boot it in QEMU+OVMF, serial console here (GUI=1 for a window)
#   make test       host unit tests, then the QEMU boots; ends "N passed, N failed"
#   make gdb        QEMU waiting for gdb on :1234, with the kernel's symbols
#   make run-elf ELF=path [ARGS="..."]   that static program as PID 1; its output
#                   on stdout, the kernel log in build/run-elf.log (VERBOSE=1: stderr)
#   make user-oracle   run the user programs natively: build/user-oracle/
#   make usb DEV=/dev/sdX   write the image to a USB stick (with safety checks)
#   make clean
#
# Knobs: DEBUG=1 (no optimisation; `make clean` first), CMDLINE="...", MEM=1G, GUI=1.
#        run and run-elf: SWAP=512M (a fresh swap disk, vda), DISKS="virtio:PATH nvme:PATH".
#        run and run-elf: NUMA=2G,4G:dist=0-1=21 (NUMA nodes; tools/qemu.py --numa);
#        test: NUMA=N (N equal nodes in every boot without a layout of its own).

BUILD   := build
# Build with one job per CPU unless the caller chose (make -jN).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif
DEBUG   ?= 0
MEM     ?= 1G
CMDLINE ?=

# ---- dependencies: install them when a tool is missing -------------------

NEEDED_TOOLS := clang ld.lld lld-link llvm-nm qemu-system-x86_64 mformat mcopy \
                sgdisk cpio python3 gzip musl-gcc
# Debian's static busybox (glibc), 64-bit and i386: the shell and its applets
# in the initrd (tools/install-deps.sh unpacks the i386 one).
BUSYBOX     := /bin/busybox
BUSYBOX32   := /usr/local/lib/mmk/i386/busybox
NEEDED_FILES := /usr/include/efi/efi.h /usr/share/OVMF/OVMF_CODE_4M.fd \
                /usr/share/OVMF/OVMF_VARS_4M.fd $(BUSYBOX) $(BUSYBOX32)
MISSING := $(strip $(foreach t,$(NEEDED_TOOLS),$(if $(shell command -v $(t)),,$(t))) \
                   $(foreach f,$(NEEDED_FILES),$(if $(wildcard $(f)),,$(f))))
ifneq ($(MISSING),)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(info Missing: $(MISSING); running tools/install-deps.sh)
$(shell $(SUDO) sh tools/install-deps.sh >&2)
endif

# ---- flags ------------------------------------------------------------------

OPT := $(if $(filter 1,$(DEBUG)),-O0,-O2)
WARN := -Wall -Wextra -Werror

EFI_CFLAGS := --target=x86_64-unknown-windows -ffreestanding -fshort-wchar \
              -mno-red-zone -fno-stack-protector -fno-builtin $(OPT) $(WARN) \
              -I/usr/include/efi -I/usr/include/efi/x86_64 -Iinclude -Iefi
EFI_LDFLAGS := -subsystem:efi_application -entry:efi_main -nodefaultlib

# -Wframe-larger-than: no function may move the stack pointer by more than
# half the 4 KiB guard page below each kernel stack, so an overflow always
# touches the guard page instead of jumping over it.
KERNEL_CFLAGS := --target=x86_64-unknown-none-elf -std=gnu11 -ffreestanding \
                 -fno-builtin -nostdlib -mcmodel=kernel -mno-red-zone \
                 -mno-mmx -mno-sse -mno-sse2 -mno-avx -fno-pic -fno-pie \
                 -fno-stack-protector -fno-omit-frame-pointer \
                 -mno-omit-leaf-frame-pointer \
                 -Wframe-larger-than=2048 -g $(OPT) $(WARN) -Iinclude \
                 $(if $(filter 1,$(DEBUG)),-DDEBUG=1)
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=4096 -T kernel/boot/linker.ld

HOST_CC     := clang
HOST_CFLAGS := -std=gnu11 -g -O1 -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) \
               -Iinclude -Iefi -DHOST_TEST=1 -DDEBUG=1

# ---- sources (explicit lists) ---------------------------------------------------

EFI_SRCS := efi/main.c efi/kelf.c efi/la57.c kernel/lib/string.c

# The kernel, room by room (the README's layout table says what each holds).
KERNEL_SRCS := kernel/boot/entry.S kernel/boot/main.c kernel/boot/cmdline.c \
               kernel/boot/options.c kernel/boot/bootmap.c \
               kernel/cpu/gdt.c kernel/cpu/idt.c kernel/cpu/isr.S kernel/cpu/trap.c \
               kernel/cpu/catch.S kernel/cpu/cpufeature.c kernel/cpu/apic.c kernel/cpu/switch.S \
               kernel/cpu/smpboot.c kernel/cpu/percpu.c kernel/cpu/trampoline.S kernel/acpi/madt.c \
               kernel/cpu/smp_call.c kernel/cpu/tlb_shootdown.c kernel/cpu/smp_drain.c \
               kernel/cpu/rtc.c kernel/lib/rtc_time.c kernel/proc/timekeeping.c \
               kernel/vdso/vdso.c kernel/vdso/vdso_image.S \
               kernel/console/serial.c kernel/console/fbcon.c kernel/console/font.S \
               kernel/console/printk.c kernel/console/panic.c kernel/console/ksyms.c \
               kernel/console/psf.c kernel/console/tty.c kernel/console/console_tty.c \
               kernel/console/keyboard.c kernel/console/keymap.c kernel/cpu/ioapic.c \
               kernel/console/memview.c \
               kernel/acpi/tables.c kernel/acpi/srat.c kernel/acpi/acpi_boot.c mm/numa_order.c mm/numa.c \
               kernel/proc/session.c \
               kernel/lib/string.c kernel/lib/vsnprintf.c kernel/lib/spinlock.c \
               kernel/proc/task.c kernel/proc/kernel_lock.c kernel/proc/kthread.c kernel/proc/exit.c kernel/proc/fork.c \
               kernel/proc/exec.c \
               kernel/proc/elf_user.c kernel/proc/user_stack.c kernel/proc/syscall.c \
               kernel/proc/sys_proc.c kernel/proc/sys_mm.c kernel/proc/user_trap.c \
               kernel/proc/uaccess.c kernel/proc/signal.c \
               kernel/proc/sig_action.c kernel/proc/sig_deliver.c kernel/proc/sig_frame.c \
               kernel/proc/sig_sys.c kernel/proc/sig_wait.c \
               kernel/fs/file.c kernel/fs/console_file.c kernel/fs/initrd_fs.c kernel/fs/pipe.c \
               kernel/fs/procfs.c kernel/fs/proc_pid.c kernel/fs/proc_fd.c kernel/fs/proc_sys.c \
               kernel/fs/sysfs.c \
               kernel/fs/proc_kstat.c kernel/fs/sys_file.c kernel/fs/cpio.c \
               kernel/fs/proc_rw.c kernel/fs/proc_sysctl.c kernel/fs/proc_vmstat.c \
               kernel/fs/proc_pagemap.c kernel/fs/proc_kpage.c \
               kernel/fs/inode.c kernel/fs/pagecache.c kernel/fs/dir.c kernel/fs/namei.c \
               kernel/fs/tmpfs.c kernel/fs/tmpfs_file.c kernel/fs/open.c kernel/fs/chrdev.c \
               kernel/fs/sys_namei.c kernel/fs/sys_attr.c kernel/fs/sys_dir.c \
               kernel/fs/tmpfs_check.c kernel/fs/tmpfs_mmap.c kernel/fs/tmpfs_swap.c kernel/proc/exec_file.c compat32/sys32_fs.c \
               kernel/test/ktest.c kernel/test/bench.c kernel/test/bench_swap.c kernel/test/bench_smp.c \
               mm/memmap.c mm/buddy.c mm/page_alloc.c mm/zone.c mm/contig.c \
               mm/isolate.c mm/vm_event.c mm/evacuate.c mm/compaction.c \
               mm/mmstat.c mm/bootmem.c mm/mem_place.c mm/release.c \
               mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c mm/tlb.c \
               mm/kernel_pt.c mm/fault_explain.c \
               mm/slab.c mm/slab_debug.c mm/slab_stat.c mm/kmalloc.c \
               mm/vmalloc.c mm/vmalloc_check.c mm/vmalloc_kernel.c mm/kmap.c \
               mm/vma.c mm/vma_check.c mm/mmap.c mm/user_fault.c mm/mm_fork.c \
               mm/mremap.c mm/stack.c mm/filemap.c mm/vmstat.c mm/rmap.c mm/migrate.c \
               mm/mempolicy.c mm/mempolicy_sys.c mm/mempolicy_move.c kernel/fs/proc_numa_maps.c \
               mm/swap_state.c mm/swap_fault.c mm/vmscan.c mm/kswapd.c mm/oom_kill.c mm/madvise_pageout.c \
               mm/swap_io.c mm/swap_cluster.c mm/swap_readahead.c \
               compat32/pt_i386.c compat32/mmu32.c \
               tests/kernel/test_boot.c tests/kernel/test_traps.c \
               tests/kernel/test_fbcon.c tests/kernel/test_memview.c tests/kernel/test_pmm.c \
               tests/kernel/test_vm.c tests/kernel/test_slab.c tests/kernel/test_compat32.c \
               tests/kernel/test_pgtable.c tests/kernel/test_migrate.c tests/kernel/test_kmap.c \
               tests/kernel/test_numa.c tests/kernel/test_smp.c \
               tests/shared/pt_harness.c tests/shared/pt_cases.c \
               tests/shared/pt_cases_inplace.c \
               tests/shared/pt_raw.c tests/shared/pt_desc_x86_64.c tests/shared/pt_desc_i386.c

HOST_TESTS := tests/host/test_kelf tests/host/test_printf \
              tests/host/test_cmdline tests/host/test_memmap tests/host/test_buddy \
              tests/host/test_pgtable tests/host/test_slab tests/host/test_file \
              tests/host/test_sys_file tests/host/test_vma
HOST_TESTS += tests/host/test_tmpfs
HOST_TESTS += tests/host/test_cpio tests/host/test_elf_user tests/host/test_user_stack
HOST_TESTS += tests/host/test_pt_i386
HOST_TESTS += tests/host/test_mmu32
HOST_TESTS += tests/host/test_mem_place
HOST_TESTS += tests/host/test_vmalloc
HOST_TESTS += tests/host/test_tty
HOST_TESTS += tests/host/test_procfs
HOST_TESTS += tests/host/test_sysfs
HOST_TESTS += tests/host/test_rtc_time
HOST_TESTS += tests/host/test_filemap
HOST_TESTS += tests/host/test_rmap
HOST_TESTS += tests/host/test_mempolicy
HOST_TESTS += tests/host/test_swap
HOST_TESTS += tests/host/test_reclaim
HOST_TESTS += tests/host/test_gpt
HOST_TESTS += tests/host/test_acpi
HOST_TESTS += tests/host/test_madt
HOST_TESTS += tests/host/test_numa
HOST_TESTS += tests/host/test_realpc

# compat32, the ABI half (docs/compat32-abi.md): int 0x80, the i386 table and
# its translated structures, set_thread_area, the 32-bit address space.
KERNEL_SRCS += compat32/syscall32.c compat32/sys32.c compat32/sys32_file.c \
               compat32/tls32.c
KERNEL_SRCS += compat32/signal32.c compat32/sigframe32.c
KERNEL_SRCS += compat32/sys32_time.c
# clone/vfork and the calls beside it (docs/syscalls.md).
KERNEL_SRCS += kernel/proc/syscall_names.c kernel/proc/sys_ids.c kernel/proc/sys_rlimit.c \
               kernel/proc/sys_sysinfo.c kernel/proc/sys_time.c kernel/proc/sys_prctl.c \
               kernel/proc/sys_futex.c kernel/proc/thread_group.c kernel/fs/poll.c \
               kernel/fs/sendfile.c kernel/fs/fcntl.c \
               compat32/syscall32_names.c compat32/sys32_sys.c tests/kernel/test_syscall_table.c
KERNEL_SRCS += tests/kernel/test_time.c
# What real PCs need at boot (docs/boot.md, "What the kernel checks on a real PC").
REALPC_ACPI_SRCS := kernel/acpi/fadt.c kernel/acpi/s5.c kernel/acpi/hpet_table.c kernel/acpi/spcr.c
KERNEL_SRCS += kernel/cpu/calibrate.c kernel/cpu/calibrate_math.c kernel/cpu/hpet.c \
               kernel/cpu/acpi_pm.c kernel/acpi/power.c $(REALPC_ACPI_SRCS) tests/kernel/test_realpc.c \
               kernel/proc/sys_reboot.c
KERNEL_SRCS += kernel/test/bench_fbcon.c tests/kernel/test_irq.c
# Block devices (docs/block.md): the PCI bus, the block layer and GPT, the
# virtio-blk and NVMe drivers.
KERNEL_SRCS += kernel/drivers/pci.c kernel/drivers/virtio_blk.c kernel/drivers/nvme.c \
               kernel/block/blkdev.c kernel/block/gpt.c kernel/lib/crc32.c \
               tests/kernel/test_block.c
# Swap areas and their slots (docs/swap.md).
SWAP_SRCS := mm/swap_header.c mm/swapfile.c mm/swapon.c mm/swap_slots.c mm/swap_check.c
KERNEL_SRCS += $(SWAP_SRCS) kernel/fs/sys_swap.c kernel/fs/blkdev_node.c tests/kernel/test_swap.c \
               tests/kernel/test_reclaim_gfp.c tests/kernel/test_shmem_swap.c

EFI_OBJS    := $(patsubst efi/%.c,$(BUILD)/efi/%.obj,$(patsubst kernel/%.c,$(BUILD)/efi/kernel/%.obj,$(EFI_SRCS)))
KERNEL_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(KERNEL_SRCS)))

.PHONY: all run demo test test-build fuzz gdb usb clean bench run-elf user user-oracle
all: $(BUILD)/esp.img

# ---- the loader ---------------------------------------------------------------------

$(BUILD)/efi/%.obj: efi/%.c include/boot/boot_info.h include/elf.h efi/kelf.h efi/la57.h
	@mkdir -p $(dir $@)
	clang $(EFI_CFLAGS) -c $< -o $@

# The loader shares the kernel's freestanding string functions.
$(BUILD)/efi/kernel/%.obj: kernel/%.c include/kernel/string.h
	@mkdir -p $(dir $@)
	clang $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/BOOTX64.EFI: $(EFI_OBJS)
	lld-link $(EFI_LDFLAGS) -out:$@ $^

# ---- the kernel ---------------------------------------------------------------------

$(BUILD)/font.psf: tools/get-font.sh
	@mkdir -p $(BUILD)
	sh tools/get-font.sh $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	clang $(KERNEL_CFLAGS) -MMD -MP -DFONT_FILE='"$(BUILD)/font.psf"' -c $< -o $@

$(BUILD)/kernel/console/font.o: $(BUILD)/font.psf

# The vDSO (docs/time.md): each build a small ELF shared object, linked at 0
# by kernel/vdso/vdso.lds with Linux's symbol versions, then embedded in the
# kernel's read-only data by kernel/vdso/vdso_image.S.
VDSO_LDFLAGS := -shared --hash-style=both --build-id=none --eh-frame-hdr -z max-page-size=4096 \
                -z noexecstack -T kernel/vdso/vdso.lds
$(BUILD)/vdso/vdso64.so: kernel/vdso/vdso64.S kernel/vdso/vdso.lds kernel/vdso/vdso64.ver
	@mkdir -p $(dir $@)
	clang --target=x86_64-unknown-none-elf $(WARN) -c $< -o $(BUILD)/vdso/vdso64.o
	ld.lld $(VDSO_LDFLAGS) -soname=linux-vdso.so.1 --version-script=kernel/vdso/vdso64.ver \
	    -o $@ $(BUILD)/vdso/vdso64.o
$(BUILD)/vdso/vdso32.so: kernel/vdso/vdso32.S kernel/vdso/vdso.lds kernel/vdso/vdso32.ver
	@mkdir -p $(dir $@)
	clang --target=i386-unknown-none-elf $(WARN) -c $< -o $(BUILD)/vdso/vdso32.o
	ld.lld -m elf_i386 $(VDSO_LDFLAGS) -soname=linux-gate.so.1 -e __kernel_vsyscall \
	    --version-script=kernel/vdso/vdso32.ver -o $@ $(BUILD)/vdso/vdso32.o
$(BUILD)/kernel/vdso/vdso_image.o: kernel/vdso/vdso_image.S $(BUILD)/vdso/vdso64.so \
                                   $(BUILD)/vdso/vdso32.so
	@mkdir -p $(dir $@)
	clang $(KERNEL_CFLAGS) -DVDSO64_FILE='"$(BUILD)/vdso/vdso64.so"' \
	    -DVDSO32_FILE='"$(BUILD)/vdso/vdso32.so"' -c $< -o $@

# Two links: the first with an empty symbol table, whose symbols become the
# table of the second.  .ksyms is last in the image, so nothing else moves;
# the check below makes sure of it.
$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(BUILD)/kernel/console/ksyms_empty.o kernel/boot/linker.ld
	ld.lld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/kernel/console/ksyms_empty.o

$(BUILD)/ksyms.S: $(BUILD)/kernel.pass1.elf tools/mksyms.py
	llvm-nm -n --defined-only $< | python3 tools/mksyms.py > $@

$(BUILD)/ksyms.o: $(BUILD)/ksyms.S
	clang $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(BUILD)/kernel.pass1.elf $(BUILD)/ksyms.o
	ld.lld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	@llvm-nm -n $(BUILD)/kernel.pass1.elf | grep -vi ' [a-z] ksyms_\| [a-z] __ksyms_end\| [a-z] __kernel_end' > $@.syms1
	@llvm-nm -n $@ | grep -vi ' [a-z] ksyms_\| [a-z] __ksyms_end\| [a-z] __kernel_end' > $@.syms2
	@cmp -s $@.syms1 $@.syms2 || { echo "kernel.elf: symbols moved between the two links"; rm -f $@; exit 1; }

# ---- user programs ---------------------------------------------------------------------

# tests/user/X.c becomes build/user/X, a static 64-bit musl program, and /bin/X
# in the initrd; the test_* programs also link tests/user/ut.c.  Every program
# but init is a test: listed in the initrd's /etc/user-tests (the order in
# which `init test` runs them) and compared with its run on the host
# (docs/user-programs.md).  The corrupt ELF files of test_badelf are made by
# tests/user/mkbadelf.py and go to /badelf.
USER_CC     := musl-gcc
USER_CFLAGS := -static -no-pie -O2 -std=gnu11 $(WARN)
USER_TESTS  := ordinary test_exec test_cow test_demand test_brk test_mmap test_faults \
               test_efault test_badelf test_leak test_cowcap test_forkfail test_fpu test_tls
USER_TESTS  += test_tty
USER_TESTS  += test_clone test_poll test_syscalls
USER_TESTS  += test_signal test_sigframe test_sigwait
USER_TESTS  += test_fs
USER_TESTS  += test_proc
USER_TESTS  += test_filemap
USER_TESTS  += test_pagemap
USER_TESTS  += test_time test_mremap test_stack
USER_TESTS  += test_migrate
USER_TESTS  += test_mempolicy test_numa_fallback
USER_TESTS  += test_sysfs_node
USER_TESTS  += test_threads
# test_threads built against glibc too: glibc's pthreads (docs/threads.md)
USER_TESTS  += test_threads_glibc
USER_TESTS  += test_avx test_reboot
USER_TESTS  += test_swapon test_swaperr test_kswapd
# several CPUs at once on one address space, and on many (docs/smp.md)
USER_TESTS  += test_smp
# test_time built against glibc (static, Debian's libc6-dev, which clang
# depends on): glibc's own lookup of the vDSO (docs/time.md)
USER_TESTS  += test_time_glibc
# Programs that are not tests: pagemove (make demo; docs/memview.md).
USER_PROGS  := pagemove
# test_swapout: run by the swap-pressure and oom boots only (tests/run_all.py).
USER_PROGS  += test_swapout
USER_BINS   := $(BUILD)/user/init $(USER_PROGS:%=$(BUILD)/user/%) $(USER_TESTS:%=$(BUILD)/user/%)
BADELF      := $(BUILD)/user/badelf/MANIFEST

$(BUILD)/user/test_%: tests/user/test_%.c tests/user/ut.c tests/user/ut.h
	@mkdir -p $(dir $@)
	$(USER_CC) $(USER_CFLAGS) -o $@ $< tests/user/ut.c

$(BUILD)/user/test_time_glibc: tests/user/test_time.c tests/user/ut.c tests/user/ut.h
	@mkdir -p $(dir $@)
	clang -static -O2 -std=gnu11 $(WARN) -o $@ tests/user/test_time.c tests/user/ut.c

$(BUILD)/user/test_threads_glibc: tests/user/test_threads.c tests/user/ut.c tests/user/ut.h
	@mkdir -p $(dir $@)
	clang -static -O2 -std=gnu11 $(WARN) -pthread -o $@ tests/user/test_threads.c tests/user/ut.c

$(BUILD)/user/%: tests/user/%.c
	@mkdir -p $(dir $@)
	$(USER_CC) $(USER_CFLAGS) -o $@ $<

$(BADELF): tests/user/mkbadelf.py
	python3 $< $(dir $@)

# The same programs built for i386 (clang -m32 against musl's i386 build) go to
# build/user32/X and into the initrd as /bin/X32, listed after the 64-bit ones
# in /etc/user-tests; the host oracle runs the same 32-bit binaries natively
# (docs/compat32-abi.md).  USER32_TESTS would leave out a program that cannot
# pass yet; today it holds them all.
USER32_TESTS := ordinary test_exec test_cow test_demand test_brk test_mmap test_faults \
                test_efault test_badelf test_leak test_cowcap test_forkfail test_fpu test_tls \
                test_pte
# 32-bit only, not tests: pagetable (the demo init shows its page tables).
USER32_PROGS := pagetable test_swapout
USER32_TESTS += test_tty
USER32_TESTS += test_clone test_poll test_syscalls
USER32_TESTS += test_signal test_sigframe test_sigwait
USER32_TESTS += test_fs
USER32_TESTS += test_proc
USER32_TESTS += test_filemap
USER32_TESTS += test_pagemap
USER32_TESTS += test_swapon test_swaperr
USER32_TESTS += test_time test_mremap test_stack
USER32_TESTS += test_migrate
USER32_TESTS += test_mempolicy test_numa_fallback
USER32_TESTS += test_sysfs_node
USER32_TESTS += test_threads test_smp
USER32_BINS  := $(USER32_TESTS:%=$(BUILD)/user32/%) $(USER32_PROGS:%=$(BUILD)/user32/%)
# The scripts of tests/busybox/ (/etc/busybox-tests/ in the initrd) run by
# busybox's sh and by busybox32's, after the programs: the lines
# "busybox_X=busybox sh /etc/busybox-tests/X.sh" and "busybox_X32=busybox32 ...".
# The short one first: the first run of a program file keeps a few slab
# objects for good, which the leak rule tolerates on top of little else.
BUSYBOX_TESTS := signals applets
USER32_CC    := clang -m32 -static -fno-pie -std=gnu11 $(WARN)

$(BUILD)/user32/test_%: tests/user/test_%.c tests/user/ut.c tests/user/ut.h
	@mkdir -p $(dir $@)
	$(USER32_CC) $(call musl_link,i386,i386,crt1.o) tests/user/ut.c

$(BUILD)/user32/%: tests/user/%.c
	@mkdir -p $(dir $@)
	$(USER32_CC) $(call musl_link,i386,i386,crt1.o)

# ---- initrd and image -----------------------------------------------------------------

# The initrd is assembled in build/initrd-root/ (made afresh each time):
# esp/initrd/, busybox (/bin/busybox, with a symbolic link for each applet
# where Debian's package puts it, and the i386 build as /bin/busybox32),
# the user programs in bin/, etc/user-tests, and badelf/.
INITRD_ROOT := $(BUILD)/initrd-root
$(BUILD)/initrd.cpio: $(shell find esp/initrd -type f) $(USER_BINS) $(USER32_BINS) $(BADELF) \
                      $(BUSYBOX) $(BUSYBOX32) $(wildcard tests/busybox/*.sh)
	@mkdir -p $(BUILD)
	rm -rf $(INITRD_ROOT)
	mkdir -p $(INITRD_ROOT)/bin $(INITRD_ROOT)/etc
	cp -R esp/initrd/. $(INITRD_ROOT)/
	cp $(BUSYBOX) $(INITRD_ROOT)/bin/busybox
	cp $(BUSYBOX32) $(INITRD_ROOT)/bin/busybox32
	mkdir -p $(INITRD_ROOT)/etc/busybox-tests
	cp tests/busybox/*.sh $(INITRD_ROOT)/etc/busybox-tests/
	@for a in $$($(BUSYBOX) --list-full); do \
	    case $$a in */*/) continue;; esac; \
	    mkdir -p $(INITRD_ROOT)/$$(dirname $$a); \
	    [ -e $(INITRD_ROOT)/$$a ] || ln -s /bin/busybox $(INITRD_ROOT)/$$a; \
	done
	cp $(USER_BINS) $(INITRD_ROOT)/bin/
	for p in $(USER32_TESTS) $(USER32_PROGS); do cp $(BUILD)/user32/$$p $(INITRD_ROOT)/bin/$${p}32; done
	cp -R $(dir $(BADELF)) $(INITRD_ROOT)/badelf
	printf '%s\n' $(USER_TESTS) $(USER32_TESTS:%=%32) > $(INITRD_ROOT)/etc/user-tests
	for t in $(BUSYBOX_TESTS); do for w in '' 32; do \
	    echo "busybox_$$t$$w=busybox$$w sh /etc/busybox-tests/$$t.sh"; \
	done; done >> $(INITRD_ROOT)/etc/user-tests
	cd $(INITRD_ROOT) && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc > $(abspath $@)

$(BUILD)/esp.img: $(BUILD)/BOOTX64.EFI $(BUILD)/kernel.elf $(BUILD)/initrd.cpio \
                  esp/boot/cmdline.txt tools/mkimage.sh
	sh tools/mkimage.sh $@ $(BUILD)/BOOTX64.EFI $(BUILD)/kernel.elf \
	    $(BUILD)/initrd.cpio esp/boot/cmdline.txt

# ---- host tests -------------------------------------------------------------------------

# The kernel's vsnprintf/snprintf clash with libc's: kvsnprintf.c includes
# kernel/lib/vsnprintf.c under other names.  The kernel's string.c would clash
# the same way, so test_cmdline uses libc's string functions.
tests/host/test_kelf_SRCS    := tests/host/test_kelf.c efi/kelf.c
tests/host/test_printf_SRCS  := tests/host/test_printf.c tests/host/kvsnprintf.c
tests/host/test_cmdline_SRCS := tests/host/test_cmdline.c kernel/boot/cmdline.c
tests/host/test_rtc_time_SRCS := tests/host/test_rtc_time.c kernel/lib/rtc_time.c
# Files and pipes, the VFS, tmpfs, procfs and the file system calls, over
# stub kernel services (tests/host/file_host.c: malloc, a window of "user"
# memory, a sleep hook; tests/host/fs_host.c: the clock, the initrd, /proc's
# generators, a console; tests/host/proc_host.c: the task table and CPU figures
# /proc's own files read) and the real page allocator over mm_host.c's arena,
# so tmpfs's pages are real frames and a leak shows in the free count;
# file_abi_host.c holds the host libc's struct stat.
FS_HOST_SRCS := kernel/fs/file.c kernel/fs/pipe.c kernel/fs/inode.c kernel/fs/pagecache.c \
                kernel/fs/dir.c kernel/fs/namei.c kernel/fs/tmpfs.c kernel/fs/tmpfs_file.c \
                kernel/fs/open.c kernel/fs/chrdev.c kernel/fs/initrd_fs.c kernel/fs/procfs.c \
                kernel/fs/sysfs.c \
                kernel/fs/proc_pid.c kernel/fs/proc_fd.c kernel/fs/proc_sys.c \
                kernel/fs/proc_kstat.c tests/host/proc_host.c \
                kernel/fs/proc_rw.c kernel/fs/proc_sysctl.c kernel/fs/proc_vmstat.c \
                kernel/fs/cpio.c kernel/fs/sys_file.c kernel/fs/sys_namei.c kernel/fs/sys_attr.c \
                kernel/fs/sys_dir.c kernel/fs/tmpfs_check.c tests/host/file_host.c \
                tests/host/fs_host.c mm/memmap.c mm/buddy.c mm/page_alloc.c mm/zone.c mm/numa.c mm/numa_order.c \
                mm/contig.c mm/release.c mm/mem_place.c mm/vmstat.c tests/host/mm_host.c \
                mm/isolate.c mm/vm_event.c
FS_HOST_DEPS := include/kernel/file.h include/kernel/vfs.h tests/host/file_host.h \
                tests/host/fs_host.h kernel/fs/fs_impl.h
tests/host/test_file_SRCS := tests/host/test_file.c tests/host/file_abi_host.c $(FS_HOST_SRCS)
$(BUILD)/host/tests/host/test_file: $(FS_HOST_DEPS) tests/host/file_abi_host.h
# The system calls on descriptors: reads, writes, open, stat, pipes, /proc.
tests/host/test_sys_file_SRCS := tests/host/test_sys_file.c $(FS_HOST_SRCS)
$(BUILD)/host/tests/host/test_sys_file: $(FS_HOST_DEPS)
# /proc's own files: the tree, the links, the texts, the load average (docs/proc.md).
tests/host/test_procfs_SRCS := tests/host/test_procfs.c $(FS_HOST_SRCS)
$(BUILD)/host/tests/host/test_procfs: $(FS_HOST_DEPS) kernel/fs/proc_impl.h include/kernel/kstat.h
# /sys: the tree, the node texts (mm/mmstat.c's real ones), read-only (docs/numa.md).
tests/host/test_sysfs_SRCS := tests/host/test_sysfs.c $(FS_HOST_SRCS) mm/mmstat.c
$(BUILD)/host/tests/host/test_sysfs: $(FS_HOST_DEPS)
# tmpfs, the page cache, names, links, the working directory (docs/tmpfs.md).
tests/host/test_tmpfs_SRCS := tests/host/test_tmpfs.c tests/host/test_tmpfs_names.c \
                              tests/host/test_tmpfs_swap.c $(FS_HOST_SRCS)
$(BUILD)/host/tests/host/test_tmpfs: $(FS_HOST_DEPS) tests/host/test_tmpfs.h
$(BUILD)/host/tests/host/test_printf: kernel/lib/vsnprintf.c
# The tty line discipline alone, fed bytes as a device would, and the keyboard
# map fed scan codes (docs/terminal.md).
tests/host/test_tty_SRCS := tests/host/test_tty.c kernel/console/tty.c kernel/console/keymap.c
$(BUILD)/host/tests/host/test_tty: include/kernel/tty.h include/kernel/keymap.h
# The GPT parser fed good and hostile tables (docs/block.md).
tests/host/test_gpt_SRCS := tests/host/test_gpt.c kernel/block/gpt.c kernel/lib/crc32.c
$(BUILD)/host/tests/host/test_gpt: include/kernel/gpt.h include/kernel/crc32.h \
                                   tests/shared/gpt_image.h
# The ACPI reader, the SRAT/SLIT parsers and the node fallback order, fed
# tables built in memory (docs/numa.md).
ACPI_SRCS := kernel/acpi/tables.c kernel/acpi/srat.c mm/numa_order.c
tests/host/test_acpi_SRCS := tests/host/test_acpi.c $(ACPI_SRCS)
tests/host/test_madt_SRCS := tests/host/test_madt.c kernel/acpi/madt.c kernel/acpi/tables.c
$(BUILD)/host/tests/host/test_madt: include/kernel/acpi.h
$(BUILD)/host/tests/host/test_acpi: include/kernel/acpi.h include/mm/numa.h tests/shared/acpi_image.h
# The FADT, \_S5, HPET and SPCR parsers and the calibration arithmetic (docs/boot.md).
tests/host/test_realpc_SRCS := tests/host/test_realpc.c kernel/acpi/tables.c $(REALPC_ACPI_SRCS) \
                               kernel/cpu/calibrate_math.c efi/la57.c
$(BUILD)/host/tests/host/test_realpc: include/kernel/acpi_hw.h include/kernel/calibrate.h \
                                      tests/shared/acpi_image.h efi/la57.h

# mm/ on the host: libc provides snprintf/vsnprintf/memset..., and
# tests/host/mm_host.c panic, printk and the private "physical memory" arena.
# mm/bootmem.c is kernel-only glue; its decisions are mm/mem_place.c's.
# Host builds define DEBUG=1: DASSERTs run under the sanitizers.
MM_HOST_SRCS := mm/memmap.c mm/buddy.c mm/page_alloc.c mm/zone.c mm/numa.c mm/numa_order.c mm/contig.c mm/mmstat.c \
                mm/isolate.c mm/vm_event.c \
                mm/release.c mm/mem_place.c mm/vmstat.c tests/host/mm_host.c
MM_HOST_DEPS := $(wildcard include/mm/*.h) include/boot/boot_info.h tests/host/mm_host.h
tests/host/test_memmap_SRCS := tests/host/test_memmap.c $(MM_HOST_SRCS)
tests/host/test_buddy_SRCS  := tests/host/test_buddy.c $(MM_HOST_SRCS)
tests/host/test_numa_SRCS  := tests/host/test_numa.c $(MM_HOST_SRCS)
tests/host/test_mem_place_SRCS := tests/host/test_mem_place.c $(MM_HOST_SRCS)
$(BUILD)/host/tests/host/test_mem_place: $(MM_HOST_DEPS)
# The page-table cases and harness shared by both formats, the host and the
# kernel (tests/shared/), and each format's description.
PT_TEST_SRCS := tests/shared/pt_harness.c tests/shared/pt_cases.c tests/shared/pt_cases_inplace.c \
                tests/shared/pt_raw.c
PT_TEST_DEPS := $(wildcard tests/shared/*.h)
tests/host/test_pgtable_SRCS := tests/host/test_pgtable.c $(MM_HOST_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c \
                                mm/pgtable_check.c mm/pt_x86_64.c $(PT_TEST_SRCS) \
                                tests/shared/pt_desc_x86_64.c
$(BUILD)/host/tests/host/test_pgtable $(BUILD)/host/tests/host/test_pt_i386: $(PT_TEST_DEPS)
$(BUILD)/host/tests/host/test_memmap $(BUILD)/host/tests/host/test_buddy \
$(BUILD)/host/tests/host/test_pgtable: $(MM_HOST_DEPS) mm/pgtable_impl.h
# The i386 two-level format of compat32/ behind the same walker.
tests/host/test_pt_i386_SRCS := tests/host/test_pt_i386.c $(MM_HOST_SRCS) mm/pgtable.c \
                                mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c compat32/pt_i386.c \
                                $(PT_TEST_SRCS) tests/shared/pt_desc_i386.c
$(BUILD)/host/tests/host/test_pt_i386: $(MM_HOST_DEPS) mm/pgtable_impl.h
# compat32's software i386 MMU over the generic mm code (recursive =: SLAB_SRCS
# and VMA_SRCS are defined below).
tests/host/test_mmu32_SRCS = tests/host/test_mmu32.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c \
                             mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c \
                             compat32/pt_i386.c compat32/mmu32.c $(VMA_SRCS)
$(BUILD)/host/tests/host/test_mmu32: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h \
                                     include/compat32/mmu32.h
# The slab allocator and kmalloc, over the host page provider.
SLAB_SRCS := mm/slab.c mm/slab_debug.c mm/slab_stat.c mm/kmalloc.c
tests/host/test_slab_SRCS := tests/host/test_slab.c $(MM_HOST_SRCS) $(SLAB_SRCS)
$(BUILD)/host/tests/host/test_slab: $(MM_HOST_DEPS) mm/slab_impl.h
# User address spaces over the page tables and the slab allocator.
VMA_SRCS := mm/vma.c mm/vma_check.c mm/mmap.c mm/user_fault.c mm/mm_fork.c mm/mremap.c mm/stack.c \
            mm/filemap.c mm/rmap.c mm/migrate.c mm/mempolicy.c
tests/host/test_vma_SRCS := tests/host/test_vma.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c \
                            mm/pgtable_check.c mm/pt_x86_64.c $(VMA_SRCS)
$(BUILD)/host/tests/host/test_vma: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h
# NUMA memory policies: the objects and a range's policy (docs/mempolicy.md).
tests/host/test_mempolicy_SRCS := tests/host/test_mempolicy.c $(MM_HOST_SRCS) $(SLAB_SRCS) \
                                  mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c \
                                  mm/pgtable_check.c mm/pt_x86_64.c $(VMA_SRCS)
$(BUILD)/host/tests/host/test_mempolicy: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h
# The reverse map and migration over address spaces of both formats.
tests/host/test_rmap_SRCS = tests/host/test_rmap.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c \
                            mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c \
                            compat32/pt_i386.c compat32/mmu32.c $(VMA_SRCS)
$(BUILD)/host/tests/host/test_rmap: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h \
                                    include/compat32/mmu32.h
# Swap areas, headers and slots over a fake block device (tests/host/test_swap.c).
tests/host/test_swap_SRCS = tests/host/test_swap.c $(MM_HOST_SRCS) $(SWAP_SRCS)
# Reclaim over host address spaces and a fake swap disk (tests/host/test_reclaim.c).
tests/host/test_reclaim_SRCS = tests/host/test_reclaim.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c \
                               mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c \
                               $(VMA_SRCS) $(SWAP_SRCS) mm/swap_state.c mm/swap_fault.c mm/vmscan.c \
                               mm/madvise_pageout.c \
                               mm/swap_io.c mm/swap_cluster.c mm/swap_readahead.c \
                               compat32/pt_i386.c compat32/mmu32.c
$(BUILD)/host/tests/host/test_reclaim: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h
$(BUILD)/host/tests/host/test_swap: $(MM_HOST_DEPS) include/kernel/blkdev.h
# File pages in address spaces (mm/filemap.c) over a fake file system.
tests/host/test_filemap_SRCS := tests/host/test_filemap.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c \
                                mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c \
                                mm/pt_x86_64.c $(VMA_SRCS)
$(BUILD)/host/tests/host/test_filemap: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h
# vmalloc over private tables (mm/vmalloc_kernel.c is the kernel's instance).
VMALLOC_SRCS := mm/vmalloc.c mm/vmalloc_check.c
tests/host/test_vmalloc_SRCS := tests/host/test_vmalloc.c $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c \
                                mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c $(VMALLOC_SRCS)
$(BUILD)/host/tests/host/test_vmalloc: $(MM_HOST_DEPS) mm/pgtable_impl.h mm/slab_impl.h

# The exec pieces (initrd reader, ELF checker, initial stack): pure code.
# test_elf_user and test_user_stack also run real static musl programs
# natively, the host kernel being the oracle: tests/host/stackdump.c built
# as ET_EXEC and as static PIE, 64-bit (musl-gcc; clang for the PIE) and
# 32-bit (clang -m32 against musl's i386 build), into build/host/exec.
tests/host/test_cpio_SRCS       := tests/host/test_cpio.c kernel/fs/cpio.c
tests/host/test_elf_user_SRCS   := tests/host/test_elf_user.c kernel/proc/elf_user.c \
                                   kernel/proc/user_stack.c
tests/host/test_user_stack_SRCS := tests/host/test_user_stack.c kernel/proc/user_stack.c \
                                   kernel/proc/elf_user.c
EXEC_DIR     := $(BUILD)/host/exec
EXEC_SAMPLES := $(EXEC_DIR)/stackdump64 $(EXEC_DIR)/stackdump64pie \
                $(EXEC_DIR)/stackdump32 $(EXEC_DIR)/stackdump32pie
EXEC_TESTS   := $(BUILD)/host/tests/host/test_elf_user $(BUILD)/host/tests/host/test_user_stack
$(BUILD)/host/tests/host/test_cpio: include/kernel/cpio.h
$(EXEC_TESTS): $(EXEC_SAMPLES) tests/host/exec_native.h include/kernel/elf_user.h \
               include/kernel/user_stack.h include/elf.h
$(EXEC_TESTS): HOST_CFLAGS += -DEXEC_DIR='"$(abspath $(EXEC_DIR))"'
# $(call musl_link,<arch dir>,<compiler-rt arch>,<crt1.o or rcrt1.o>)
CLANG_RES := $(shell clang -print-resource-dir)
musl_link = -O2 -nostdinc -isystem /usr/include/$(1)-linux-musl -isystem $(CLANG_RES)/include \
            -nostdlib -fuse-ld=lld -o $@ /usr/lib/$(1)-linux-musl/$(3) \
            /usr/lib/$(1)-linux-musl/crti.o $< /usr/lib/$(1)-linux-musl/libc.a \
            $(CLANG_RES)/lib/linux/libclang_rt.builtins-$(2).a /usr/lib/$(1)-linux-musl/crtn.o
$(EXEC_DIR)/stackdump64: tests/host/stackdump.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -o $@ $<
$(EXEC_DIR)/stackdump64pie: tests/host/stackdump.c
	@mkdir -p $(dir $@)
	clang -static-pie -fPIE $(call musl_link,x86_64,x86_64,rcrt1.o)
$(EXEC_DIR)/stackdump32: tests/host/stackdump.c
	@mkdir -p $(dir $@)
	clang -m32 -static $(call musl_link,i386,i386,crt1.o)
$(EXEC_DIR)/stackdump32pie: tests/host/stackdump.c
	@mkdir -p $(dir $@)
	clang -m32 -static-pie -fPIE $(call musl_link,i386,i386,rcrt1.o)

.SECONDEXPANSION:
$(BUILD)/host/tests/host/test_pe: tests/host/test_pe.c tests/host/htest.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $<

$(BUILD)/host/%: $$($$*_SRCS) tests/host/htest.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $($*_SRCS)

HOST_BINS := $(HOST_TESTS:%=$(BUILD)/host/%) $(BUILD)/host/tests/host/test_pe

# ---- fuzz targets (libFuzzer) ---------------------------------------------------------------

# `make test` runs each target for FUZZ_RUNS inputs from a fixed seed through
# build/fuzz/run_fuzz, which prints "ok - fuzz/<name>" lines like a host test;
# `make fuzz` runs each for FUZZ_TIME seconds, keeping a corpus in build/fuzz/corpus.
# The validators called after every operation are left out of the coverage
# instrumentation (tests/fuzz/coverage_ignore.txt says why).
FUZZ_CFLAGS := -std=gnu11 -g -O2 -fsanitize=fuzzer,address,undefined \
               -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt \
               -fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) \
               -Iinclude -Itests/host -DHOST_TEST=1 -DDEBUG=1
FUZZ_RUNS ?= 20000
FUZZ_TIME ?= 300
export FUZZ_RUNS
FUZZ_TARGETS := fuzz_buddy fuzz_memmap fuzz_pgtable fuzz_slab fuzz_vma
FUZZ_TARGETS += fuzz_exec
FUZZ_TARGETS += fuzz_pt_i386
FUZZ_TARGETS += fuzz_mmu32
FUZZ_TARGETS += fuzz_vmalloc
FUZZ_TARGETS += fuzz_tmpfs
FUZZ_TARGETS += fuzz_swaphdr
FUZZ_TARGETS += fuzz_gpt
FUZZ_TARGETS += fuzz_acpi
FUZZ_TARGETS += fuzz_fadt
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
# Sources a target needs beyond $(MM_HOST_SRCS): fuzz_<name>_EXTRA.
fuzz_pgtable_EXTRA := mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c \
                      tests/shared/pt_raw.c tests/shared/pt_desc_x86_64.c
fuzz_pt_i386_EXTRA := mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c compat32/pt_i386.c \
                      tests/shared/pt_raw.c tests/shared/pt_desc_i386.c
# One run model for both page-table formats.
$(BUILD)/fuzz/fuzz_pgtable $(BUILD)/fuzz/fuzz_pt_i386: tests/fuzz/pt_fuzz_model.h \
                                                      tests/shared/pt_raw.h
# compat32's MMU seen from outside, shared with test_mmu32.
$(BUILD)/fuzz/fuzz_mmu32 $(BUILD)/host/tests/host/test_mmu32: tests/shared/mmu32_oracle.h
fuzz_mmu32_EXTRA = $(VMA_SRCS) $(SLAB_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c \
                   mm/pt_x86_64.c compat32/pt_i386.c compat32/mmu32.c
fuzz_slab_EXTRA := $(SLAB_SRCS)
fuzz_swaphdr_EXTRA := mm/swap_header.c
fuzz_gpt_EXTRA := kernel/block/gpt.c kernel/lib/crc32.c
$(BUILD)/fuzz/fuzz_gpt: include/kernel/gpt.h tests/shared/gpt_image.h
fuzz_acpi_EXTRA = kernel/acpi/tables.c kernel/acpi/srat.c kernel/acpi/madt.c
fuzz_fadt_EXTRA = kernel/acpi/tables.c $(REALPC_ACPI_SRCS)
$(BUILD)/fuzz/fuzz_fadt: include/kernel/acpi_hw.h tests/shared/acpi_image.h
$(BUILD)/fuzz/fuzz_acpi: include/kernel/acpi.h include/mm/numa.h tests/shared/acpi_image.h
fuzz_exec_EXTRA := kernel/fs/cpio.c kernel/proc/elf_user.c kernel/proc/user_stack.c
# The file system over the host page allocator (tests/host/fs_host.c, file_host.c).
fuzz_tmpfs_EXTRA = $(filter kernel/fs/% tests/host/file_host.c tests/host/fs_host.c \
                             tests/host/proc_host.c,$(FS_HOST_SRCS))
$(BUILD)/fuzz/fuzz_tmpfs: $(FS_HOST_DEPS)
fuzz_vma_EXTRA := $(VMA_SRCS) $(SLAB_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c mm/pgtable_check.c mm/pt_x86_64.c
fuzz_vmalloc_EXTRA := $(VMALLOC_SRCS) $(SLAB_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c \
                      mm/pgtable_check.c mm/pt_x86_64.c

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(MM_HOST_SRCS) $$(fuzz_$$*_EXTRA) $(MM_HOST_DEPS) \
                      tests/fuzz/coverage_ignore.txt
	@mkdir -p $(dir $@)
	$(HOST_CC) $(FUZZ_CFLAGS) -o $@ $< $(MM_HOST_SRCS) $(fuzz_$*_EXTRA)

$(BUILD)/fuzz/run_fuzz: tests/fuzz/run_fuzz.sh $(FUZZ_BINS)
	@mkdir -p $(dir $@)
	cp $< $@
	chmod +x $@

HOST_BINS += $(BUILD)/fuzz/run_fuzz

fuzz: $(BUILD)/fuzz/run_fuzz
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_CORPUS=$(BUILD)/fuzz/corpus $(BUILD)/fuzz/run_fuzz $(FUZZ_TARGETS)

# ---- user-facing targets -------------------------------------------------------------------

# Extra disks for run and run-elf (docs/block.md): SWAP=SIZE makes a fresh
# raw image $(BUILD)/swap.img of that size, formats it with util-linux's
# mkswap and attaches it as the first virtio disk (vda) with swap=vda on
# the command line; DISKS="virtio:PATH nvme:PATH ..." attaches images as
# they are, after it.
SWAP    ?=
DISKS   ?=
SWAP_IMG := $(BUILD)/swap.img
MKSWAP  := $(or $(shell command -v mkswap),/sbin/mkswap)
swap_disk = $(if $(SWAP),rm -f $(SWAP_IMG) && truncate -s $(SWAP) $(SWAP_IMG) && \
                $(MKSWAP) $(SWAP_IMG) >&2,true)
disk_opts = $(if $(SWAP),--disk virtio:$(SWAP_IMG)) $(foreach d,$(DISKS),--disk $(d))
swap_cmdline = $(if $(SWAP), swap=vda)
# NUMA=SPEC: NUMA nodes (tools/qemu.py --numa; docs/numa.md), e.g.
# `make run MEM=6G NUMA=2G,4G:dist=0-1=21`.
NUMA    ?=
numa_opts = $(if $(NUMA),--numa "$(NUMA)")
# SMP=N: CPUs (tools/qemu.py --smp; docs/smp.md); with NUMA= the nodes give them.
SMP     ?= 1
numa_opts += $(if $(filter-out 1,$(SMP)),--smp $(SMP))

run: $(BUILD)/esp.img
	$(swap_disk)
	python3 tools/qemu.py run --img $(BUILD)/esp.img --mem $(MEM) --cmdline "$(CMDLINE)$(swap_cmdline)" \
	    $(if $(filter 1,$(GUI)),--gui) $(disk_opts) $(numa_opts)

# The scripted demo: a few programs (the last, pagemove, empties the DMA
# zone under the memory map, on from the start with GUI=1), then /proc files.
demo: $(BUILD)/esp.img
	python3 tools/qemu.py run --img $(BUILD)/esp.img --mem $(MEM) \
	    --cmdline "$(CMDLINE) $(if $(filter 1,$(GUI)),memview=on )init=/bin/init -- demo" \
	    $(if $(filter 1,$(GUI)),--gui)

gdb: $(BUILD)/esp.img
	@echo "QEMU waits for gdb on localhost:1234. In another terminal:"
	@echo "  gdb $(BUILD)/kernel.elf -ex 'target remote :1234'"
	python3 tools/qemu.py run --img $(BUILD)/esp.img --mem $(MEM) --cmdline "$(CMDLINE)" --gdb

# Everything make test runs, built (in parallel: make's jobs default to
# the number of CPUs below) but not run.
test-build: $(BUILD)/esp.img $(HOST_BINS) $(BUILD)/user/test_tty_echo

test: test-build
	python3 tests/run_all.py --build $(BUILD) $(if $(NUMA),--numa $(NUMA)) \
	    $(if $(filter-out 1,$(SMP)),--smp $(SMP),$(if $(filter command line,$(origin SMP)),--smp 1)) \
	    $(HOST_BINS)

# run-elf: stdout is the program's alone, so the build's own messages go to
# stderr.  GNU make ends with status 2 whenever a recipe fails, so `make
# run-elf` only tells 0 from non-zero ("Error N" on stderr names the status);
# tools/qemu.py run-elf itself exits with the program's exact status.
VERBOSE ?= 0
TIMEOUT ?= 300
run-elf:
	@test -n "$(ELF)" || { echo 'usage: make run-elf ELF=path [ARGS="..."] [MEM=1G] [VERBOSE=1]' >&2; exit 2; }
	@$(MAKE) --no-print-directory $(BUILD)/esp.img >&2
	@$(swap_disk)
	@python3 tools/qemu.py run-elf --img $(BUILD)/esp.img --initrd $(BUILD)/initrd.cpio \
	    --elf "$(ELF)" --args "$(ARGS)" --mem $(MEM) --cmdline "$(CMDLINE)$(swap_cmdline)" \
	    --timeout $(TIMEOUT) --log $(BUILD)/run-elf.log $(if $(filter 1,$(VERBOSE)),--verbose) \
	    $(if $(INPUT),--input "$(INPUT)") $(disk_opts) $(numa_opts)

user: $(USER_BINS) $(USER32_BINS) $(BADELF)

user-oracle: user
	python3 tests/user/run_host.py --build $(BUILD)

# Benchmarks: host build, -O2, no sanitizers; baselines run in the same process.
BENCH_MM_SRCS := mm/buddy.c mm/page_alloc.c mm/zone.c mm/numa.c mm/numa_order.c mm/contig.c mm/mmstat.c mm/vmstat.c \
                 mm/isolate.c mm/vm_event.c
$(BUILD)/bench/bench_buddy: tests/bench/bench_buddy.c $(BENCH_MM_SRCS) include/mm/*.h \
                           tests/bench/bench.h
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -g $(WARN) -Iinclude -DHOST_TEST=1 -o $@ $< $(BENCH_MM_SRCS)

$(BUILD)/bench/bench_slab: tests/bench/bench_slab.c $(BENCH_MM_SRCS) $(SLAB_SRCS) include/mm/*.h \
                          mm/slab_impl.h tests/bench/bench.h
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -g $(WARN) -Iinclude -DHOST_TEST=1 -o $@ $< $(BENCH_MM_SRCS) \
	    $(SLAB_SRCS)

# Page faults through the mm code over the host arena of tests/host/mm_host.c.
BENCH_FAULT_SRCS := $(MM_HOST_SRCS) $(SLAB_SRCS) mm/pgtable.c mm/pgtable_clone.c mm/pgtable_walk.c \
                    mm/pgtable_check.c mm/pt_x86_64.c $(VMA_SRCS)
$(BUILD)/bench/bench_fault: tests/bench/bench_fault.c $(BENCH_FAULT_SRCS) $(MM_HOST_DEPS) \
                           mm/pgtable_impl.h mm/slab_impl.h
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 -O2 -g $(WARN) -Iinclude -Itests/host -DHOST_TEST=1 -o $@ $< \
	    $(BENCH_FAULT_SRCS)

# Every benchmark prints its tables, then one line per target ("target
# NAME: measured X, goal Y: met" or "NOT MET"); the run ends with all the
# target lines together.  A target not met does not fail make bench.
BENCH_LOG := $(BUILD)/bench/bench.log
bench: SHELL := /bin/bash
bench: $(BUILD)/bench/bench_buddy $(BUILD)/bench/bench_slab $(BUILD)/bench/bench_fault \
       $(BUILD)/esp.img
	@mkdir -p $(BUILD)/bench && rm -f $(BENCH_LOG)
	set -o pipefail; $(BUILD)/bench/bench_buddy | tee -a $(BENCH_LOG)
	set -o pipefail; $(BUILD)/bench/bench_slab | tee -a $(BENCH_LOG)
	set -o pipefail; $(BUILD)/bench/bench_fault | tee -a $(BENCH_LOG)
	set -o pipefail; python3 tests/bench/boot_mm_time.py $(BUILD) | tee -a $(BENCH_LOG)
	set -o pipefail; python3 tests/bench/boot_vm_time.py $(BUILD) | tee -a $(BENCH_LOG)
	@echo; echo "Targets:"; grep '^target ' $(BENCH_LOG) || echo "(none printed)"

usb: $(BUILD)/esp.img
	sh tools/usb.sh "$(DEV)" $(BUILD)/esp.img

clean:
	rm -rf $(BUILD)

-include $(KERNEL_OBJS:.o=.d)
