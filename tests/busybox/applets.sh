# busybox applets and shell features, run by busybox's own sh on mmk
# (/etc/busybox-tests/applets.sh, 64-bit and i386) and on the host (the
# oracle): everything it prints must be the same on both, so it prints no
# host-specific numbers (no pids, times, inode numbers or sizes of things
# the system owns), and nothing that depends on whether stdout is a
# terminal (it is the console on mmk, a pipe on the host: ls gets -1).  It
# works in a fresh directory under /tmp and removes it.
set -e
d=$(mktemp -d /tmp/bbtest.XXXXXX)
cd "$d"
echo "== echo"
echo hello world
echo -n "no newline"; echo
echo -e 'tab\there'
printf '%s=%d\n' answer 42

echo "== here-document, redirections"
cat > lines.txt <<'END'
banana
apple
cherry
apple
date
END
cat lines.txt | wc -l
echo appended >> lines.txt
wc -l < lines.txt
ls nosuchfile 2>/dev/null || echo "ls failed as expected: $?"

echo "== sort, uniq, wc"
sort lines.txt
sort lines.txt | uniq -c
sort -r lines.txt | head -3
wc -c lines.txt
wc -w < lines.txt

echo "== grep, sed, awk"
grep -n an lines.txt
grep -c apple lines.txt
grep -v a lines.txt || true
sed 's/an/AN/g' lines.txt
sed -n '2,3p' lines.txt
awk '{ n += length($0) } END { print NR, n }' lines.txt
awk -F: '$1 ~ /^a/ { print toupper($1) }' lines.txt

echo "== seq, od, hexdump, dd, md5sum"
seq 5
seq 2 3 11 | tr '\n' ' '; echo
printf 'ABC\001\377' | od -An -tx1
printf 'mmk\n' | hexdump -C
seq 1000 > nums.txt
dd if=nums.txt of=part.txt bs=100 count=3 2>/dev/null
wc -c < part.txt
md5sum nums.txt | cut -d' ' -f1
cat nums.txt nums.txt | md5sum | cut -d' ' -f1

echo "== files and directories"
mkdir -p a/b/c
touch a/one a/b/two a/b/c/three
find a | sort
find a -type f -name 't*' | sort
ls -1 a
ls -1 a/b
cp a/one a/copy && mv a/copy a/moved && ls -1 a
ln -s one a/link && readlink a/link
cat a/link
rm -r a/b && ls -1 a
rmdir a 2>/dev/null || echo "rmdir: not empty"

echo "== modes, links and ls -l"
umask 022
printf 'abc' > m1
chmod 640 m1
printf '12345\n' > m2
chmod 755 m2
ln m2 m2.hard
ln -s m1 m1.link
mkdir -m 700 sub
mkdir plain
ls -l m1 m2 m2.hard | awk '{ print $1, $2, $5, $NF }'
ls -l m1.link | awk '{ print $1, $(NF - 2), $(NF - 1), $NF }'
ls -ld sub plain | awk '{ print $1, $NF }'
stat -c '%a %h %s %n' m1 m2
chmod u+x,g-r m1
chmod o=x plain
ls -ld m1 plain | awk '{ print $1, $NF }'
touch -r m2 m1 && [ ! m1 -nt m2 ] && [ ! m1 -ot m2 ] && echo "touch -r copied the time"

echo "== test"
[ -f m1 ] && echo "m1 is a file"
[ -d sub ] && echo "sub is a directory"
[ -L m1.link ] && [ ! -L m1 ] && echo "m1.link is a symbolic link"
: > empty
[ -s m2 ] && [ ! -s empty ] && echo "m2 is not empty"
[ -e nothing ] || echo "nothing does not exist"
[ m2 -ef m2.hard ] && [ ! m1 -ef m2 ] && echo "m2.hard is m2"
[ 3 -gt 2 ] && [ 2 -le 2 ] && [ 1 -ne 2 ] && echo "numbers compare"
[ abc = abc ] && [ abc != abd ] && [ -z "" ] && [ -n x ] && echo "strings compare"
test 1 -eq 2 || echo "test 1 -eq 2: status $?"
[ -x m2 ] && echo "m2 is executable"

echo "== find -exec, xargs, tee"
mkdir -p t/u
printf 'one\n' > t/a.txt
printf 'one\ntwo\n' > t/u/b.txt
printf 'x\n' > t/c.log
find t -name '*.txt' -exec wc -l {} \; | sort
find t -type f -exec cat {} + | sort | uniq -c
find t -name '*.log' -exec basename {} .log \;
find t -type f | sort | xargs wc -l
seq 7 | xargs echo
seq 7 | xargs -n 3 echo
printf 'a b\nc\n' | xargs -n 1 echo item
echo teed | tee t1 t2 > /dev/null
echo more | tee -a t1
cat t1 t2

