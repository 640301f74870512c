#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Deploy the busybox sample service on a machine where apprunnerd.service
# runs, and request it once through the ingress.
#
#   demo/deploy-sample.sh [SERVICE_NAME]
#
# SERVICE_NAME defaults to "hello" (4 to 40 letters, digits, "-" or "_").
# Must run as root: mkimage.sh needs root, and so does apprunnerctl
# create-service unless the caller is in group apprunner.
#
# Steps: build an OCI image layout with tests/unit/image/mkimage.sh, create
# the service from an App Runner request document, wait until its status is
# RUNNING, then print its ServiceUrl, its instances, and the curl command
# with its output. A service of the same name that already exists is
# reused, not created again.
#
# Environment:
#   DEMO_DIR=/var/tmp/apprunner-demo   where the image layout and the
#                                       request document are written; it must
#                                       be readable by apprunnerd, which runs
#                                       with ProtectHome=yes (so not /root)
#   WAIT_TIMEOUT=300                    seconds to wait for RUNNING

set -euo pipefail

service_name=${1:-hello}
DEMO_DIR=${DEMO_DIR:-/var/tmp/apprunner-demo}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
        echo "deploy-sample.sh: $*" >&2
        exit 1
}

# Print a command, quoted so that it can be pasted into a shell, then run it.
show() {
        printf '$'
        printf ' %q' "$@"
        printf '\n'
        "$@"
}

[[ $EUID -eq 0 ]] || die "must run as root (mkimage.sh unpacks image layers with their owners)"
for tool in apprunnerctl umoci jq curl busctl; do
        command -v "$tool" >/dev/null || die "$tool not found; run demo/run.sh, which installs it"
done

# apprunnerd is enabled at boot and may still be starting; bus activation
# would start it too, but waiting here gives a clearer error.
for _ in $(seq 1 50); do
        busctl status org.apprunner1 >/dev/null 2>&1 && break
        sleep 0.2
done
busctl status org.apprunner1 >/dev/null 2>&1 ||
        die "org.apprunner1 is not on the system bus; see: systemctl status apprunnerd.service"

mkdir -p "$DEMO_DIR"
layout=$DEMO_DIR/layout
request=$DEMO_DIR/create-$service_name.json

if apprunnerctl describe-service --service-arn "$service_name" >/dev/null 2>&1; then
        echo "== service $service_name exists already; reusing it"
else
        echo "== building the busybox sample image into $layout (tag sample)"
        "$source_root/tests/unit/image/mkimage.sh" "$layout" sample "Hello from apprunnerd"

        # The request document has App Runner's CreateService shape. Only the
        # oci: image identifier and the type OCI_LAYOUT are apprunnerd's own.
        cat >"$request" <<EOF
{
    "ServiceName": "$service_name",
    "SourceConfiguration": {
        "ImageRepository": {
            "ImageIdentifier": "oci:$layout:sample",
            "ImageRepositoryType": "OCI_LAYOUT",
            "ImageConfiguration": {"Port": "8080"}
        },
        "AutoDeploymentsEnabled": false
    },
    "InstanceConfiguration": {"Cpu": "0.25 vCPU", "Memory": "0.5 GB"},
    "HealthCheckConfiguration": {"Protocol": "HTTP", "Path": "/", "Interval": 2, "HealthyThreshold": 1}
}
EOF
        echo "== request document $request"
        cat "$request"
        echo
        echo "== creating the service"
        show apprunnerctl create-service --cli-input-json "file://$request"
fi

echo "== waiting up to ${WAIT_TIMEOUT}s for status RUNNING"
show apprunnerctl wait service-running --service-arn "$service_name" --timeout "$WAIT_TIMEOUT"

url=$(apprunnerctl describe-service --service-arn "$service_name" | jq -r .Service.ServiceUrl)
[[ -n $url && $url != null ]] || die "service $service_name has no ServiceUrl"
echo "== ServiceUrl: $url"

echo "== instances"
show apprunnerctl list-instances --service-arn "$service_name"

echo "== one request through the ingress"
show curl --silent --show-error --fail --max-time 10 -H "Host: $url" http://127.0.0.1/
