/* The dashboard: every GET that no API route matches comes here (http_server_opts
 * .fallback). Paths under /api/ stay JSON 404s, so a client of the API never gets a page of
 * HTML for a typo; everything else is the dashboard's files (src/http/static_files.c). */
#include <string.h>

#include "api.h"
#include "app.h"
#include "response.h"
#include "static_files.h"

void api_web(http_req *q)
{
    app *a = http_req_app(q);
    const char *path = http_req_path(q);
    if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0) {
        http_error(q, 404, "not_found", "no such endpoint: %s %s", http_req_method(q), path);
        return;
    }
    if (a->web == NULL) {
        http_error(q, 404, "not_found",
                   "the dashboard is not installed on this server: `make` builds it into "
                   "web/dist, or set CLOUDYA_WEB_DIR; the API is under /api/");
        return;
    }
    static_files_serve(a->web, q);
}