echo "== cut, tr, head, tail"
echo a:b:c:d | cut -d: -f2,4
echo hello | cut -c2-4
printf 'k1 v1\nk2 v2\n' | cut -d' ' -f2
echo hello | tr a-y b-z
echo 'a  b   c' | tr -s ' '
echo hello | tr -d l
echo Hello | tr '[:lower:]' '[:upper:]'
seq 10 | head -n 3
seq 10 | tail -n 2
seq 10 | tail -n +9
seq 10 | head -n -8
printf 'abcdefgh' | head -c 5; echo
yes mmk | head -n 2

echo "== basename, dirname, expr, printf"
basename /a/b/c.txt
basename /a/b/c.txt .txt
dirname /a/b/c.txt
dirname c.txt
expr 6 \* 7
expr 7 % 3 + 1
expr length hello
expr substr hello 2 3
expr abc : 'a\(.*\)'
expr 3 \< 5
expr 0 || echo "expr 0: status $?"
printf '%5s|%-5s|%05d|%x|%o|%c|%%\n' ab cd 42 255 8 z
printf '%.2f %e\n' 3.14159 1000
printf '%s\n' a b c
printf '%d-%d\n' 1 2 3 4
printf 'esc: \101\t\\n\n'

echo "== env, true, false, date"
env -i A=1 B=2 env | sort
env A=x sh -c 'echo "A is $A"'
A=y env | grep '^A='
true; echo "true: $?"
false || echo "false: $?"
! false && echo "! false: $?"
date +%Y | grep -q '^2[0-9][0-9][0-9]$' && echo "date +%Y has four digits"
date -u -d @0 '+%Y-%m-%d %H:%M:%S'
date -u -d @86399 +%j.%H
[ "$(date +%s)" -gt 1600000000 ] && echo "date +%s is after 2020"

echo "== cmp, diff, sort -n"
seq 3 > f1
seq 4 > f2
cmp f1 f1 && echo "cmp: same"
cmp f1 f2 2>&1 || echo "cmp: status $?"
diff -u f1 f2 | sed 1,2d || true
printf '10\n9\n100\n' | sort -n | tr '\n' ' '; echo
printf 'b 2\na 3\nc 1\n' | sort -k2 -n

echo "== subshells, substitution, pipes, jobs"
x=$(echo inner | tr a-z A-Z); echo "got $x"
(cd /; pwd)
pwd | sed "s|$d|DIR|"
echo one two three | ( read a b c; echo "$c $b $a" )
{ echo first; echo second; } | tail -1
sleep 0 & wait $!; echo "background job ended: $?"
(exit 3) || echo "subshell status $?"
false || echo "false failed"
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); printf '%d ' $i; done; echo
for f in x y z; do echo -n "$f"; done; echo
case abc in a*) echo "case matched";; esac
test -d /tmp && echo "/tmp is a directory"

echo "== /proc: ps, top, free, uptime, pidof, df, mount"
# What /proc says about a sleeping child; the numbers (pids, sizes, times)
# differ between the host and mmk, so only their shape is printed.
sleep 30 &
s=$!
i=0
until grep -q '^State:.S' /proc/$s/status 2>/dev/null && [ "$(cat /proc/$s/comm)" = sleep ] ||
      [ $i -ge 30 ]; do i=$((i + 1)); sleep 1; done
ps | head -1
ps -o pid,comm | awk -v p=$s '$1 == p { print "ps lists", $2 }'
ps -o pid,ppid,stat,comm | head -1
ps -o pid,ppid,stat,comm |
    awk -v p=$s -v me=$$ '$1 == p { print ($2 == me ? "child of the shell" : "ppid " $2), $3, $4 }'
top -b -n 1 | head -4 | awk '{ print $1 }'
top -b -n 1 | awk -v p=$s '$1 == p { print "top lists", $(NF - 1), "in state", $4 }'
free | awk 'NR == 1 { print $1, $2, $3 }
            $1 == "Mem:" { print $1, ($2 > 0 && $4 > 0 && $2 >= $4 ? "total >= free > 0" : "bad") }
            $1 == "Swap:" { print $1 }'
uptime | grep -q ' up .*load average: [0-9]*\.[0-9][0-9], [0-9]*\.[0-9][0-9], [0-9]*\.[0-9][0-9]$' &&
    echo "uptime: up, load average"
pidof sleep | tr ' ' '\n' | grep -qx "$s" && echo "pidof finds the sleep"
awk '$1 == "Name:" || $1 == "State:" { print }' /proc/$s/status
awk -v me=$$ '$1 == "PPid:" { print ($2 == me ? "PPid is the shell" : "PPid " $2) }' /proc/$s/status
[ "$(readlink /proc/$s/exe)" = "$(readlink /proc/$$/exe)" ] && echo "the sleep runs the shell's program"
tr '\0' ' ' < /proc/$s/cmdline; echo
df / | awk 'NR == 1 { print $1 } NR == 2 { print "mounted on", $NF }'
mount | grep -c ' on /proc type proc '
kill $s
wait $s 2>/dev/null || true
[ -d /proc/$s ] || echo "its /proc directory is gone once reaped"

cd /
rm -rf "$d"
echo "== done"
