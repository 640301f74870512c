/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image-config.h"
#include "macro.h"

void image_config_done(ImageConfig *c) {
        if (!c)
                return;
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        *c = (ImageConfig){};
}

ResolvedImage *resolved_image_free(ResolvedImage *i) {
        if (!i)
                return NULL;
        free(i->reference);
        free(i->manifest_digest);
        free(i->source_digest);
        free(i->config_digest);
        strv_free(i->layer_dirs);
        image_config_done(&i->config);
        free(i);
        return NULL;
}
