/* The route table: the whole API surface in one place. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"

static const route table[] = {
    {"GET", "/api/health", api_health, 0},
    {"GET", "/health", api_health, 0},
    {"POST", "/api/auth/register", api_auth_register, ROUTE_SLOW},
    {"POST", "/api/auth/login", api_auth_login, ROUTE_SLOW},
    {"POST", "/api/auth/session", api_auth_session, ROUTE_SLOW},
    {"POST", "/api/auth/logout", api_auth_logout, 0},
    {"GET", "/api/auth/me", api_auth_me, 0},
    {"GET", "/api/catalog", api_catalog, 0},
    {"GET", "/api/containers", api_containers_list, 0},
    {"POST", "/api/containers/create", api_containers_create, ROUTE_SLOW},
    {"GET", "/api/containers/:id", api_containers_get, 0},
    {"DELETE", "/api/containers/:id", api_containers_delete, ROUTE_SLOW},
    {"POST", "/api/containers/:id/start", api_containers_start, ROUTE_SLOW},
    {"POST", "/api/containers/:id/stop", api_containers_stop, ROUTE_SLOW},
    {"POST", "/api/containers/:id/restart", api_containers_restart, ROUTE_SLOW},
    {"GET", "/api/containers/:id/logs", api_containers_logs, ROUTE_SLOW},
    {"GET", "/api/containers/:id/stats", api_containers_stats, 0},
    {"GET", "/api/containers/:id/stats/history", api_containers_stats_history, 0},
    {"GET", "/api/stats/history", api_tenant_stats_history, 0},
    {"GET", "/api/admin/containers/unrecorded", api_admin_unrecorded, 0},
    {"GET", "/api/admin/stats", api_admin_stats, 0},
    /* one usage query per client: up to 1000 of them */
    {"GET", "/api/admin/clients", api_admin_clients_list, ROUTE_SLOW},
    {"GET", "/api/admin/clients/:id", api_admin_clients_get, 0},
    {"PATCH", "/api/admin/clients/:id", api_admin_clients_update, 0},
    {"GET", "/api/admin/users", api_admin_users_list, 0},
    {"PATCH", "/api/admin/users/:id", api_admin_users_update, 0},
    {"GET", "/api/admin/audit", api_admin_audit_list, 0},
    {"POST", "/api/command", api_command, ROUTE_SLOW},
    {"GET", "/api/tokens/info", api_tokens_info, 0},
    {"GET", "/api/ws", api_ws, 0},
    {"POST", "/api/ws/ticket", api_ws_ticket, 0},
    {"GET", "/metrics", api_metrics, 0},
};

int api_routes(router *r)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        int rc = router_add(r, table[i].method, table[i].pattern, table[i].fn, table[i].flags);
        if (rc != 0)
            return rc;
    }
    return 0;
}
