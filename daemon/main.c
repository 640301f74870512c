/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "bus/bus-util.h"
#include "config/config.h"
#include "core/autodeploy.h"
#include "core/deployer.h"
#include "core/engine.h"
#include "core/manager.h"
#include "log.h"

static const char *arg_config_root = SYSCONFDIR "/apprunner";
static bool arg_check_config = false;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Runs App Runner-style web services as systemd units and serves org.apprunner1 on the system "
               "bus.\n\n"
               "  -h --help             Show this help and exit\n"
               "     --version          Show the version and exit\n"
               "     --check-config     Check the configuration and exit: 0 when valid\n"
               "     --config-root=DIR  Read apprunnerd.conf and apprunnerd.conf.d/ from DIR\n"
               "                        (default: %s)\n",
               program_invocation_short_name, SYSCONFDIR "/apprunner");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CHECK_CONFIG, ARG_CONFIG_ROOT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"config-root", required_argument, NULL, ARG_CONFIG_ROOT},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("apprunnerd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_CONFIG_ROOT:
                        arg_config_root = optarg;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("%s takes no positional arguments, got '%s'.", program_invocation_short_name,
                          argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, stopping. Running instances stay up; they are adopted at the next start.",
                 strsignal((int)si->ssi_signo));
        (void)sd_notify(false, "STOPPING=1\nSTATUS=Stopping.");
        return sd_event_exit(m->event, 0);
}

static int run(int argc, char *argv[]) {
        Manager *m = NULL;
        _cleanup_free_ char *error = NULL;
        const char *state_dir, *runtime_dir;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (arg_check_config) {
                Config c;

                log_set_target_stderr(true);
                r = config_init_defaults(&c);
                if (r < 0)
                        return log_oom();
                r = config_load(&c, arg_config_root, &error);
                config_done(&c);
                if (r < 0)
                        return log_error_errno(r, "%s", error ?: "Failed to load the configuration.");
                printf("Configuration in %s is valid.\n", arg_config_root);
                return 0;
        }

        state_dir = getenv("STATE_DIRECTORY") ?: "/var/lib/apprunner";
        runtime_dir = getenv("RUNTIME_DIRECTORY") ?: "/run/apprunner";

        r = manager_new(state_dir, runtime_dir, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the manager: %m");

        r = config_load(&m->config, arg_config_root, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error ?: "Failed to load the configuration.");
                goto finish;
        }

        {
                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGTERM);
                sigaddset(&mask, SIGINT);
                sigprocmask(SIG_BLOCK, &mask, NULL);
        }
        signal(SIGPIPE, SIG_IGN);
        (void)sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m);
        (void)sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m);
        (void)sd_event_set_watchdog(m->event, true);

        r = sd_bus_open_system(&m->bus);
        if (r < 0) {
                log_error_errno(r, "Failed to connect to the system bus: %m");
                goto finish;
        }
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                log_error_errno(r, "Failed to attach the bus to the event loop: %m");
                goto finish;
        }

        m->deployer = &image_deployer;

        r = manager_load(m);
        if (r < 0)
                goto finish;

        if (m->deployer->init) {
                r = m->deployer->init(m);
                if (r < 0) {
                        log_error_errno(r, "Failed to initialize the %s deployer: %m", m->deployer->name);
                        goto finish;
                }
        }

        r = bus_setup(m);
        if (r < 0)
                goto finish;

        r = engine_resume(m);
        if (r < 0)
                goto finish;
        if (m->deployer->resumed)
                m->deployer->resumed(m);

        r = autodeploy_start(m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the automatic deployment timer, continuing without: %m");

        (void)sd_notifyf(false, "READY=1\nSTATUS=Serving %zu services.", manager_count_active_services(m));
        log_info("apprunnerd %s is ready: %zu services, region %s, account %s.", PACKAGE_VERSION,
                 manager_count_active_services(m), m->config.region, m->config.account_id);

        r = sd_event_loop(m->event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");

finish:
        manager_free(m);
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
