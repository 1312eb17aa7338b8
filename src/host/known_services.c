/* The table of well-known services (service.h): how each is found, where it listens, how
 * its configuration is tested and where it logs, as Debian packages them. */
#include "service.h"

#include <string.h>
#include <strings.h>

static const struct service_known known[] = {
    {.name = "nginx",
     .procs = {"nginx"},
     .programs = {"nginx"},
     .units = {"nginx.service"},
     .init_scripts = {"nginx"},
     .ports = {80, 443},
     .tests = {{"nginx", "-t"}},
     .logs = {"/var/log/nginx/error.log"},
     .package = "nginx"},
    {.name = "apache2",
     .aliases = {"apache", "httpd"},
     .procs = {"apache2", "httpd"},
     .programs = {"apache2", "httpd"},
     .units = {"apache2.service", "httpd.service"},
     .init_scripts = {"apache2", "httpd"},
     .ports = {80, 443},
     .tests = {{"apache2ctl", "-t"}, {"apachectl", "-t"}},
     .logs = {"/var/log/apache2/error.log", "/var/log/httpd/error_log"},
     .package = "apache2"},
    {.name = "ssh",
     .aliases = {"sshd", "openssh", "openssh-server"},
     .procs = {"sshd"},
     .programs = {"sshd"},
     .units = {"ssh.service", "sshd.service"},
     .init_scripts = {"ssh", "sshd"},
     .ports = {22},
     .tests = {{"sshd", "-t"}},
     .logs = {"/var/log/auth.log", "/var/log/secure"},
     .package = "openssh-server"},
    {.name = "postgresql",
     .aliases = {"postgres", "pgsql", "psql"},
     .procs = {"postgres", "postmaster"},
     .programs = {"postgres", "pg_ctlcluster", "pg_ctl"},
     .units = {"postgresql@*.service", "postgresql.service"},
     .init_scripts = {"postgresql"},
     .ports = {5432},
     .logs = {"/var/log/postgresql/*.log"},
     .package = "postgresql"},
    {.name = "mysql",
     .aliases = {"mariadb", "mysqld", "mariadbd"},
     .procs = {"mysqld", "mariadbd"},
     .programs = {"mysqld", "mariadbd"},
     .units = {"mariadb.service", "mysql.service", "mysqld.service"},
     .init_scripts = {"mariadb", "mysql"},
     .ports = {3306},
     .tests = {{"mysqld", "--validate-config"}},
     .test_optional = 1,
     .logs = {"/var/log/mysql/error.log", "/var/log/mariadb/mariadb.log"},
     .package = "mariadb-server"},
    {.name = "redis",
     .aliases = {"redis-server"},
     .procs = {"redis-server"},
     .programs = {"redis-server"},
     .units = {"redis-server.service", "redis.service"},
     .init_scripts = {"redis-server", "redis"},
     .ports = {6379},
     .logs = {"/var/log/redis/redis-server.log", "/var/log/redis/redis.log"},
     .package = "redis-server"},
    {.name = "docker",
     .aliases = {"dockerd", "docker-engine"},
     .procs = {"dockerd"},
     .programs = {"dockerd"},
     .units = {"docker.service"},
     .init_scripts = {"docker"},
     .tests = {{"dockerd", "--validate"}},
     .test_optional = 1,
     .logs = {"/var/log/docker.log"},
     .unix_socket = "/var/run/docker.sock",
     .package = "docker.io"},
    {.name = "haproxy",
     .procs = {"haproxy"},
     .programs = {"haproxy"},
     .units = {"haproxy.service"},
     .init_scripts = {"haproxy"},
     .ports = {80, 443},
     .tests = {{"haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"}},
     .logs = {"/var/log/haproxy.log"},
     .package = "haproxy"},
    {.name = "php-fpm",
     .aliases = {"php", "fpm"},
     .procs = {"php-fpm*"},
     .programs = {"php-fpm*"},
     .units = {"php*-fpm.service", "php-fpm.service"},
     .init_scripts = {"php*-fpm", "php-fpm"},
     .tests = {{"php-fpm*", "-t"}},
     .logs = {"/var/log/php*-fpm.log"},
     .package = "php-fpm"},
    {.name = "named",
     .aliases = {"bind9", "bind"},
     .procs = {"named"},
     .programs = {"named"},
     .units = {"named.service", "bind9.service"},
     .init_scripts = {"named", "bind9"},
     .ports = {53},
     .tests = {{"named-checkconf"}},
     .logs = {"/var/log/named/default.log"},
     .package = "bind9"},
    {.name = "postfix",
     .aliases = {"smtp", "mta"},
     .procs = {"/usr/lib/postfix/sbin/master", "qmgr", "pickup"},
     .programs = {"postfix"},
     .units = {"postfix@-.service", "postfix.service"},
     .init_scripts = {"postfix"},
     .ports = {25},
     .tests = {{"postfix", "check"}},
     .logs = {"/var/log/mail.log", "/var/log/maillog"},
     .package = "postfix"},
    {.name = "cron",
     .aliases = {"crond", "cronie"},
     .procs = {"cron", "crond"},
     .programs = {"cron", "crond"},
     .units = {"cron.service", "crond.service"},
     .init_scripts = {"cron", "crond"},
     .logs = {"/var/log/cron.log"},
     .package = "cron"},
};

#define KNOWN_N (sizeof(known) / sizeof(known[0]))

/* 1 when asked (without a ".service" ending) is name, case aside. */
static int same_name(const char *asked, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(asked, name, len) == 0;
}

const struct service_known *service_known_find(const char *name)
{
    size_t len = strlen(name);
    static const char suffix[] = ".service";
    if (len > sizeof(suffix) - 1 && strcasecmp(name + len - (sizeof(suffix) - 1), suffix) == 0)
        len -= sizeof(suffix) - 1;
    for (size_t i = 0; i < KNOWN_N; i++) {
        if (same_name(name, len, known[i].name))
            return &known[i];
        for (size_t a = 0; a < SERVICE_KNOWN_LIST && known[i].aliases[a] != NULL; a++)
            if (same_name(name, len, known[i].aliases[a]))
                return &known[i];
    }
    return NULL;
}

size_t service_known_count(void)
{
    return KNOWN_N;
}

const struct service_known *service_known_at(size_t i)
{
    return i < KNOWN_N ? &known[i] : NULL;
}
