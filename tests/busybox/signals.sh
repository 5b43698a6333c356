# Signals through busybox's shell (docs/signals.md): a trap handler, jobs
# ended by SIGTERM and SIGKILL (also while stopped), the exit status 128+N
# of a shell killed by signal N, and an ignored signal that stays ignored
# across fork and execve.  Run by busybox's own sh on mmk (64-bit and
# i386) and on the host; it prints the same on both.
trap 'echo caught USR1' USR1
kill -USR1 $$
echo "after the trap"
trap - USR1

sleep 10 &
pid=$!
kill -TERM $pid
wait $pid 2>/dev/null   # no "Terminated" line on stderr
echo "job ended by SIGTERM: $?"

sleep 10 &
pid=$!
kill -STOP $pid
kill -CONT $pid
kill -STOP $pid
kill -KILL $pid
wait $pid 2>/dev/null   # no "Terminated" line on stderr
echo "stopped job ended by SIGKILL: $?"

sh -c 'kill -INT $$; echo not reached'
echo "shell killed by SIGINT: $?"

trap '' INT
sh -c 'kill -INT $$; echo "SIGINT ignored in the child too"'
trap - INT

sh -c 'trap "echo child caught TERM; exit 5" TERM; kill -TERM $$; sleep 1; echo not reached'
echo "child's trap exit status: $?"
echo done
