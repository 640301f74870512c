/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* HTTP probe: "GET <Path>" through libcurl on the loop's shared multi handle.
 *
 * Each probe opens a new connection (CURLOPT_FRESH_CONNECT, CURLOPT_FORBID_REUSE), so it tests
 * accept(2) and request handling the way a new client would. The probe ends as soon as the header
 * block of the final response has arrived: the header callback stores the status and aborts the
 * transfer, so a slow or endless body cannot make a healthy instance time out. */

#include <arpa/inet.h>
#include <stdio.h>

#include "health-internal.h"
#include "log.h"
#include "macro.h"

#define HEALTH_USER_AGENT "apprunnerd-health/1"

static size_t on_http_header(char *buffer, size_t size, size_t n_items, void *userdata) {
        HealthCheck *hc = userdata;
        size_t length = size * n_items;
        long status = 0;

        /* An empty line ends a header block. 1xx responses such as 103 Early Hints come with their
         * own header block before the final response. */
        if (!((length == 2 && buffer[0] == '\r' && buffer[1] == '\n') || (length == 1 && buffer[0] == '\n')))
                return length;

        if (curl_easy_getinfo(hc->transfer.easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
            status < 200)
                return length;

        hc->http_status = status;
        return 0; /* a short count makes curl abort the transfer with CURLE_WRITE_ERROR */
}

static size_t on_http_body(char *buffer, size_t size, size_t n_items, void *userdata) {
        return size * n_items;
}

static const char *http_status_to_reason(long status, char *buf, size_t size) {
        if (status >= 200 && status < 400)
                return NULL;
        snprintf(buf, size, "HTTP status %ld", status);
        return buf;
}

static const char *curl_result_to_reason(HealthCheck *hc, CURLcode result, char *buf, size_t size) {
        long os_errno = 0;

        switch (result) {
        case CURLE_OPERATION_TIMEDOUT:
                return health_check_format_timeout(hc, buf, size);

        case CURLE_COULDNT_CONNECT:
                if (curl_easy_getinfo(hc->transfer.easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
                    os_errno > 0)
                        return health_errno_to_reason((int)os_errno, buf, size);
                break;

        default:
                break;
        }

        /* curl's detailed message, such as "Empty reply from server", or its generic text. */
        snprintf(buf, size, "%s", hc->curl_error[0] ? hc->curl_error : curl_easy_strerror(result));
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

static void on_http_done(CURLcode result, void *userdata) {
        HealthCheck *hc = userdata;
        char reason[CURL_ERROR_SIZE + 32];
        const char *failure;
        long status = 0;

        if (hc->http_status != 0)
                /* The header callback aborted on purpose, so 'result' is CURLE_WRITE_ERROR. */
                failure = http_status_to_reason(hc->http_status, reason, sizeof(reason));
        else if (result == CURLE_OK) {
                /* Not expected, because the header callback aborts every transfer that receives a
                 * final response. The status is evaluated all the same. */
                (void)curl_easy_getinfo(hc->transfer.easy, CURLINFO_RESPONSE_CODE, &status);
                failure = http_status_to_reason(status, reason, sizeof(reason));
        } else
                failure = curl_result_to_reason(hc, result, reason, sizeof(reason));

        health_check_probe_done(hc, failure);
}

void health_http_probe_start(HealthCheck *hc) {
        char text[96], reason[160];
        int r;

        hc->http_status = 0;
        hc->curl_error[0] = '\0';

        r = health_curl_start(hc->curl, &hc->transfer);
        if (r < 0) {
                /* NOTE: a local failure counts against the instance like a refused connection. */
                snprintf(reason, sizeof(reason), "curl_multi_add_handle() failed: %s",
                         health_errno_to_reason(r, text, sizeof(text)));
                health_check_probe_done(hc, reason);
        }
}

void health_http_probe_cancel(HealthCheck *hc) {
        if (hc->curl)
                health_curl_cancel(hc->curl, &hc->transfer);
}

void health_http_release(HealthCheck *hc) {
        health_http_probe_cancel(hc);
        if (hc->transfer.easy)
                curl_easy_cleanup(hc->transfer.easy);
        hc->transfer.easy = NULL;
        hc->curl = health_curl_unref(hc->curl);
        free(hc->url);
        hc->url = NULL;
}

/* Sets an option and turns a failure into -EINVAL, naming the option in the debug log. */
#define SETOPT(easy, option, value)                                                             \
        ({                                                                                      \
                CURLcode _code_ = curl_easy_setopt((easy), (option), (value));                  \
                if (_code_ != CURLE_OK)                                                         \
                        log_debug("Failed to set %s: %s", #option, curl_easy_strerror(_code_)); \
                _code_ == CURLE_OK ? 0 : -EINVAL;                                               \
        })

int health_http_setup(HealthCheck *hc) {
        char address[INET_ADDRSTRLEN];
        CURLU *url;
        CURLUcode url_code;
        CURL *easy;
        int r;

        if (!inet_ntop(AF_INET, &hc->address, address, sizeof(address)))
                return -errno;
        if (asprintf(&hc->url, "http://%s:%u%s", address, hc->port, hc->path) < 0) {
                hc->url = NULL;
                return -ENOMEM;
        }

        /* Parse once here, so that a path curl cannot use fails at creation instead of at every
         * probe. */
        url = curl_url();
        if (!url)
                return -ENOMEM;
        url_code = curl_url_set(url, CURLUPART_URL, hc->url, 0);
        curl_url_cleanup(url);
        if (url_code != CURLUE_OK) {
                log_debug("Health check URL %s is invalid: %s", hc->url, curl_url_strerror(url_code));
                return -EINVAL;
        }

        r = health_curl_acquire(hc->event, &hc->curl);
        if (r < 0)
                return r;

        easy = hc->transfer.easy = curl_easy_init();
        if (!easy)
                return -ENOMEM;
        hc->transfer.done = on_http_done;
        hc->transfer.userdata = hc;

        /* curl sends "Host: ADDRESS:PORT" from the URL, the form RFC 9110 section 7.2 specifies. */
        if ((r = SETOPT(easy, CURLOPT_URL, hc->url)) < 0 ||
            (r = SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http")) < 0 ||
            (r = SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L)) < 0 ||
            /* An empty string disables proxies, including http_proxy from the environment. */
            (r = SETOPT(easy, CURLOPT_PROXY, "")) < 0 ||
            (r = SETOPT(easy, CURLOPT_USERAGENT, HEALTH_USER_AGENT)) < 0 ||
            (r = SETOPT(easy, CURLOPT_NOSIGNAL, 1L)) < 0 ||
            (r = SETOPT(easy, CURLOPT_TIMEOUT_MS, (long)hc->settings.timeout_sec * 1000L)) < 0 ||
            (r = SETOPT(easy, CURLOPT_FRESH_CONNECT, 1L)) < 0 ||
            (r = SETOPT(easy, CURLOPT_FORBID_REUSE, 1L)) < 0 ||
            (r = SETOPT(easy, CURLOPT_HEADERFUNCTION, on_http_header)) < 0 ||
            (r = SETOPT(easy, CURLOPT_HEADERDATA, hc)) < 0 ||
            (r = SETOPT(easy, CURLOPT_WRITEFUNCTION, on_http_body)) < 0 ||
            (r = SETOPT(easy, CURLOPT_ERRORBUFFER, hc->curl_error)) < 0)
                return r;

        return 0;
}
