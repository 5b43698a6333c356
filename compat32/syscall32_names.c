/*
 * The names of Linux's i386 system calls, by number, as Linux's table
 * (arch/x86/entry/syscalls/syscall_32.tbl) gives them, for the log line
 * of a call mmk does not implement (compat32/syscall32.c).  The numbers
 * Linux left empty (222, 223, 251, 285, 387-392, 415) have no name.
 */
#include <compat32/compat32.h>

static const char *const names[NR32_SYSCALLS] = {
    "restart_syscall", "exit", "fork", "read", "write", "open", "close", "waitpid", "creat",
    "link",
    /* 10 */
    "unlink", "execve", "chdir", "time", "mknod", "chmod", "lchown", "break", "oldstat",
    "lseek",
    /* 20 */
    "getpid", "mount", "umount", "setuid", "getuid", "stime", "ptrace", "alarm", "oldfstat",
    "pause",
    /* 30 */
    "utime", "stty", "gtty", "access", "nice", "ftime", "sync", "kill", "rename", "mkdir",
    /* 40 */
    "rmdir", "dup", "pipe", "times", "prof", "brk", "setgid", "getgid", "signal", "geteuid",
    /* 50 */
    "getegid", "acct", "umount2", "lock", "ioctl", "fcntl", "mpx", "setpgid", "ulimit",
    "oldolduname",
    /* 60 */
    "umask", "chroot", "ustat", "dup2", "getppid", "getpgrp", "setsid", "sigaction",
    "sgetmask", "ssetmask",
    /* 70 */
    "setreuid", "setregid", "sigsuspend", "sigpending", "sethostname", "setrlimit",
    "getrlimit", "getrusage", "gettimeofday", "settimeofday",
    /* 80 */
    "getgroups", "setgroups", "select", "symlink", "oldlstat", "readlink", "uselib",
    "swapon", "reboot", "readdir",
    /* 90 */
    "mmap", "munmap", "truncate", "ftruncate", "fchmod", "fchown", "getpriority",
    "setpriority", "profil", "statfs",
    /* 100 */
    "fstatfs", "ioperm", "socketcall", "syslog", "setitimer", "getitimer", "stat", "lstat",
    "fstat", "olduname",
    /* 110 */
    "iopl", "vhangup", "idle", "vm86old", "wait4", "swapoff", "sysinfo", "ipc", "fsync",
    "sigreturn",
    /* 120 */
    "clone", "setdomainname", "uname", "modify_ldt", "adjtimex", "mprotect", "sigprocmask",
    "create_module", "init_module", "delete_module",
    /* 130 */
    "get_kernel_syms", "quotactl", "getpgid", "fchdir", "bdflush", "sysfs", "personality",
    "afs_syscall", "setfsuid", "setfsgid",
    /* 140 */
    "_llseek", "getdents", "_newselect", "flock", "msync", "readv", "writev", "getsid",
    "fdatasync", "_sysctl",
    /* 150 */
    "mlock", "munlock", "mlockall", "munlockall", "sched_setparam", "sched_getparam",
    "sched_setscheduler", "sched_getscheduler", "sched_yield", "sched_get_priority_max",
    /* 160 */
    "sched_get_priority_min", "sched_rr_get_interval", "nanosleep", "mremap", "setresuid",
    "getresuid", "vm86", "query_module", "poll", "nfsservctl",
    /* 170 */
    "setresgid", "getresgid", "prctl", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask",
    "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigsuspend",
    /* 180 */
    "pread64", "pwrite64", "chown", "getcwd", "capget", "capset", "sigaltstack", "sendfile",
    "getpmsg", "putpmsg",
    /* 190 */
    "vfork", "ugetrlimit", "mmap2", "truncate64", "ftruncate64", "stat64", "lstat64",
    "fstat64", "lchown32", "getuid32",
    /* 200 */
    "getgid32", "geteuid32", "getegid32", "setreuid32", "setregid32", "getgroups32",
    "setgroups32", "fchown32", "setresuid32", "getresuid32",
    /* 210 */
    "setresgid32", "getresgid32", "chown32", "setuid32", "setgid32", "setfsuid32",
    "setfsgid32", "pivot_root", "mincore", "madvise",
    /* 220 */
    "getdents64", "fcntl64", NULL, NULL, "gettid", "readahead", "setxattr", "lsetxattr",
    "fsetxattr", "getxattr",
    /* 230 */
    "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr",
    "lremovexattr", "fremovexattr", "tkill", "sendfile64",
    /* 240 */
    "futex", "sched_setaffinity", "sched_getaffinity", "set_thread_area", "get_thread_area",
    "io_setup", "io_destroy", "io_getevents", "io_submit", "io_cancel",
    /* 250 */
    "fadvise64", NULL, "exit_group", "lookup_dcookie", "epoll_create", "epoll_ctl",
    "epoll_wait", "remap_file_pages", "set_tid_address", "timer_create",
    /* 260 */
    "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "clock_settime",
    "clock_gettime", "clock_getres", "clock_nanosleep", "statfs64", "fstatfs64",
    /* 270 */
    "tgkill", "utimes", "fadvise64_64", "vserver", "mbind", "get_mempolicy",
    "set_mempolicy", "mq_open", "mq_unlink", "mq_timedsend",
    /* 280 */
    "mq_timedreceive", "mq_notify", "mq_getsetattr", "kexec_load", "waitid", NULL,
    "add_key", "request_key", "keyctl", "ioprio_set",
    /* 290 */
    "ioprio_get", "inotify_init", "inotify_add_watch", "inotify_rm_watch", "migrate_pages",
    "openat", "mkdirat", "mknodat", "fchownat", "futimesat",
    /* 300 */
    "fstatat64", "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat",
    "faccessat", "pselect6", "ppoll",
    /* 310 */
    "unshare", "set_robust_list", "get_robust_list", "splice", "sync_file_range", "tee",
    "vmsplice", "move_pages", "getcpu", "epoll_pwait",
    /* 320 */
    "utimensat", "signalfd", "timerfd_create", "eventfd", "fallocate", "timerfd_settime",
    "timerfd_gettime", "signalfd4", "eventfd2", "epoll_create1",
    /* 330 */
    "dup3", "pipe2", "inotify_init1", "preadv", "pwritev", "rt_tgsigqueueinfo",
    "perf_event_open", "recvmmsg", "fanotify_init", "fanotify_mark",
    /* 340 */
    "prlimit64", "name_to_handle_at", "open_by_handle_at", "clock_adjtime", "syncfs",
    "sendmmsg", "setns", "process_vm_readv", "process_vm_writev", "kcmp",
    /* 350 */
    "finit_module", "sched_setattr", "sched_getattr", "renameat2", "seccomp", "getrandom",
    "memfd_create", "bpf", "execveat", "socket",
    /* 360 */
    "socketpair", "bind", "connect", "listen", "accept4", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "sendto",
    /* 370 */
    "sendmsg", "recvfrom", "recvmsg", "shutdown", "userfaultfd", "membarrier", "mlock2",
    "copy_file_range", "preadv2", "pwritev2",
    /* 380 */
    "pkey_mprotect", "pkey_alloc", "pkey_free", "statx", "arch_prctl", "io_pgetevents",
    "rseq",
    /* 387-392: not used */
    [393] = "semget", "semctl", "shmget", "shmctl", "shmat", "shmdt", "msgget",
    /* 400 */
    "msgsnd", "msgrcv", "msgctl", "clock_gettime64", "clock_settime64", "clock_adjtime64",
    "clock_getres_time64", "clock_nanosleep_time64", "timer_gettime64", "timer_settime64",
    /* 410 */
    "timerfd_gettime64", "timerfd_settime64", "utimensat_time64", "pselect6_time64",
    "ppoll_time64", NULL, "io_pgetevents_time64", "recvmmsg_time64", "mq_timedsend_time64",
    "mq_timedreceive_time64",
    /* 420 */
    "semtimedop_time64", "rt_sigtimedwait_time64", "futex_time64",
    "sched_rr_get_interval_time64", "pidfd_send_signal", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "open_tree", "move_mount",
    /* 430 */
    "fsopen", "fsconfig", "fsmount", "fspick", "pidfd_open", "clone3", "close_range",
    "openat2", "pidfd_getfd", "faccessat2",
    /* 440 */
    "process_madvise", "epoll_pwait2", "mount_setattr", "quotactl_fd",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "memfd_secret",
    "process_mrelease", "futex_waitv",
    /* 450 */
    "set_mempolicy_home_node", "cachestat", "fchmodat2", "map_shadow_stack", "futex_wake",
    "futex_wait", "futex_requeue", "statmount", "listmount", "lsm_get_self_attr",
    /* 460 */
    "lsm_set_self_attr", "lsm_list_modules", "mseal", "setxattrat", "getxattrat",
    "listxattrat", "removexattrat", "open_tree_attr", "file_getattr", "file_setattr",
};

_Static_assert(NR32_SYSCALLS == 470, "the name table ends with file_setattr (469)");

const char *syscall32_name(uint32_t nr)
{
    return nr < NR32_SYSCALLS ? names[nr] : NULL;
}
