/* selfclone.c — see selfclone.h. */
#include "selfclone.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

extern char **environ;

#define HUSK_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int selfclone_ensure(char **argv, husk_err **err)
{
    /* Under valgrind (make valgrind-check, which looks for leaks and memory errors
     * in husk's own process) the re-exec would leave valgrind: it follows an execve
     * only with --trace-children=yes, and then it would also follow the container's
     * user program, which must run natively. There is nothing to defend there
     * either: what the kernel maps as /proc/PID/exe of husk and its stages is
     * valgrind's tool binary, not the husk binary. RUNNING_ON_VALGRIND is a client
     * request that only valgrind's CPU emulation answers (a no-op instruction
     * sequence on the real CPU), so unlike an environment variable nobody can use it
     * to turn the defence off for a real husk. */
    if (RUNNING_ON_VALGRIND)
        return 0;

    _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return husk_fail(err, errno, "open /proc/self/exe");

    /* Already the sealed copy: nothing to do (this is the re-executed husk). */
    int seals = fcntl(self, F_GET_SEALS);
    if (seals >= 0 && (seals & HUSK_SEALS) == HUSK_SEALS)
        return 0;

    struct stat st;
    if (fstat(self, &st) < 0)
        return husk_fail(err, errno, "stat /proc/self/exe");

    /* Not MFD_CLOEXEC: fexecve() of a close-on-exec memfd works for ELF binaries,
     * but keeping it open across exec would leak it; so CLOEXEC it is, and the
     * kernel holds its own reference to the executable. */
    _cleanup_close_ int mfd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return husk_fail(err, errno, "memfd_create");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return husk_fail(err, n < 0 ? errno : EIO, "copy /proc/self/exe to a memfd");
    }
    /* Seal it: nobody, the container included, can ever change these bytes. */
    if (fcntl(mfd, F_ADD_SEALS, HUSK_SEALS) < 0)
        return husk_fail(err, errno, "seal the husk memfd");
    fexecve(mfd, argv, environ);
    return husk_fail(err, errno, "re-execute husk from its sealed copy");
}
