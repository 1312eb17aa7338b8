/* libFuzzer target for the text parsers of `cloudya diagnose` and `monitor --service` that
 * read what other programs print: `systemctl show` (service_systemd.c), log lines and a
 * config test's output (service_diag.c), a deployment's log split into tool runs and the
 * known-error table (deploy_diag.c), the Docker Engine's /version, /info and /system/df
 * answers (docker_probe.c) and kernel log records naming an OOM victim (sysdiag.c).
 *
 * The input's first byte picks the parser; the rest is its text. Besides crashes, leaks
 * and sanitizer reports it checks, aborting when one fails:
 *   - every output string is NUL-terminated within its buffer and no longer than asked;
 *   - deploy_log_sections: at most max sections, each inside the input, with a step name
 *     that fits, in order; asking for one section fewer gives the same sections but the
 *     first (the latest runs are kept);
 *   - deploy_diag_match: a match's patterns, cause and fix are non-empty strings;
 *   - the Docker parsers: whatever the text, they return 0 or a negative errno. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_diag.h"
#include "docker_probe.h"
#include "service.h"
#include "sysdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTIONS 16

static void check_terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

static void sections(const char *text, size_t len)
{
    struct deploy_log_section a[SECTIONS], b[SECTIONS];
    size_t n = deploy_log_sections(text, len, a, SECTIONS);
    if (n > SECTIONS)
        abort();
    const char *prev = text;
    for (size_t i = 0; i < n; i++) {
        check_terminated(a[i].name, sizeof(a[i].name));
        if (a[i].text < prev || a[i].text + a[i].len > text + len)
            abort();
        prev = a[i].text;
    }
    size_t m = deploy_log_sections(text, len, b, n > 0 ? n - 1 : 0);
    if (m != (n > 0 ? n - 1 : 0))
        abort();
    for (size_t i = 0; i < m; i++) {
        const struct deploy_log_section *x = &a[i + 1], *y = &b[i];
        if (strcmp(x->name, y->name) != 0 || x->text != y->text || x->len != y->len ||
            x->finished != y->finished || (x->finished && x->exit_code != y->exit_code))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 18))
        return 0;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t len = size - 1;
    switch (data[0] % 8) {
    case 0: {
        struct service_unit u;
        int rc = service_systemd_parse_show(text, &u);
        if (rc != 0 && rc != -ENOENT)
            abort();
        check_terminated(u.id, sizeof(u.id));
        check_terminated(u.active_state, sizeof(u.active_state));
        check_terminated(u.control_group, sizeof(u.control_group));
        break;
    }
    case 1: {
        int e = service_log_line_is_error(text);
        if (e != 0 && e != 1)
            abort();
        break;
    }
    case 2: {
        char out[64];
        memset(out, 'x', sizeof(out));
        service_first_error_line(text, out, 40);
        check_terminated(out, 40);
        if (out[40] != 'x')
            abort(); /* wrote past the capacity it was given */
        break;
    }
    case 3:
        sections(text, len);
        break;
    case 4: {
        for (int tool = DEPLOY_TOOL_ANY; tool <= DEPLOY_TOOL_ANSIBLE; tool++) {
            const struct deploy_known *k = deploy_diag_match(text, len, tool, 1);
            if (k != NULL && (k->patterns == NULL || k->patterns[0] == '\0' ||
                              k->cause == NULL || k->cause[0] == '\0' || k->fix == NULL ||
                              k->fix[0] == '\0'))
                abort();
        }
        break;
    }
    case 5:
    case 6: {
        struct docker_probe *p = calloc(1, sizeof(*p));
        if (p == NULL)
            break;
        int rc = data[0] % 8 == 5 ? docker_probe_parse_version(text, len, p)
                                  : docker_probe_parse_info(text, len, p);
        int rc2 = docker_probe_parse_df(text, len, p);
        if (rc > 0 || rc2 > 0)
            abort();
        check_terminated(p->error, sizeof(p->error));
        free(p);
        break;
    }
    case 7: {
        char victim[48];
        memset(victim, 'x', sizeof(victim));
        int r = sysdiag_oom_victim(text, len, victim, 32);
        if (r != 0 && r != 1)
            abort();
        if (r == 1) {
            check_terminated(victim, 32);
            if (victim[32] != 'x')
                abort();
        }
        break;
    }
    }
    free(text);
    return 0;
}
