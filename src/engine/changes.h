/* changes.h — Dockerfile instructions applied to an image config, as `docker import
 * --change` and `docker commit --change` take them:
 *
 *   CMD ["sh","-c","x"] | CMD echo hi      -> Cmd (shell form: ["/bin/sh","-c","echo hi"])
 *   ENTRYPOINT …                            -> Entrypoint (same two forms)
 *   ENV K=V [K2="v 2" …] | ENV K V          -> Env (a key set again is replaced)
 *   WORKDIR /path (relative: below the previous one) -> WorkingDir
 *   USER name[:group]                       -> User
 *   LABEL k=v …                             -> Labels
 *   EXPOSE 80 [53/udp …]                    -> ExposedPorts {"80/tcp": {}}
 *   VOLUME ["/a"] | VOLUME /a /b            -> Volumes {"/a": {}}
 *   STOPSIGNAL SIGTERM                      -> StopSignal
 *
 * Anything else (RUN, COPY, ONBUILD …) is refused, naming the instruction. */
#ifndef HUSK_ENGINE_CHANGES_H
#define HUSK_ENGINE_CHANGES_H

#include "error.h"

struct json_object;

/* Apply one instruction to config (the "config" object of an image config,
 * docker's ContainerConfig keys). Errors: `--change "X": …`. */
int image_config_apply_change(struct json_object *config, const char *change, husk_err **err);

#endif
