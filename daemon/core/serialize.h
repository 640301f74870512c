/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Conversion of resources to and from the JSON documents of the state
 * store. The *_from_json functions reject a document that lacks a required
 * field or carries a value outside its range, so a hand-edited or torn
 * file is reported instead of loaded half-way. */

#include <json-c/json.h>

#include "model.h"

int service_to_json(const Service *s, json_object **ret);
int service_from_json(json_object *doc, Service **ret);
int operation_to_json(const Operation *o, json_object **ret);
int operation_from_json(json_object *doc, Operation **ret);
int auto_scaling_configuration_to_json(const AutoScalingConfiguration *c, json_object **ret);
int auto_scaling_configuration_from_json(json_object *doc, AutoScalingConfiguration **ret);
int connection_to_json(const Connection *c, json_object **ret);
int connection_from_json(json_object *doc, Connection **ret);

int service_spec_to_json(const ServiceSpec *s, json_object **ret);
int service_spec_from_json(json_object *doc, ServiceSpec *ret);
