/* Audit rows for what users do, with who, which tenant, from where, when and the result. */
#ifndef CLOUDYA_AUDIT_H
#define CLOUDYA_AUDIT_H
#include "http_server.h"

/* Appends an audit row for request q. Any of actor, client_id, target, detail may be NULL.
 * A failure to write is logged, never hidden, but does not fail the request. */
void api_audit(http_req *q, const char *actor, const char *client_id, const char *action,
               const char *target, const char *result, const char *detail);

#endif
