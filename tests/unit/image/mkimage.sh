#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds a small busybox web server image into an OCI image layout.
#
#   mkimage.sh LAYOUT_DIR TAG VERSION
#
# LAYOUT_DIR  OCI image layout; created when missing, otherwise TAG is added
#             or replaced in it (several tags can share one layout)
# TAG         tag of the new image, as in oci:LAYOUT_DIR:TAG
# VERSION     text written to /www/index.html, so a test can tell versions apart
#
# The image runs `busybox httpd -f -p $PORT -h /www` as its entrypoint, with
# PORT taken from the container's environment and 8080 when unset, so
# `curl http://ADDRESS:PORT/` returns VERSION followed by a newline. It has
# two layers: busybox with its applet symlinks (identical bytes in every
# image this script builds, so stores share it), then /www.
#
# Needs root (umoci unpack keeps file owners), umoci and busybox-static.
# Prints nothing on success; exits non-zero on the first failing step.

set -eu

if [ $# -ne 3 ]; then
        echo "usage: $0 LAYOUT_DIR TAG VERSION" >&2
        exit 2
fi
layout=$1
tag=$2
version=$3
busybox=${BUSYBOX:-/bin/busybox}

work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ -e "$layout/oci-layout" ] || umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$work/bundle"
rootfs=$work/bundle/rootfs

# Layer 1: busybox and its symlinks, with fixed times and modes so that the
# layer is byte-identical between runs.
mkdir -p "$rootfs/bin" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
for applet in sh ls cat echo env httpd sleep wget id; do
        ln -s busybox "$rootfs/bin/$applet"
done
find "$rootfs" -exec touch -h -d @0 {} +
umoci repack --refresh-bundle --image "$layout:$tag" "$work/bundle"

# Layer 2: the document root.
mkdir -p "$rootfs/www"
printf '%s\n' "$version" > "$rootfs/www/index.html"
umoci repack --image "$layout:$tag" "$work/bundle"

umoci config --image "$layout:$tag" \
        --config.env PATH=/bin \
        --config.workingdir /www \
        --config.exposedports 8080/tcp \
        --config.entrypoint /bin/sh \
        --config.entrypoint -c \
        --config.entrypoint 'exec /bin/busybox httpd -f -p "${PORT:-8080}" -h /www'
