/* volumes.h — docker's volumes: named and anonymous local volumes, bind mounts and
 * tmpfs mounts given to a container (-v, --mount, --volumes-from, the image's
 * Volumes).
 *
 *   ROOT/volumes/<name>/_data          what the container sees (docker's layout)
 *   ROOT/volumes/<name>/volume.json    {Name, Driver:"local", Mountpoint, Labels,
 *                                       CreatedAt, Scope:"local", Anonymous}
 *   ROOT/volumes/.tmp-*  .rm-*         a create or remove that was killed halfway
 *
 * A volume is made whole in a temporary directory (its _data filled with the
 * image's content first, when it is new) and renamed to its name: a name is always
 * a complete volume. Removing renames it away first, then deletes the tree: a
 * killed remove leaves a .rm-* that the next listing deletes, never half a volume.
 *
 * A volume is a bind mount in the container's OCI config: the runtime resolves its
 * destination inside the rootfs (openat2 RESOLVE_IN_ROOT), so an image's symlink at
 * the destination can never send it onto the host; the engine never resolves a
 * destination on the host itself. */
#ifndef HUSK_ENGINE_VOLUMES_H
#define HUSK_ENGINE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct json_object;

enum vol_type { VOL_BIND, VOL_VOLUME, VOL_TMPFS };

/* One mount a user asked for, parsed (pure). */
struct vol_spec {
    enum vol_type type;
    char *source;       /* bind: the host path; volume: its name, NULL: anonymous; tmpfs: NULL */
    char *target;       /* the container path, absolute and clean */
    bool readonly;
    bool nocopy;        /* volume-nocopy / -v …:nocopy: a new (or empty) volume is not filled */
    char *propagation;  /* bind-propagation (rprivate when NULL) */
    int64_t tmpfs_size; /* bytes, -1: the kernel's default */
    int tmpfs_mode;     /* -1: the kernel's default */
};
void vol_spec_clear(struct vol_spec *s);

/* -v HOST:CTR[:OPTS] | NAME:CTR[:OPTS] | CTR (OPTS: ro, rw, nocopy, z, Z, and a
 * propagation: private, rprivate, shared, rshared, slave, rslave). Errors name the
 * argument: `-v "x:y": the container path must be absolute`. */
int vol_parse_v(const char *arg, struct vol_spec *out, husk_err **err);
/* --mount type=bind|volume|tmpfs,source=…,target=…,readonly,… (docker's keys: src,
 * source; dst, destination, target; ro, readonly[=true|false|1|0]; volume-nocopy;
 * bind-propagation; tmpfs-size; tmpfs-mode). type defaults to volume. */
int vol_parse_mount(const char *arg, struct vol_spec *out, husk_err **err);

/* docker's local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at least 2 bytes, at most 255. */
bool vol_name_valid(const char *name);

/* ---- the volumes themselves -------------------------------------------------------- */

/* ROOT/volumes/<name> (new string). */
char *vol_dir(const struct store *st, const char *name);

/* Create the volume name (NULL: anonymous, a random 64-hex name). fill_root and
 * fill_path (both or neither): a rootfs directory fd and a path in it whose
 * directory's content (owners, modes, xattrs; resolved beneath the rootfs) fills
 * the new volume before it gets its name. If it exists already, nothing is changed
 * and *created is false. *name_out gets the name. */
int vol_create(struct store *st, const char *name, char *const *labels, int fill_root, const char *fill_path,
               char **name_out, bool *created, husk_err **err);

/* An existing volume whose _data is empty and that no container uses gets the
 * content of fill_path in the rootfs (docker fills a volume made by `volume
 * create` on its first mount); one with content is never touched. */
int vol_fill_if_empty(struct store *st, const char *name, int fill_root, const char *fill_path, husk_err **err);

/* The volume's volume.json (new object), `no such volume: "X"` if there is none. */
int vol_inspect(struct store *st, const char *name, struct json_object **out, husk_err **err);

/* Every volume's name, sorted (NULL-terminated). Leftovers of killed creates and
 * removes are deleted. */
int vol_list(struct store *st, char ***out, husk_err **err);

/* The containers whose record mounts the volume (ids, NULL-terminated). */
int vol_users(struct store *st, const char *name, char ***ids_out, husk_err **err);

/* Is the volume used by any container? used: the names every record mounts
 * (NULL-terminated, each once per container), from vol_used_names. */
int vol_used_names(struct store *st, char ***out, husk_err **err);
bool vol_in(char *const *used, const char *name);
/* Labels of a volume.json match a filter "K" or "K=V"? */
bool vol_label_match(struct json_object *vol, const char *filter);

/* Remove a volume; refused while a container uses it (docker: -f or not). */
int vol_remove(struct store *st, const char *name, husk_err **err);

/* Remove the anonymous volumes of a container record's Mounts that no other
 * container uses (`rm -v`, --rm). Errors are reported, not returned. */
void vol_remove_anonymous(struct store *st, struct json_object *record, const char *id);

/* ---- a container's mounts ---------------------------------------------------------- */

/* What a create mounts: the flags, --volumes-from, the image's Volumes. */
struct vol_plan_item {
    struct vol_spec spec;
    char *host;         /* the host path bind-mounted (a volume's _data), set by vol_plan_realize */
    bool created;       /* the volume was made by this create */
    bool anonymous;
    char *mode;         /* as typed ("ro", "z" …) for Mounts[].Mode, or "" */
    bool from_bind_flag; /* -v HOST:CTR: goes into HostConfig.Binds */
    char *bind_text;    /* the -v text for HostConfig.Binds */
    int lock_fd;        /* the volume held shared until the record is written, or -1 */
};
struct vol_plan {
    struct vol_plan_item *v;
    size_t n;
};
void vol_plan_clear(struct vol_plan *p);

/* Parse and check everything before anything is made: the specs, a bind's host
 * path (must exist), duplicate destinations, the containers of --volumes-from
 * (CONTAINER[:ro|rw]), then the image config's Volumes not already covered. */
int vol_plan_build(struct store *st, char *const *v_args, char *const *mount_args, char *const *from_args,
                   struct json_object *image_config, struct vol_plan *p, husk_err **err);

/* Create the volumes (new ones filled from rootfs_fd's content at the destination),
 * each held (flock shared) until vol_plan_clear: a remove meanwhile is refused. */
int vol_plan_realize(struct store *st, struct vol_plan *p, int rootfs_fd, husk_err **err);

/* Put the mounts into the OCI config's "mounts" (replacing a default mount of the
 * same destination; parents before children). */
void vol_plan_apply(const struct vol_plan *p, struct json_object *oci);

/* docker's Mounts array and HostConfig.Binds into the container record. */
void vol_plan_record(const struct vol_plan *p, struct json_object *record);

/* Undo vol_plan_realize after a failed create: the volumes it made go. */
void vol_plan_undo(struct store *st, struct vol_plan *p);

#endif
