/* copyup.h — copy a directory tree between two open directories (tmpcopyup). */
#ifndef HUSK_COPYUP_H
#define HUSK_COPYUP_H

#include <stdbool.h>

#include "error.h"

/* Copy the contents of directory `src` into the (empty) directory `dst`: regular
 * files, directories, symlinks, fifos and device nodes, with their mode, owner and
 * times; sockets are skipped, hard links become separate copies. `what` names the
 * tree in errors. Never follows a symlink of the source tree: every step is an *at
 * call relative to an fd opened with O_NOFOLLOW. With `root_meta`, `dst` itself
 * takes the mode, owner and times of `src`. */
int copyup_tree(int src, int dst, bool root_meta, const char *what, husk_err **err);

#endif
