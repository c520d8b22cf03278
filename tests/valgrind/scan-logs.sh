#!/bin/sh
# scan-logs.sh LOGDIR — the verdict of a valgrind run of husk (tests/valgrind/husk-vg).
#
# Every log file is one husk process. One that ran to its exit under valgrind ends
# with an ERROR SUMMARY (and a HEAP SUMMARY); one that became the container's user
# program or a hook by execve(), or was killed (a created container's init under
# delete --force), has neither, and nothing to report past that point.
# Fails, listing the log files, if any process had a memcheck error or lost memory
# (definitely or indirectly; "still reachable" and "possibly lost" are not counted:
# a forked stage exits with its parent's allocations still referenced).
set -eu
dir=${1:?usage: scan-logs.sh LOGDIR}
[ -d "$dir" ] || { echo "scan-logs: no log dir $dir" >&2; exit 2; }

total=0 exited=0 execd=0 bad=""
for f in "$dir"/*.log; do
    [ -e "$f" ] || continue
    total=$((total + 1))
    if grep -q 'ERROR SUMMARY:' "$f"; then
        exited=$((exited + 1))
        errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
        def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
        ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
        if [ "${errs:-0}" -ne 0 ] || [ "${def:-0}" -ne 0 ] || [ "${ind:-0}" -ne 0 ]; then
            bad="$bad $f"
        fi
    else
        execd=$((execd + 1))
        # A process that left valgrind by execve() may still have hit an error before.
        if grep -q '^==[0-9]*== \(Invalid\|Conditional\|Syscall param\|Mismatched\|Source and destination\|Use of uninitialised\|Argument\)' "$f"; then
            bad="$bad $f"
        fi
    fi
done

echo "valgrind: $total husk processes checked ($exited ran to exit under memcheck, $execd left it by execve or were killed)"
if [ -n "$bad" ]; then
    echo "valgrind: memcheck errors or lost memory in:"
    for f in $bad; do
        echo "  $f"
    done
    exit 1
fi
[ "$total" -gt 0 ] || { echo "valgrind: no log file at all in $dir" >&2; exit 1; }
echo "valgrind: 0 errors, 0 bytes definitely or indirectly lost"
