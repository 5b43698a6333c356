/*
 * Tasks (processes) and the scheduler (kernel/proc/task.c, kernel/cpu/switch.S).
 *
 * A task is an address space (struct mm, include/mm/vma.h), a kernel
 * stack (from vmalloc, with a guard page) and the saved state of its
 * user registers: the trap frame at the top of that kernel stack, built
 * by every entry from user mode (interrupt, exception, syscall).  The
 * kernel itself is not preemptible: it runs with interrupts off and
 * switches tasks only in schedule(), called when a task waits or exits,
 * or on the way back to user mode after the timer said the slice is over.
 */
#ifndef KERNEL_TASK_H
#define KERNEL_TASK_H

#include <kernel/cpu.h>
#include <kernel/signal.h>

struct mm;

enum task_state { TASK_RUNNABLE, TASK_BLOCKED, TASK_ZOMBIE };

#define TASK_NAME_MAX 32
#define KSTACK_SIZE (16 * 1024)
#define MAX_TASKS 128

struct task {
    int pid;
    int pgid, sid;                 /* process group and session (fork inherits them) */
    char name[TASK_NAME_MAX];
    enum task_state state;
    struct task *parent;
    struct mm *mm;                 /* NULL for the idle task */
    void *kstack;                  /* lowest address of the kernel stack */
    uint64_t saved_rsp;            /* kernel RSP while switched out */
    uint64_t fs_base;              /* arch_prctl(ARCH_SET_FS) */
    int exit_code;                 /* wait status, Linux encoding, once a zombie */
    uint64_t wake_tick;            /* nanosleep: blocked until this tick */
    void *wait_chan;               /* what a blocked task waits for */
    uint64_t utime_ticks, stime_ticks;
    struct task *run_next;         /* run queue link */
    /* The task's x87/SSE registers (fxsave format) while it is switched
     * out: the kernel itself never touches them (-mno-sse). */
    uint8_t fpu[512] __attribute__((aligned(16)));
    void *files;                   /* the file table (kernel/fs/file.c) */
    int kill_signal;               /* pending fatal signal: exits at the next chance */
    unsigned flags;                /* TASK_COMPAT32 */
    /* compat32 (compat32/tls32.c): the i386 TLS descriptors installed by
     * set_thread_area (in the GDT's TLS slots while the task runs), and
     * the user's DS, ES, FS and GS selectors while it is switched out. */
    uint64_t tls[GDT_TLS_ENTRIES];
    uint16_t useg[4];
};

/* t->flags: a 32-bit (i386) program runs in compatibility mode. */
#define TASK_COMPAT32 0x1u

/* Linux wait-status encoding (what wait4 stores). */
#define W_EXITCODE(code) (((code) & 0xff) << 8)
#define W_SIGNALED(sig)  ((sig) & 0x7f)

/* The task whose kernel stack we are on. */
extern struct task *current;

/* The trap frame of a task: at the top of its kernel stack. */
static inline struct trap_frame *task_frame(const struct task *t)
{
    return (struct trap_frame *)((uint8_t *)t->kstack + KSTACK_SIZE) - 1;
}

void task_init(void);
/* The FPU/SSE state a new program starts with (what fninit and a
 * default MXCSR give): for exec. */
void task_fpu_reset(struct task *t);
/* Save the CPU's current FPU/SSE registers into t (fork: the child gets
 * the parent's registers as they are now). */
void task_fpu_save(struct task *t);
/* A new task with its own kernel stack, not yet runnable; NULL with *err
 * -EAGAIN when the table is full (Linux's fork gives EAGAIN at its process
 * limit) or -ENOMEM (err may be NULL). */
struct task *task_alloc(const char *name, int *err);
/* Make it runnable, starting in user mode at the state in its frame. */
void task_start(struct task *t);
/* Give the CPU to the next runnable task (returns when we run again). */
void schedule(void);
/* Block the current task until wake_up(chan). */
void sleep_on(void *chan);
void wake_up(void *chan);
/* Timer tick (kernel/cpu/apic.c): account and ask for a switch at the next
 * return to user mode. */
void task_tick(bool from_user);
/* On the way back to user mode: switch if the slice is over. */
void task_return_to_user(void);
/* Exit the current task with a Linux wait status; never returns. */
__noreturn void task_exit(int wait_status);
struct task *task_find(int pid);
/* A fatal signal: the task exits with it the next time it would run
 * user code or wakes from a wait. */
void task_kill(struct task *t, int sig);
/* Iterate over every task slot (NULL slots included): for wait4. */
struct task *task_slot(int i);
/* Free an address space of the kernel's (mm_destroy and its struct),
 * leaving its tables first if the CPU is on them; task_drop_mm does it
 * for a task's and clears t->mm (kernel/proc/exit.c). */
void mm_release(struct mm *mm);
void task_drop_mm(struct task *t);
/* Free a zombie (its kernel stack and slot); the parent's wait does it. */
void task_reap(struct task *t);
uint64_t ticks_now(void);
int task_count(void);

#endif
