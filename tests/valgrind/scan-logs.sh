#!/bin/sh
# scan-logs.sh LOGDIR — the verdict of a valgrind run of husk (tests/valgrind/husk-vg).
#
# Every log file is one husk invocation; every process of it (the first one and
# those it forked: stage 1, stage 2, exec's child, hook runners) writes its lines
# there marked ==PID== (its pid as it sees it: a container's stage 2 is 1). A
# process that ran to its exit under valgrind ends with an ERROR SUMMARY (and a
# HEAP SUMMARY); one that became the container's user program or a hook by
# execve(), or was killed (a created container's init under delete --force), has
# neither, and nothing to report past that point. A forked process writes its
# first line only when it has something to say (valgrind's preamble is the first
# process's), so one that left valgrind without a word is not counted at all.
# Fails, listing the files and pids, if any process had a memcheck error or lost
# memory (definitely or indirectly; "still reachable" and "possibly lost" are not
# counted: a forked stage exits with its parent's allocations still referenced),
# or if valgrind itself could not run one (a "valgrind:" line of its own).
set -eu
dir=${1:?usage: scan-logs.sh LOGDIR}
[ -d "$dir" ] || { echo "scan-logs: no log dir $dir" >&2; exit 2; }
set -- "$dir"/*.log
[ -e "$1" ] || { echo "valgrind: no log file at all in $dir" >&2; exit 1; }

awk '
function num(s) { gsub(/,/, "", s); return s + 0 }
match($0, /^==[0-9]+==/) {
    p = FILENAME " (pid " substr($0, 3, RLENGTH - 4) ")"
    if (!(p in seen)) { seen[p] = 1; order[++n] = p }
    if (match($0, /ERROR SUMMARY: [0-9,]+ errors/)) {
        exited[p] = 1
        split(substr($0, RSTART + 15), w, " ")
        if (num(w[1]) != 0) bad[p] = bad[p] " errors"
    }
    if (match($0, /(definitely|indirectly) lost: [0-9,]+ bytes/)) {
        split(substr($0, RSTART), w, " ")
        if (num(w[3]) != 0) bad[p] = bad[p] " " w[1] "-lost"
    }
    # An error report of a process that left valgrind by execve() before its summary.
    if ($0 ~ /^==[0-9]+== (Invalid|Conditional|Syscall param|Mismatched|Source and destination|Use of uninitialised|Argument)/)
        bad[p] = bad[p] " error-report"
    next
}
/^valgrind: / { bad[FILENAME " (valgrind)"] = " " $0; order[++n] = FILENAME " (valgrind)" }
END {
    for (i = 1; i <= n; i++) {
        p = order[i]
        if (p in seen) { total++; if (p in exited) ran++; else left++ }
    }
    printf "valgrind: %d husk processes ran to exit under memcheck, %d more wrote to the log and left it by execve or were killed\n", ran, left
    nb = 0
    for (i = 1; i <= n; i++) if (order[i] in bad) nb++
    if (nb > 0) {
        print "valgrind: memcheck errors or lost memory in:"
        for (i = 1; i <= n; i++) if (order[i] in bad) print "  " order[i] ":" bad[order[i]]
        exit 1
    }
    if (total == 0) { print "valgrind: no husk process in the logs"; exit 1 }
    print "valgrind: 0 errors, 0 bytes definitely or indirectly lost"
}' "$@"
