/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* App Runner's naming rules and value ranges. Each check returns 0, or
 * -EINVAL with a sentence in *ret_error that names the field, the value
 * and what is allowed. */

#include <stdbool.h>

#include "model.h"

#define SERVICE_NAME_MIN  4
#define SERVICE_NAME_MAX  40
#define RESOURCE_NAME_MIN 4
#define RESOURCE_NAME_MAX 32

#define MAX_CONCURRENCY_MIN     1
#define MAX_CONCURRENCY_MAX     200
#define MAX_CONCURRENCY_DEFAULT 100
#define SIZE_MIN                1
#define MIN_SIZE_MAX            25
#define MAX_SIZE_MAX            25
#define MIN_SIZE_DEFAULT        1
#define MAX_SIZE_DEFAULT        25

#define HEALTH_VALUE_MIN            1
#define HEALTH_VALUE_MAX            20
#define HEALTH_INTERVAL_DEFAULT     5
#define HEALTH_TIMEOUT_DEFAULT      2
#define HEALTHY_THRESHOLD_DEFAULT   1
#define UNHEALTHY_THRESHOLD_DEFAULT 5

#define CPU_DEFAULT             1024
#define MEMORY_DEFAULT          2048
#define PORT_DEFAULT            "8080"
#define REQUEST_TIMEOUT_DEFAULT 120
#define REQUEST_TIMEOUT_MAX     3600

/* Revisions per auto scaling configuration name; App Runner does not let
 * this quota be raised, and neither does apprunnerd. */
#define AUTO_SCALING_REVISIONS_MAX 10

#define DEFAULT_AUTO_SCALING_NAME "DefaultConfiguration"

int validate_service_name(const char *name, char **ret_error);
/* Auto scaling configuration and connection names. */
int validate_resource_name(const char *field, const char *name, char **ret_error);

/* Accepts "256" .. "4096" CPU units or "0.25 vCPU" .. "4 vCPU". */
int parse_cpu(const char *s, unsigned *ret_units, char **ret_error);
/* Accepts "512" .. "12288" MB or "0.5 GB" .. "12 GB". */
int parse_memory(const char *s, unsigned *ret_mb, char **ret_error);
/* Checks the pair against App Runner's allowed combinations. */
int validate_cpu_memory(unsigned cpu, unsigned memory, char **ret_error);

int validate_port(const char *port, char **ret_error);
int validate_environment_name(const char *name, char **ret_error);
int validate_health_value(const char *field, unsigned value, char **ret_error);
int validate_health_path(const char *path, char **ret_error);
int validate_auto_scaling(unsigned max_concurrency, unsigned min_size, unsigned max_size, char **ret_error);
int validate_image_repository_type(const char *type, char **ret_error);
/* Derives the repository type from the identifier's form ("oci:" prefix or
 * registry reference) and checks that an explicit type matches it. */
int validate_image_identifier(const char *identifier, const char *type, char **ret_type, char **ret_error);

/* Fills a spec with App Runner's defaults. */
int service_spec_init_defaults(ServiceSpec *s);
/* Checks every field of a complete spec. */
int service_spec_validate(const ServiceSpec *s, char **ret_error);
