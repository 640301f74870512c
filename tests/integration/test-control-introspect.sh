#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The D-Bus API that apprunnerd serves matches its contract in dbus/*.xml.
# For each of the five interfaces, the live introspection data of one object
# has exactly the methods, properties and signals of the XML file. Methods
# are compared with argument names, types and directions, and properties
# with type and access. The Service and Operation objects come from a
# service whose image layout does not exist, so its CREATE_SERVICE
# operation fails without running anything.

. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"

work=$(mktemp -d "$IT_SCRATCH/control-introspect.XXXXXX")
at_exit "rm -rf '$work'"

cat >"$work/compare.py" <<'EOF'
"""Compare the interface of a contract XML file with live introspection XML.

Usage: compare.py CONTRACT_XML LIVE_XML INTERFACE
Prints one line per difference and exits 1 if there is any.
"""
import sys
import xml.etree.ElementTree as ET


def members(path, interface):
    root = ET.parse(path).getroot()
    found = [i for i in root.findall("interface") if i.get("name") == interface]
    if len(found) != 1:
        sys.exit(f"{path}: expected one interface {interface}, found {len(found)}")
    node = found[0]
    result = {}
    for method in node.findall("method"):
        args = tuple((a.get("name"), a.get("type"), a.get("direction", "in")) for a in method.findall("arg"))
        result["method " + method.get("name")] = args
    for signal in node.findall("signal"):
        args = tuple((a.get("name"), a.get("type")) for a in signal.findall("arg"))
        result["signal " + signal.get("name")] = args
    for prop in node.findall("property"):
        result["property " + prop.get("name")] = (prop.get("type"), prop.get("access"))
    return result


contract_path, live_path, interface = sys.argv[1:4]
contract = members(contract_path, interface)
live = members(live_path, interface)
differences = []
for key in sorted(contract.keys() - live.keys()):
    differences.append(f"{interface}: {key} is in {contract_path} but not served")
for key in sorted(live.keys() - contract.keys()):
    differences.append(f"{interface}: {key} is served but not in {contract_path}")
for key in sorted(contract.keys() & live.keys()):
    if contract[key] != live[key]:
        differences.append(f"{interface}: {key} is {live[key]} when served, {contract[key]} in {contract_path}")
print("\n".join(differences) if differences else f"{interface}: {len(contract)} members match")
sys.exit(1 if differences else 0)
EOF

# check_interface OBJECT_PATH INTERFACE: compares the interface served at
# OBJECT_PATH with dbus/INTERFACE.xml.
check_interface() {
        local path=$1 interface=$2 contract=$IT_SRC/dbus/$2.xml live
        live=$work/$interface.live.xml
        [[ -f $contract ]] || fail "no contract file $contract"
        busctl introspect --xml-interface "$APPRUNNER_BUS_NAME" "$path" >"$live"
        assert_ok xmllint --noout "$live"
        python3 "$work/compare.py" "$contract" "$live" "$interface" ||
                fail "$interface served at $path differs from $contract"
}

service_status() {
        bus_property "$1" org.apprunner1.Service Status | jq -r .data
}

# service_has_status OBJECT_PATH STATUS
service_has_status() {
        [[ $(service_status "$1") == "$2" ]]
}

service_gone() {
        ! busctl call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" \
                GetService s introspect-svc >/dev/null 2>&1 ||
                [[ $(service_status "$service_path") == DELETED ]]
}

delete_service() {
        manager_call DeleteService s introspect-svc >/dev/null 2>&1 || return 0
        wait_until 60 service_gone
}

log "every contract file is well-formed XML"
for file in "$IT_SRC"/dbus/org.apprunner1.*.xml; do
        assert_ok xmllint --noout "$file"
done
contracts=$(cd "$IT_SRC/dbus" && ls org.apprunner1.*.xml | sed 's/\.xml$//' | sort | tr '\n' ' ')
assert_eq "org.apprunner1.AutoScalingConfiguration org.apprunner1.Connection org.apprunner1.Manager org.apprunner1.Operation org.apprunner1.Service " \
        "$contracts" "interfaces with a contract file"

log "org.apprunner1.Manager"
check_interface "$APPRUNNER_MANAGER_PATH" org.apprunner1.Manager

log "org.apprunner1.AutoScalingConfiguration"
asc_path=$(manager_call CreateAutoScalingConfiguration 'sa{sv}' introspect-asc 0 | jq -r '.data[0]')
asc_arn=$(bus_property "$asc_path" org.apprunner1.AutoScalingConfiguration AutoScalingConfigurationArn | jq -r .data)
at_exit "manager_call DeleteAutoScalingConfiguration sb '$asc_arn' true >/dev/null 2>&1"
check_interface "$asc_path" org.apprunner1.AutoScalingConfiguration

log "org.apprunner1.Connection"
connection_path=$(manager_call CreateConnection 'ssa{sv}' introspect-conn REGISTRY 2 Username s u Password s p |
        jq -r '.data[0]')
connection_arn=$(bus_property "$connection_path" org.apprunner1.Connection ConnectionArn | jq -r .data)
at_exit "manager_call DeleteConnection s '$connection_arn' >/dev/null 2>&1"
check_interface "$connection_path" org.apprunner1.Connection

log "org.apprunner1.Service and org.apprunner1.Operation of a service that fails to create"
at_exit delete_service
reply=$(manager_call CreateService 'sa{sv}' introspect-svc 1 ImageIdentifier s "oci:$IT_SCRATCH/no-such-layout:latest")
service_path=$(jq -r '.data[0]' <<<"$reply")
operation_id=$(jq -r '.data[1]' <<<"$reply")
operation_path=$(manager_call GetOperation s "$operation_id" | jq -r '.data[0]')
check_interface "$service_path" org.apprunner1.Service
check_interface "$operation_path" org.apprunner1.Operation
wait_until 60 service_has_status "$service_path" CREATE_FAILED

log "the Properties interface serves what introspection lists"
for path in "$APPRUNNER_MANAGER_PATH" "$asc_path" "$connection_path" "$service_path" "$operation_path"; do
        interface=$(busctl introspect --xml-interface "$APPRUNNER_BUS_NAME" "$path" |
                python3 -c 'import sys, xml.etree.ElementTree as ET
print(next(i.get("name") for i in ET.parse(sys.stdin).getroot().findall("interface") if i.get("name").startswith("org.apprunner1.")))')
        listed=$(python3 -c 'import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(" ".join(sorted(p.get("name") for p in root.iter("property"))))' "$IT_SRC/dbus/$interface.xml")
        served=$(busctl --json=short call "$APPRUNNER_BUS_NAME" "$path" org.freedesktop.DBus.Properties GetAll s "$interface" |
                jq -r '.data[0] | keys | sort | join(" ")')
        assert_eq "$listed" "$served" "properties of $interface from GetAll at $path"
done
