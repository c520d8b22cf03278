/* devices.h — /dev inside the container: the default devices (null zero full random
 * urandom tty), /dev/ptmx -> pts/ptmx, linux.devices, /dev/fd and std{in,out,err}
 * links, /dev/pts and /dev/shm directories when no mount provides them.
 * In a user namespace mknod is impossible, so devices are bind-mounted from the host. */
#ifndef HUSK_DEVICES_H
#define HUSK_DEVICES_H

#include "container.h"

int devices_setup(struct husk_container *c, int rootfd, husk_err **err);

#endif
