/*
 * Sessions and process groups (kernel/proc/session.c; docs/terminal.md).
 *
 * Every task has a process group id and a session id (task->pgid,
 * task->sid; fork copies them).  A session is what one login is: its
 * leader (pid == sid) made it with setsid, and it may have one controlling
 * terminal (the console: struct tty's `session`; the first process, init,
 * has it from the start).  A process group is a job of a shell: the
 * terminal's foreground group gets ^C, ^Z and may read; the other groups
 * of the session are in the background (SIGTTIN/SIGTTOU).
 *
 * The system calls follow Linux's rules and errors (kernel/sys.c); the
 * helpers are for the terminal's job control (kernel/fs/console_file.c).
 * A process has its session's controlling terminal: it is recorded per
 * session, not per process (so TIOCNOTTY by a process other than the
 * leader changes nothing).
 */
#ifndef KERNEL_SESSION_H
#define KERNEL_SESSION_H

#include <kernel/types.h>

struct sysargs;
long sys_setsid(const struct sysargs *a);
long sys_setpgid(const struct sysargs *a);
long sys_getpgid(const struct sysargs *a);
long sys_getpgrp(const struct sysargs *a);
long sys_getsid(const struct sysargs *a);

/* The session of process group pgid (of any live member), or -ESRCH. */
int pgrp_session(int pgid);
/* Is group pgid orphaned: no live member has a parent in another group of
 * the same session (init does not count as such a parent)?  An orphaned
 * group has nobody to continue it after a stop (POSIX 2.2.2.52). */
bool pgrp_is_orphaned(int pgid);
/* Is the leader of session sid still there (alive, and still its leader)? */
bool session_leader_alive(int sid);

#endif
