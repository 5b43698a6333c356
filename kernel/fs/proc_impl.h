/*
 * Inside procfs: what kernel/fs/procfs.c (the directories, inodes and open
 * files) shares with the files that make the texts: proc_pid.c (a
 * process's files), proc_fd.c (the links: exe, cwd, fd/N), proc_sys.c
 * (the machine's files).  docs/proc.md describes every file.
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

/* Linux's 16-byte command name (TASK_COMM_LEN): at most 15 characters. */
#define TASK_COMM_LEN 16

#endif
