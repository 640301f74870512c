/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Feeds arbitrary bytes to every OCI JSON parser of the image store. */

#include <stddef.h>
#include <stdint.h>

#include "image/oci-json.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        OciIndex *index = NULL;
        OciManifest *manifest = NULL;
        OciImageConfig *config = NULL;
        OciMediaKind kind;
        char *error = NULL, *media_type = NULL;

        if (oci_index_parse(data, size, &index, &error) >= 0) {
                (void)oci_index_find_tag(index, "latest");
                (void)oci_index_find_host_platform(index);
        }
        index = oci_index_free(index);
        free(error);
        error = NULL;

        (void)oci_manifest_parse(data, size, &manifest, &error);
        manifest = oci_manifest_free(manifest);
        free(error);
        error = NULL;

        (void)oci_image_config_parse(data, size, &config, &error);
        config = oci_image_config_free(config);
        free(error);

        if (oci_document_media_type(data, size, &media_type, &kind) >= 0)
                free(media_type);
        return 0;
}
