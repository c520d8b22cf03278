/* ctr_inspect.c — a container as `docker inspect` shows it: the record's keys
 * (Id, Created, Path, Args, Image, Name, Config, HostConfig) with the live State,
 * RestartCount, the overlay's GraphDriver, Mounts and NetworkSettings. */
#include <json-c/json.h>
#include <string.h>

#include "networks.h"

#include "ctr_life.h"
#include "util.h"

int ctr_inspect(struct store *st, const char *runroot, const char *id, struct json_object **out, husk_err **err)
{
    struct json_object *rec = NULL;
    struct ctr_state s = { 0 };
    if (ctr_state_get(st, runroot, id, &s, err) < 0)
        return -1;
    if (ctr_record_read(st, id, &rec, err) < 0) {
        ctr_state_clear(&s);
        return -1;
    }
    struct json_object *state = json_object_new_object();
    json_object_object_add(state, "Status", json_object_new_string(ctr_status_name(s.status)));
    json_object_object_add(state, "Running", json_object_new_boolean(s.status == CTR_RUNNING || s.status == CTR_PAUSED));
    json_object_object_add(state, "Paused", json_object_new_boolean(s.status == CTR_PAUSED));
    json_object_object_add(state, "Restarting", json_object_new_boolean(false));
    json_object_object_add(state, "OOMKilled", json_object_new_boolean(false));
    json_object_object_add(state, "Dead", json_object_new_boolean(false));
    json_object_object_add(state, "Pid", json_object_new_int(s.status == CTR_RUNNING || s.status == CTR_PAUSED ? s.pid : 0));
    json_object_object_add(state, "ExitCode", json_object_new_int(s.exit_code));
    json_object_object_add(state, "Error", json_object_new_string(s.error ? s.error : ""));
    json_object_object_add(state, "StartedAt", json_object_new_string(s.started_at ? s.started_at : "0001-01-01T00:00:00Z"));
    json_object_object_add(state, "FinishedAt",
                           json_object_new_string(s.finished_at ? s.finished_at : "0001-01-01T00:00:00Z"));
    json_object_object_add(rec, "State", state);
    json_object_object_add(rec, "RestartCount", json_object_new_int(s.restart_count));

    _cleanup_free_ char *dir = ctr_dir(st, id);
    struct json_object *gd = json_object_new_object(), *data = json_object_new_object();
    _cleanup_free_ char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir),
                        *merged = xasprintf("%s/bundle/rootfs", dir), *log = xasprintf("%s/ctr.log", dir);
    json_object_object_add(data, "UpperDir", json_object_new_string(upper));
    json_object_object_add(data, "WorkDir", json_object_new_string(work));
    json_object_object_add(data, "MergedDir", json_object_new_string(merged));
    json_object_object_add(gd, "Name", json_object_new_string("overlay"));
    json_object_object_add(gd, "Data", data);
    json_object_object_add(rec, "GraphDriver", gd);
    json_object_object_add(rec, "LogPath", json_object_new_string(log));
    struct json_object *v;
    if (!json_object_object_get_ex(rec, "Mounts", &v))
        json_object_object_add(rec, "Mounts", json_object_new_array());
    if (!json_object_object_get_ex(rec, "NetworkSettings", &v))
        json_object_object_add(rec, "NetworkSettings", net_ctr_settings(st, id));
    json_object_object_del(rec, "Layers");
    ctr_state_clear(&s);
    *out = rec;
    return 0;
}
