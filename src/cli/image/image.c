/* image.c — `husk image VERB`: the image commands, one file per verb. */
#include "engine.h"
#include "util.h"

static const struct engine_verb verbs[] = {
    { "ls", cmd_image_ls, "list images" },
    { "list", cmd_image_ls, "list images (ls)" },
    { "inspect", cmd_image_inspect, "show images as JSON (docker's keys)" },
    { "tag", cmd_image_tag, "give an image another name" },
    { "rm", cmd_image_rm, "remove images (or one of their names)" },
    { "history", cmd_image_history, "show how an image was made, layer by layer" },
    { "import", cmd_image_import, "make an image from a root filesystem tarball" },
    { "load", cmd_image_load, "load images from a docker-archive, oci-archive or OCI layout" },
    { "save", cmd_image_save, "save images to a docker-archive or oci-archive" },
    { "prune", cmd_image_prune, "remove unused images, blobs and layers" },
    { "pull", cmd_image_pull, "pull an image from a registry" },
    { "push", cmd_image_push, "push an image to a registry" },
};

int cmd_image(struct cli_global *g, int argc, char **argv)
{
    return engine_dispatch(g, "image", verbs, ARRAY_SIZE(verbs), argc, argv);
}
