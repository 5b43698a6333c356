/*
 * Signals: for now every signal is fatal (task_kill) and sleeps are not
 * interrupted; handlers, masks and signal frames come with the full
 * implementation (include/kernel/signal.h says what it will do).
 */
#include <kernel/signal.h>
#include <kernel/errno.h>
#include <kernel/task.h>

int send_signal(struct task *t, int sig)
{
    if (sig < 1 || sig > NSIG)
        return -EINVAL;
    task_kill(t, sig);
    return 0;
}

int kill_pgrp(int pgid, int sig)
{
    int found = 0;
    for (int i = 0; i < MAX_TASKS; i++) {
        struct task *t = task_slot(i);
        if (t && t->pgid == pgid && t->state != TASK_ZOMBIE) {
            send_signal(t, sig);
            found = 1;
        }
    }
    return found ? 0 : -ESRCH;
}

int sleep_on_intr(void *chan)
{
    sleep_on(chan);
    return 0;
}

bool signal_pending(struct task *t)
{
    return t->kill_signal != 0;
}
