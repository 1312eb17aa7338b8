#define _POSIX_C_SOURCE 200809L
#include "audit.h"

#include "app.h"
#include "log.h"
#include "str.h"
#include "timeutil.h"

#include <stdio.h>
#include <string.h>

void api_audit(http_req *q, const char *actor, const char *client_id, const char *action,
               const char *target, const char *result, const char *detail)
{
    app *a = http_req_app(q);
    store_audit r;
    memset(&r, 0, sizeof(r));
    r.time = time_now();
    str_copy(r.actor, sizeof(r.actor), actor ? actor : "");
    str_copy(r.client_id, sizeof(r.client_id), client_id ? client_id : "");
    str_copy(r.action, sizeof(r.action), action);
    str_copy(r.target, sizeof(r.target), target ? target : "");
    str_copy(r.ip, sizeof(r.ip), http_req_ip(q));
    str_copy(r.result, sizeof(r.result), result);
    snprintf(r.detail, sizeof(r.detail), "%s%srequest=%s", detail ? detail : "",
             detail ? " " : "", http_req_id(q));
    int rc = store_audit_add(a->st, &r);
    if (rc != 0)
        log_warnx("cannot write the audit row for %s (%d)", action, rc);
}
