/* layer_int.h — helpers shared by layer.c and layer_tar.c (not part of the engine's
 * interface). */
#ifndef HUSK_ENGINE_LAYER_INT_H
#define HUSK_ENGINE_LAYER_INT_H

/* Remove everything inside the directory dirfd (dirfd itself stays), never following
 * a symlink. Iterative (it holds two fds whatever the depth), so a tree deeper than
 * the fd limit is removed too. Returns 0 or -errno. */
int tree_clear(int dirfd);

/* Remove name in dirfd, whatever it is (a directory with everything in it). A
 * missing name is fine. Returns 0 or -errno. */
int tree_remove_at(int dirfd, const char *name);

#endif
