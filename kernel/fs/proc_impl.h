/*
 * Inside procfs: what kernel/fs/procfs.c (the directories, inodes and open
 * files) shares with the files that make the texts: proc_pid.c (a
 * process's files), proc_fd.c (the links: exe, cwd, fd/N), proc_sys.c
 * (the machine's files), proc_vmstat.c, proc_pagemap.c and proc_kpage.c
 * (memory), proc_sysctl.c (/proc/sys), and proc_rw.c, the open files
 * that are not one snapshot (binary records, writable sysctl files).
 * docs/proc.md describes every file.
 *
 * Every text is made by a generator that works like snprintf: it writes
 * what fits of its text into buf[0..size) and returns the length the
 * whole text needs (it may hold NUL bytes: cmdline, environ).  procfs.c
 * calls it again with a larger buffer when the text did not fit.  A
 * generator never sleeps, so the task it describes cannot change or go
 * away while it runs.
 */
#ifndef KERNEL_FS_PROC_IMPL_H
#define KERNEL_FS_PROC_IMPL_H

#include <kernel/vfs.h>

struct task;

/* ---- a process's files (kernel/fs/proc_pid.c) ------------------------------------ */

typedef int (*proc_pid_gen)(struct task *t, char *buf, size_t size);

int proc_pid_stat(struct task *t, char *buf, size_t size);
int proc_pid_status(struct task *t, char *buf, size_t size);
int proc_pid_statm(struct task *t, char *buf, size_t size);
int proc_pid_cmdline(struct task *t, char *buf, size_t size);
int proc_pid_environ(struct task *t, char *buf, size_t size);
int proc_pid_comm(struct task *t, char *buf, size_t size);
/* The maps generator: the one function that makes /proc/<pid>/maps. */
int proc_pid_maps(struct task *t, char *buf, size_t size);
int proc_pid_pagetable32(struct task *t, char *buf, size_t size);
/* /proc/<pid>/numa_maps (kernel/fs/proc_numa_maps.c). */
int proc_pid_numa_maps(struct task *t, char *buf, size_t size);

/* ---- links (kernel/fs/proc_fd.c) ---------------------------------------------------- */

/* A link's target into buf (size bytes): its length like snprintf (a
 * length of size or more: it did not fit), or a negative errno; "" (0)
 * when there is none (readlink then says -ENOENT, as Linux for a process
 * without a program file). */
typedef long (*proc_link_gen)(struct task *t, char *buf, size_t size);
long proc_link_exe(struct task *t, char *buf, size_t size);
long proc_link_cwd(struct task *t, char *buf, size_t size);
/* /proc/<pid>/fd/<fd>: what the descriptor names ("pipe:[N]",
 * "/dev/console", a path); -ENOENT when it is not open. */
long proc_link_fd(struct task *t, int fd, char *buf, size_t size);
/* The path of a procfs inode (a file of procfs itself, opened by a
 * process): procfs.c knows its names.  Its length, or -ENOENT. */
long proc_inode_path(const struct inode *ino, char *buf, size_t size);

/* ---- the machine's files (kernel/fs/proc_sys.c) ------------------------------------ */

int proc_uptime(char *buf, size_t size);
int proc_loadavg(char *buf, size_t size);
int proc_stat(char *buf, size_t size);
int proc_cpuinfo(char *buf, size_t size);
int proc_version(char *buf, size_t size);
int proc_filesystems(char *buf, size_t size);
int proc_cmdline(char *buf, size_t size);
int proc_mounts(char *buf, size_t size);

/* ---- memory files (kernel/fs/proc_vmstat.c, proc_pagemap.c, proc_kpage.c) ---------- */

int proc_vmstat(char *buf, size_t size);

/*
 * A binary file of 8-byte records, record i at offset 8 * i, made at each
 * read (kernel/fs/proc_rw.c): /proc/<pid>/pagemap (t the process, one
 * record per virtual page) and /proc/kpagecount, /proc/kpageflags (t
 * NULL, one record per frame).  count is the number of records (the
 * file's end; 0 when t has no address space: the file is empty); fill
 * writes records [first, first + n), all below count, to out (0 or a
 * negative errno).  Neither sleeps.
 */
struct proc_records {
    uint64_t (*count)(struct task *t);
    int (*fill)(struct task *t, uint64_t first, uint64_t *out, size_t n);
};
extern const struct proc_records proc_pagemap, proc_kpagecount, proc_kpageflags;

/* ---- /proc/sys (kernel/fs/proc_sysctl.c) ------------------------------------------------ */

/*
 * A file of /proc/sys/<dir>/: its text made at every read by show (NULL:
 * it cannot be read), and every write() handed whole to store (NULL: it
 * cannot be written) as text (len bytes, at most PROC_SYSCTL_MAX, with a
 * NUL after them); store returns 0 or the negative errno the write
 * returns.  The owner bits of mode are the rights, for root too, as
 * Linux's sysctl files have them: -EACCES otherwise.
 */
#define PROC_SYSCTL_MAX 64
#define PROC_SYSCTL_TEXT 256     /* the longest text show makes */
struct proc_sysctl {
    const char *name;
    uint32_t mode;
    int (*show)(char *buf, size_t size);
    int (*store)(const char *text, size_t len);
};
struct proc_sysctl_dir {
    const char *name;
    const struct proc_sysctl *files;
    size_t count;
};
extern const struct proc_sysctl_dir proc_sysctl_dirs[];
extern const size_t proc_sysctl_ndirs;

/* The open files of those two kinds (kernel/fs/proc_rw.c): a sysctl
 * file (ino->proc.node is its struct proc_sysctl), a record file. */
int proc_sysctl_open(struct inode *ino, unsigned flags, struct file **out);
int proc_sysctl_permission(const struct inode *ino, int mask);
int proc_records_open(const struct proc_records *rec, unsigned flags, struct file **out);

/* Linux's 16-byte command name (TASK_COMM_LEN): at most 15 characters. */
#define TASK_COMM_LEN 16

#endif
