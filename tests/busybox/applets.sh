# busybox applets and shell features, run by busybox's own sh on mmk
# (/etc/busybox-tests/applets.sh, 64-bit and i386) and on the host (the
# oracle): everything it prints must be the same on both, so it prints no
# host-specific numbers (no pids, times, inode numbers or sizes of things
# the system owns).  It works in a fresh directory under /tmp and removes it.
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
ls a
ls -1 a/b
cp a/one a/copy && mv a/copy a/moved && ls a
ln -s one a/link && readlink a/link
cat a/link
rm -r a/b && ls a
rmdir a 2>/dev/null || echo "rmdir: not empty"

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

cd /
rm -rf "$d"
echo "== done"
