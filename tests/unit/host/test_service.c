/* Unit tests for src/host/service*.c and known_services.c: the table and its aliases, names,
 * `systemctl show` parsing, error lines of config tests and logs, log tails with bounds; then
 * on the real machine (no systemd here): an nginx of the Debian package started by the test
 * on a free port of 127.0.0.1 with its own error log is found by name with master and
 * workers, its port, uptime and log lines; diagnose passes it, finds an error the test logs,
 * names a directive the test breaks with its line, and says "not running" once the test
 * stops it; a name that does not exist gets a clear sentence and close names. The systemd
 * branch runs against fake `systemctl` and `journalctl` scripts first on PATH, a fake
 * CLOUDYA_SYSTEMD_DIR and a fake cgroup tree holding the real nginx's pids. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

#define NGINX "/usr/sbin/nginx"

static char dir[64];         /* the test's temporary directory */
static char conf[128];       /* dir/nginx.conf */
static char errlog[128];     /* dir/error.log */
static unsigned port;        /* nginx listens on 127.0.0.1:port */
static int master;           /* its master pid, 0 when not running */
static char old_path[8192];  /* PATH before the fakes */
static const char *const ids[] = {"installed", "running", "enabled",  "listening",
                                  "config",    "log_errors", "restarts"}; /* in order */

/* ---- helpers ------------------------------------------------------------------------------ */

static void put_file(const char *path, const char *mode, const char *text)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    return ntohs(sa.sin_port);
}

/* The config; with broken set, an unknown directive "foo" on line 3. */
static void write_conf(int broken)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "worker_processes 2;\n"
             "error_log %s/error.log notice;\n"
             "%s"
             "events { worker_connections 64; }\n"
             "http {\n"
             "    access_log %s/access.log;\n"
             "    client_body_temp_path %s/body;\n"
             "    proxy_temp_path %s/proxy;\n"
             "    fastcgi_temp_path %s/fastcgi;\n"
             "    uwsgi_temp_path %s/uwsgi;\n"
             "    scgi_temp_path %s/scgi;\n"
             "    server { listen 127.0.0.1:%u; location / { return 200 \"ok\\n\"; } }\n"
             "}\n",
             dir, broken ? "foo bar;\n" : "", dir, dir, dir, dir, dir, dir, port);
    put_file(conf, "w", text);
}

/* 1 while process pid exists and is no zombie. */
static int alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')');
    return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int start_nginx(void)
{
    char pidfile[160], g[200];
    snprintf(pidfile, sizeof(pidfile), "%s/nginx.pid", dir);
    snprintf(g, sizeof(g), "pid %s;", pidfile);
    unlink(pidfile);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execl(NGINX, "nginx", "-c", conf, "-g", g, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    for (int i = 0; i < 100; i++) { /* the daemon writes its pid file, then listens */
        FILE *f = fopen(pidfile, "r");
        int p = 0;
        if (f != NULL) {
            if (fscanf(f, "%d", &p) != 1)
                p = 0;
            fclose(f);
        }
        if (p > 0 && alive(p)) {
            master = p;
            return 0;
        }
        sleep_ms(50);
    }
    return -1;
}

static void stop_nginx(void)
{
    if (master <= 0)
        return;
    kill(master, SIGTERM);
    for (int i = 0; i < 200 && alive(master); i++)
        sleep_ms(25);
    master = 0;
}

static int rm_rf(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    return system(cmd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/svctest.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
    snprintf(errlog, sizeof(errlog), "%s/error.log", dir);
    const char *p = getenv("PATH");
    snprintf(old_path, sizeof(old_path), "%s", p != NULL ? p : "/usr/bin:/bin");
    /* the process branch: systemd is not there, whatever the machine says */
    setenv("CLOUDYA_SYSTEMD_DIR", "/nonexistent/systemd/system", 1);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_nginx();
    rm_rf(dir);
    return 0;
}

/* Starts the test's nginx unless it runs; skips when the package is not installed. */
static void need_nginx(void)
{
    if (access(NGINX, X_OK) != 0)
        skip();
    if (master > 0 && alive(master))
        return;
    port = free_port();
    write_conf(0);
    assert_int_equal(start_nginx(), 0);
}

static struct service_info *probe(const char *name, size_t lines)
{
    struct service_info *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    struct service_probe_opts o = {.log_lines = lines};
    assert_int_equal(service_probe(name, &o, s), 0);
    return s;
}

static struct check_list *diagnose(const char *name)
{
    struct check_list *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    assert_int_equal(service_diagnose(name, l), 0);
    return l;
}

static const struct check *check_of(const struct check_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    fail_msg("no check %s", id);
    return NULL;
}

static int has_proc(const struct service_info *s, int pid)
{
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->procs[i].pid == pid)
            return 1;
    return 0;
}

static int has_log(const struct service_info *s, const char *needle, const char *source)
{
    for (size_t i = 0; i < s->nlogs; i++)
        if (strstr(s->logs[i].text, needle) != NULL &&
            (source == NULL || strcmp(s->log_sources[s->logs[i].source], source) == 0))
            return 1;
    return 0;
}

/* ---- the table, names, parsers ------------------------------------------------------------ */

static void test_known_table(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"nginx", "nginx"}, {"NGINX", "nginx"}, {"nginx.service", "nginx"},
        {"apache2", "apache2"}, {"httpd", "apache2"}, {"apache", "apache2"}, {"ssh", "ssh"},
        {"sshd", "ssh"}, {"postgres", "postgresql"}, {"postgresql", "postgresql"},
        {"mariadb", "mysql"}, {"mysql", "mysql"}, {"redis", "redis"}, {"redis-server", "redis"},
        {"dockerd", "docker"}, {"haproxy", "haproxy"}, {"php-fpm", "php-fpm"},
        {"bind9", "named"}, {"named", "named"}, {"postfix", "postfix"}, {"cron", "cron"},
        {"crond", "cron"}};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        const struct service_known *k = service_known_find(pairs[i][0]);
        assert_non_null(k);
        assert_string_equal(k->name, pairs[i][1]);
    }
    assert_null(service_known_find("ngin"));
    assert_null(service_known_find(".service"));
    assert_null(service_known_find(""));

    const struct service_known *k = service_known_find("nginx");
    assert_int_equal(k->ports[0], 80);
    assert_int_equal(k->ports[1], 443);
    assert_string_equal(k->tests[0][0], "nginx");
    assert_string_equal(k->tests[0][1], "-t");
    assert_string_equal(k->logs[0], "/var/log/nginx/error.log");
    k = service_known_find("httpd");
    assert_string_equal(k->tests[0][0], "apache2ctl");
    assert_string_equal(k->tests[1][0], "apachectl");
    assert_int_equal(service_known_find("sshd")->ports[0], 22);
    assert_int_equal(service_known_find("postgres")->ports[0], 5432);
    assert_string_equal(service_known_find("docker")->unix_socket, "/var/run/docker.sock");

    /* every entry whole; no name or alias means two services */
    size_t n = service_known_count();
    assert_true(n >= 12);
    assert_null(service_known_at(n));
    for (size_t i = 0; i < n; i++) {
        const struct service_known *e = service_known_at(i);
        assert_non_null(e->name);
        assert_non_null(e->package);
        assert_non_null(e->procs[0]);
        assert_non_null(e->programs[0]);
        assert_non_null(e->units[0]);
        assert_true(service_name_valid(e->name));
        assert_ptr_equal(service_known_find(e->name), e);
        for (size_t a = 0; a < SERVICE_KNOWN_LIST && e->aliases[a] != NULL; a++)
            assert_ptr_equal(service_known_find(e->aliases[a]), e);
    }
}

static void test_name_valid(void **state)
{
    (void)state;
    assert_true(service_name_valid("nginx"));
    assert_true(service_name_valid("postgresql@15-main.service"));
    assert_true(service_name_valid("php8.2-fpm"));
    assert_true(service_name_valid("a_b+c"));
    assert_false(service_name_valid(""));
    assert_false(service_name_valid("-t"));
    assert_false(service_name_valid("--help"));
    assert_false(service_name_valid(".hidden"));
    assert_false(service_name_valid("a b"));
    assert_false(service_name_valid("a/b"));
    assert_false(service_name_valid("a;rm"));
    assert_false(service_name_valid("caf\xc3\xa9"));
    char longname[SERVICE_NAME_MAX + 1];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(service_name_valid(longname));
    longname[SERVICE_NAME_MAX - 1] = '\0';
    assert_true(service_name_valid(longname));

    struct service_info *s = calloc(1, sizeof(*s));
    assert_int_equal(service_probe("-x", NULL, s), -EINVAL);
    struct check_list *l = calloc(1, sizeof(*l));
    assert_int_equal(service_diagnose("a b", l), -EINVAL);
    assert_int_equal(l->n, 0);
    free(l);
    free(s);
}

static void test_parse_show(void **state)
{
    (void)state;
    struct service_unit u;
    const char *text = "Id=nginx.service\n"
                       "LoadState=loaded\n"
                       "ActiveState=activating\n"
                       "SubState=auto-restart\n"
                       "UnitFileState=enabled\n"
                       "Result=exit-code\n"
                       "ControlGroup=/system.slice/nginx.service\n"
                       "FragmentPath=/lib/systemd/system/nginx.service\n"
                       "MainPID=0\n"
                       "NRestarts=17\n"
                       "ActiveEnterTimestamp=Fri 2025-11-21 09:00:00 UTC\n"
                       "ActiveEnterTimestampMonotonic=123456789\n"
                       "Unknown=whatever\n"
                       "no equals sign here\n";
    assert_int_equal(service_systemd_parse_show(text, &u), 0);
    assert_string_equal(u.id, "nginx.service");
    assert_string_equal(u.load_state, "loaded");
    assert_string_equal(u.active_state, "activating");
    assert_string_equal(u.sub_state, "auto-restart");
    assert_string_equal(u.unit_file_state, "enabled");
    assert_string_equal(u.result, "exit-code");
    assert_string_equal(u.control_group, "/system.slice/nginx.service");
    assert_string_equal(u.fragment_path, "/lib/systemd/system/nginx.service");
    assert_int_equal(u.main_pid, 0);
    assert_int_equal(u.n_restarts, 17);
    assert_string_equal(u.active_enter_text, "Fri 2025-11-21 09:00:00 UTC");
    assert_int_equal(u.active_enter_mono_us, 123456789);

    /* old systemd: no NRestarts; junk numbers are left unset; long values cut */
    char longv[2000] = "Id=";
    memset(longv + 3, 'x', 1500);
    memcpy(longv + 1503, "\nMainPID=-5\nNRestarts=abc\n", 27);
    assert_int_equal(service_systemd_parse_show(longv, &u), 0);
    assert_int_equal(strlen(u.id), SERVICE_UNIT_MAX - 1);
    assert_int_equal(u.main_pid, 0);
    assert_int_equal(u.n_restarts, -1);
    assert_int_equal(service_systemd_parse_show("", &u), -ENOENT);
    assert_int_equal(service_systemd_parse_show("Foo=bar\n", &u), -ENOENT);
}

static void test_error_lines(void **state)
{
    (void)state;
    char out[256];
    service_first_error_line("nginx: [emerg] unknown directive \"foo\" in /etc/nginx/x.conf:3\n"
                             "nginx: configuration file /etc/nginx/x.conf test failed\n",
                             out, sizeof(out));
    assert_string_equal(out, "nginx: [emerg] unknown directive \"foo\" in /etc/nginx/x.conf:3");
    service_first_error_line("\n\nAH00526: Syntax error on line 4 of /etc/apache2/a.conf:\n"
                             "Invalid command 'Foo'\n", out, sizeof(out));
    assert_string_equal(out, "AH00526: Syntax error on line 4 of /etc/apache2/a.conf:");
    service_first_error_line("\nsomething odd\nmore\n", out, sizeof(out));
    assert_string_equal(out, "something odd");
    service_first_error_line("", out, sizeof(out));
    assert_string_equal(out, "");
    service_first_error_line("x: errors are bad and this line is long", out, 8);
    assert_string_equal(out, "x: erro");

    assert_true(service_log_line_is_error("2025/01/01 10:00:00 [emerg] 1#1: bind() failed"));
    assert_true(service_log_line_is_error("2025/01/01 10:00:00 [crit] 1#1: open() failed"));
    assert_false(service_log_line_is_error("2025/01/01 10:00:00 [notice] 1#1: start worker"));
    assert_false(service_log_line_is_error("2025/01/01 [warn] 1#1: an error upstream"));
    assert_true(service_log_line_is_error("time=\"x\" level=error msg=\"boom\""));
    assert_true(service_log_line_is_error("time=\"x\" level=fatal msg=\"boom\""));
    assert_false(service_log_line_is_error("time=\"x\" level=info msg=\"skip\" error=\"no\""));
    assert_false(service_log_line_is_error("level=warning msg=\"failed to load plugin\""));
    assert_true(service_log_line_is_error("{\"level\":\"error\",\"msg\":\"x\"}"));
    assert_true(service_log_line_is_error("2025-01-01 10:00:00 UTC [42] FATAL:  no pg_hba.conf"));
    assert_false(service_log_line_is_error("2025-01-01 10:00:00 UTC [42] LOG:  checkpoint failed"));
    assert_true(service_log_line_is_error("Jan 1 host sshd[1]: error: kex failed"));
    assert_true(service_log_line_is_error("Job for x.service Failed because..."));
    assert_true(service_log_line_is_error("kernel: PANIC now"));
    assert_false(service_log_line_is_error("GET /errors?x=1 200"));
    assert_false(service_log_line_is_error("terror and errorless"));
    assert_false(service_log_line_is_error(""));
}

static void test_log_tail(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof(path), "%s/big.log", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++) /* 1.2 MB, more than SERVICE_LOG_TAIL_MAX */
        fprintf(f, "line %06d\n", i);
    fprintf(f, "esc \x1b[31mred\x1b[0m bad \xff\xfe utf8\r\n\n\n");
    fclose(f);

    struct service_info *s = calloc(1, sizeof(*s));
    assert_int_equal(service_log_tail(s, path, 4), 4);
    assert_int_equal(s->nlogs, 4);
    assert_string_equal(s->logs[0].text, "line 099997");
    assert_string_equal(s->logs[2].text, "line 099999");
    assert_string_equal(s->logs[3].text, "esc ?[31mred?[0m bad ?? utf8");
    assert_int_equal(s->nlog_sources, 1);
    assert_string_equal(s->log_sources[0], path);

    /* more than kept in all: the oldest go */
    assert_int_equal(service_log_tail(s, path, 100000), SERVICE_LOG_LINES_MAX);
    assert_int_equal(s->nlogs, SERVICE_LOG_LINES_MAX);
    assert_string_equal(s->logs[SERVICE_LOG_LINES_MAX - 2].text, "line 099999");
    assert_int_equal(s->nlog_sources, 1); /* the same source once */

    /* not regular files; a FIFO must not block */
    char fifo[160];
    snprintf(fifo, sizeof(fifo), "%s/fifo.log", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(service_log_tail(s, fifo, 5), -EINVAL);
    assert_int_equal(service_log_tail(s, dir, 5), -EINVAL);
    assert_int_equal(service_log_tail(s, "/nonexistent/x.log", 5), -ENOENT);
    unlink(fifo);

    /* a long line is cut; sources are bounded */
    memset(s, 0, sizeof(*s));
    char *longline = malloc(5000);
    memset(longline, 'y', 4999);
    longline[4999] = '\0';
    assert_int_equal(service_log_add_text(s, "a", longline, 3), 1);
    assert_int_equal(strlen(s->logs[0].text), SERVICE_LOG_LINE_MAX - 1);
    free(longline);
    for (int i = 1; i < SERVICE_LOG_SOURCES_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "src%d", i);
        assert_int_equal(service_log_add_text(s, name, "x\n", 3), 1);
    }
    assert_int_equal(service_log_add_text(s, "one too many", "x\n", 3), -ENOSPC);
    assert_int_equal(service_log_add_text(s, "a", "\n\n", 3), 0);
    assert_int_equal(service_log_add_text(s, "a", "p\nq\n\nr", 2), 2);
    assert_string_equal(s->logs[s->nlogs - 2].text, "q");
    assert_string_equal(s->logs[s->nlogs - 1].text, "r");
    free(s);
    unlink(path);
}

/* ---- a name that does not exist --------------------------------------------------------------- */

static void test_unknown_name(void **state)
{
    (void)state;
    struct service_info *s = probe("cloudya-no-such-svc", 5);
    assert_false(s->found);
    assert_false(s->installed);
    assert_false(s->running);
    assert_int_equal(s->nprocs, 0);
    assert_string_equal(s->message, "no service \"cloudya-no-such-svc\" here: no process, no "
                                    "program and no init script of that name (systemd does "
                                    "not run this host)");
    json_t *j = service_info_json(s);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "found")));
    assert_true(json_is_null(json_object_get(j, "uptime")));
    assert_string_equal(json_string_value(json_object_get(j, "message")), s->message);
    json_decref(j);
    free(s);

    s = probe("ngnix", 5);
    assert_false(s->found);
    assert_true(s->nsuggestions >= 1);
    assert_string_equal(s->suggestions[0], "nginx");
    assert_non_null(strstr(s->message, "did you mean \"nginx\""));
    free(s);

    /* the command line's helpers */
    char why[SERVICE_TEXT_MAX];
    assert_int_equal(service_name_check("nginx", why, sizeof(why)), 0);
    assert_int_equal(service_name_check("--help", why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "\"--help\" is not a service name"));
    assert_int_equal(service_exists("cloudya-no-such-svc", why, sizeof(why)), 0);
    assert_non_null(strstr(why, "no service \"cloudya-no-such-svc\" here"));
    assert_int_equal(service_exists("-x", why, sizeof(why)), -EINVAL);
    assert_null(service_info_json_now("a b", NULL, NULL, 0, 5));
    j = service_info_json_now("cloudya-no-such-svc", NULL, NULL, 0, 5);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "found")));
    json_decref(j);

    struct check_list *l = diagnose("cloudya-no-such-svc");
    assert_string_equal(l->subject, "service cloudya-no-such-svc");
    assert_int_equal(l->n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(l->items[i].id, ids[i]);
    assert_int_equal(l->items[0].status, CHECK_FAIL);
    for (size_t i = 1; i < 7; i++)
        assert_int_equal(l->items[i].status, CHECK_SKIP);
    assert_non_null(strstr(l->cause, "no service \"cloudya-no-such-svc\" here"));
    assert_true(l->advice[0] != '\0');
    assert_int_equal(check_list_worst(l), CHECK_FAIL);
    free(l);
}

/* ---- the real nginx, found by name ---------------------------------------------------------- */

static void test_nginx_probe(void **state)
{
    (void)state;
    need_nginx();
    struct proc_table prev = {0}, cur = {0};
    assert_int_equal(procs_read("/proc", &prev), 0);
    sleep_ms(1100);
    assert_int_equal(procs_read("/proc", &cur), 0);
    struct service_info *s = calloc(1, sizeof(*s));
    struct service_probe_opts o = {.cur = &cur, .prev = &prev, .elapsed_s = 1.1, .log_lines = 20};
    assert_int_equal(service_probe("nginx", &o, s), 0);

    assert_true(s->found);
    assert_true(s->installed);
    assert_true(s->running);
    assert_string_equal(s->manager, "process");
    assert_string_equal(s->program, NGINX);
    assert_true(s->nprocs >= 3); /* master and two workers (and any other nginx here) */
    assert_true(has_proc(s, master));
    size_t workers = 0;
    for (size_t i = 0; i < s->nprocs; i++) {
        if (s->procs[i].ppid == master) {
            workers++;
            assert_string_equal(s->procs[i].cmd, "nginx: worker process");
        }
        assert_true(s->procs[i].cpu >= 0);
        assert_true(s->procs[i].rss > 0);
        assert_true(s->procs[i].start > 0);
        assert_string_equal(s->procs[i].name, "nginx");
    }
    assert_int_equal(workers, 2);
    const struct service_proc *mp = NULL;
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->procs[i].pid == master)
            mp = &s->procs[i];
    assert_non_null(strstr(mp->cmd, "nginx: master process"));
    assert_non_null(strstr(mp->cmd, conf));
    assert_string_equal(mp->user, "root");
    /* the main pid is a master (ours unless another nginx started earlier) */
    int main_pid = service_main_pid(s);
    int main_is_master = 0;
    for (size_t i = 0; i < s->nprocs; i++)
        if (s->procs[i].pid == main_pid)
            main_is_master = strstr(s->procs[i].cmd, "master process") != NULL;
    assert_true(main_is_master);

    int listens = 0;
    for (size_t i = 0; i < s->nsockets; i++)
        if (s->sockets[i].port == port && strcmp(s->sockets[i].addr, "127.0.0.1") == 0 &&
            s->sockets[i].proto == SOCKETS_TCP) {
            listens = 1;
            assert_true(has_proc(s, s->sockets[i].pid));
        }
    assert_true(listens);
    assert_true(s->uptime > 0);
    assert_true(s->uptime < 3600);
    assert_true(s->started > 1e9);
    assert_int_equal(s->restarts, -1);
    assert_true(has_log(s, "start worker processes", errlog));
    /* request logs are not the service's log */
    for (size_t i = 0; i < s->nlog_sources; i++)
        assert_null(strstr(s->log_sources[i], "access"));
    assert_non_null(strstr(s->message, "nginx is running"));
    char why[SERVICE_TEXT_MAX] = "";
    assert_int_equal(service_exists("nginx", why, sizeof(why)), 1);

    json_t *j = service_info_json(s);
    assert_non_null(j);
    char *text = json_dumps(j, 0);
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_is_true(json_object_get(back, "found")));
    assert_string_equal(json_string_value(json_object_get(back, "manager")), "process");
    assert_true(json_array_size(json_object_get(back, "processes")) >= 3);
    assert_true(json_is_real(json_object_get(back, "uptime")));
    assert_true(json_is_null(json_object_get(back, "restarts")));
    assert_string_equal(json_string_value(json_object_get(back, "unit")), "");
    assert_true(json_is_null(json_object_get(back, "unit_info")));
    assert_true(json_is_false(json_object_get(back, "ports_unreadable")));
    json_t *first = json_array_get(json_object_get(back, "listening"), 0);
    assert_non_null(json_string_value(json_object_get(first, "text")));
    assert_non_null(json_string_value(json_object_get(first, "address")));
    json_t *p0 = json_array_get(json_object_get(back, "processes"), 0);
    assert_true(json_is_number(json_object_get(p0, "mem_pct")));
    assert_non_null(json_string_value(json_object_get(p0, "state")));
    json_t *logs = json_object_get(back, "logs");
    assert_true(json_array_size(logs) > 0);
    assert_non_null(json_string_value(json_array_get(logs, json_array_size(logs) - 1)));
    assert_non_null(strstr(json_string_value(json_object_get(back, "log_source")), errlog));
    free(text);
    json_decref(back);
    json_decref(j);
    free(s);
    procs_free(&prev);
    procs_free(&cur);

    /* as nobody the root master's descriptors are closed: said, not failed; the workers
     * (nobody too) still show the shared listening socket */
    if (getuid() != 0)
        return;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        struct service_info *n = calloc(1, sizeof(*n));
        struct service_probe_opts no = {.log_lines = 5};
        if (n == NULL || service_probe("nginx", &no, n) != 0)
            _exit(11);
        if (!n->running || n->procs_unseen < 1)
            _exit(12);
        if (strstr(n->note, "could not be read") == NULL)
            _exit(13);
        int seen = 0;
        for (size_t i = 0; i < n->nsockets; i++)
            seen |= n->sockets[i].port == port;
        _exit(seen ? 0 : 14);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- the systemd branch, with fakes ---------------------------------------------------------- */

static char fake[160];

static void fakes_on(void)
{
    char path[256], text[1024];
    snprintf(fake, sizeof(fake), "%s/fake", dir);
    rm_rf(fake);
    static const char *const sub[] = {"", "/bin", "/show", "/run-systemd"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s%s", fake, sub[i]);
        assert_int_equal(mkdir(path, 0755), 0);
    }
    setenv("CLOUDYA_SYSTEMD_DIR", path, 1);
    snprintf(path, sizeof(path), "%s/cg", fake);
    setenv("CLOUDYA_CGROUP_DIR", path, 1);

    snprintf(text, sizeof(text),
             "#!/bin/sh\n"
             "d='%s'\n"
             "echo \"$*\" >> \"$d/systemctl.args\"\n"
             "for last in \"$@\"; do :; done\n"
             "case \"$1\" in\n"
             "show)\n"
             "  if [ -f \"$d/show/$last\" ]; then cat \"$d/show/$last\"\n"
             "  else printf 'Id=%%s\\nLoadState=not-found\\nActiveState=inactive\\n"
             "SubState=dead\\nMainPID=0\\nNRestarts=0\\n' \"$last\"; fi ;;\n"
             "list-units) if [ -f \"$d/list-units\" ]; then cat \"$d/list-units\"; fi ;;\n"
             "esac\n"
             "exit 0\n",
             fake);
    snprintf(path, sizeof(path), "%s/bin/systemctl", fake);
    put_file(path, "w", text);
    assert_int_equal(chmod(path, 0755), 0);
    snprintf(text, sizeof(text),
             "#!/bin/sh\n"
             "echo \"$*\" >> '%s/journalctl.args'\n"
             "cat '%s/journal' 2>/dev/null\n"
             "exit 0\n",
             fake, fake);
    snprintf(path, sizeof(path), "%s/bin/journalctl", fake);
    put_file(path, "w", text);
    assert_int_equal(chmod(path, 0755), 0);
    char newpath[8400];
    snprintf(newpath, sizeof(newpath), "%s/bin:%s", fake, old_path);
    setenv("PATH", newpath, 1);
}

static void fakes_off(void)
{
    setenv("PATH", old_path, 1);
    setenv("CLOUDYA_SYSTEMD_DIR", "/nonexistent/systemd/system", 1);
    unsetenv("CLOUDYA_CGROUP_DIR");
}

static void fake_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fake, rel);
    put_file(path, "w", text);
}

static char *fake_read(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fake, rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The real nginx as systemd's nginx.service: its cgroup holds the master and one worker. */
static void test_systemd_nginx(void **state)
{
    (void)state;
    need_nginx();
    fakes_on();
    assert_true(service_systemd_present());
    struct proc_table t = {0};
    assert_int_equal(procs_read("/proc", &t), 0);
    int worker = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i].ppid == master && worker == 0)
            worker = t.p[i].pid;
    procs_free(&t);
    assert_true(worker > 0);

    char text[1024], path[512];
    snprintf(text, sizeof(text),
             "Id=nginx.service\nLoadState=loaded\nActiveState=active\nSubState=running\n"
             "UnitFileState=disabled\nResult=success\n"
             "ControlGroup=/system.slice/nginx.service\n"
             "FragmentPath=/lib/systemd/system/nginx.service\nMainPID=%d\nNRestarts=5\n"
             "ActiveEnterTimestamp=Fri 2025-11-21 09:00:00 UTC\n"
             "ActiveEnterTimestampMonotonic=1000000\n",
             master);
    fake_file("show/nginx.service", text);
    snprintf(path, sizeof(path), "%s/cg/system.slice/nginx.service", fake);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    snprintf(text, sizeof(text), "%d\n%d\n", master, worker);
    fake_file("cg/system.slice/nginx.service/cgroup.procs", text);
    fake_file("journal", "2025-11-21T09:00:00+0000 web nginx[1]: Starting nginx\n"
                         "2025-11-21T09:00:01+0000 web systemd[1]: nginx.service: Main process "
                         "exited, code=exited, status=1/FAILURE\n"
                         "2025-11-21T09:00:02+0000 web systemd[1]: Started nginx.service\n");

    struct service_info *s = probe("nginx", 7);
    assert_true(s->found);
    assert_true(s->systemd);
    assert_string_equal(s->manager, "systemd");
    assert_string_equal(s->unit.id, "nginx.service");
    assert_string_equal(s->unit.active_state, "active");
    assert_int_equal(s->nprocs, 2); /* the cgroup's, not every nginx */
    assert_true(has_proc(s, master));
    assert_true(has_proc(s, worker));
    assert_false(s->outside_unit);
    assert_int_equal(service_main_pid(s), master);
    assert_int_equal(s->restarts, 5);
    assert_string_equal(s->unit_file, "/lib/systemd/system/nginx.service");
    assert_true(has_log(s, "Started nginx.service", "journal:nginx.service"));
    assert_true(has_log(s, "start worker processes", errlog));
    assert_non_null(strstr(s->message, "in nginx.service (active, running)"));
    char *args = fake_read("journalctl.args");
    assert_non_null(strstr(args, "-u nginx.service -n 7 --no-pager -q -o short-iso"));
    free(args);
    args = fake_read("systemctl.args");
    assert_non_null(strstr(args, "show --property="));
    assert_non_null(strstr(args, "-- nginx.service"));
    free(args);
    json_t *j = service_info_json(s);
    assert_string_equal(json_string_value(json_object_get(j, "unit")), "nginx.service");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "active (running)");
    json_t *u = json_object_get(j, "unit_info");
    assert_string_equal(json_string_value(json_object_get(u, "sub_state")), "running");
    assert_int_equal(json_integer_value(json_object_get(j, "restarts")), 5);
    json_decref(j);
    free(s);

    /* diagnosis: disabled, restarted 5 times: a restart loop is the cause */
    struct check_list *l = diagnose("nginx");
    assert_int_equal(check_of(l, "running")->status, CHECK_OK);
    const struct check *c = check_of(l, "enabled");
    assert_int_equal(c->status, CHECK_WARN);
    assert_string_equal(c->hint, "enable it: systemctl enable nginx.service");
    assert_int_equal(check_of(l, "listening")->status, CHECK_OK);
    assert_int_equal(check_of(l, "config")->status, CHECK_OK);
    c = check_of(l, "restarts");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_non_null(strstr(c->message, "restarted nginx.service 5 times"));
    c = check_of(l, "log_errors");
    assert_int_equal(c->status, CHECK_WARN);
    assert_non_null(strstr(c->detail, "status=1/FAILURE"));
    assert_non_null(strstr(l->cause, "restart loop"));
    assert_non_null(strstr(l->advice, "journalctl -u nginx.service -e"));
    free(l);
    fakes_off();
}

/* A unit that failed, of a service the table does not know, with no process. */
static void test_systemd_failed_unit(void **state)
{
    (void)state;
    fakes_on();
    char text[1024];
    snprintf(text, sizeof(text),
             "Id=cloudya-fake-svc.service\nLoadState=loaded\nActiveState=failed\n"
             "SubState=failed\nUnitFileState=enabled\nResult=exit-code\nControlGroup=\n"
             "FragmentPath=%s/cloudya-fake-svc.service\nMainPID=0\nNRestarts=0\n",
             fake);
    fake_file("show/cloudya-fake-svc.service", text);
    fake_file("journal", "2025-11-21T09:00:00+0000 web cloudya-fake-svc[42]: reading "
                         "/etc/fake.conf\n"
                         "2025-11-21T09:00:00+0000 web cloudya-fake-svc[42]: fatal: cannot "
                         "open /etc/fake.conf\n");
    struct service_info *s = probe("cloudya-fake-svc", 10);
    assert_true(s->found);
    assert_true(s->installed);
    assert_false(s->running);
    assert_string_equal(s->manager, "systemd");
    assert_int_equal(service_main_pid(s), 0);
    assert_non_null(strstr(s->message, "cloudya-fake-svc.service is failed (failed), result "
                                       "exit-code"));
    free(s);

    struct check_list *l = diagnose("cloudya-fake-svc");
    assert_int_equal(check_of(l, "installed")->status, CHECK_OK);
    const struct check *c = check_of(l, "running");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_string_equal(c->hint, "start it: systemctl start cloudya-fake-svc.service");
    assert_int_equal(check_of(l, "enabled")->status, CHECK_OK);
    assert_int_equal(check_of(l, "listening")->status, CHECK_SKIP);
    assert_int_equal(check_of(l, "config")->status, CHECK_SKIP);
    assert_int_equal(check_of(l, "log_errors")->status, CHECK_WARN);
    assert_int_equal(check_of(l, "restarts")->status, CHECK_OK);
    assert_string_equal(l->cause, "cloudya-fake-svc is not running; its last logged error: "
                                  "2025-11-21T09:00:00+0000 web cloudya-fake-svc[42]: fatal: "
                                  "cannot open /etc/fake.conf");
    assert_non_null(strstr(l->advice, "systemctl start cloudya-fake-svc.service"));
    free(l);

    /* auto-restart with few restarts is a loop all the same */
    snprintf(text, sizeof(text),
             "Id=cloudya-fake-svc.service\nLoadState=loaded\nActiveState=activating\n"
             "SubState=auto-restart\nUnitFileState=masked\nResult=exit-code\n"
             "MainPID=0\nNRestarts=2\n");
    fake_file("show/cloudya-fake-svc.service", text);
    l = diagnose("cloudya-fake-svc");
    c = check_of(l, "restarts");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_non_null(strstr(c->message, "activating (auto-restart)"));
    assert_int_equal(check_of(l, "enabled")->status, CHECK_FAIL);
    free(l);

    /* the unit is not there at all */
    struct service_info *s2 = probe("cloudya-nothing", 3);
    assert_false(s2->found);
    assert_non_null(strstr(s2->message, "no systemd unit, no process and no program"));
    free(s2);
    fakes_off();
}

/* A unit pattern of the table expands through list-units. */
static void test_systemd_pattern(void **state)
{
    (void)state;
    fakes_on();
    fake_file("list-units", "php8.2-fpm.service loaded active running The PHP 8.2 FastCGI\n"
                            "php8.2-fpm@.service loaded inactive dead template\n");
    fake_file("show/php8.2-fpm.service",
              "Id=php8.2-fpm.service\nLoadState=loaded\nActiveState=active\nSubState=running\n"
              "UnitFileState=enabled\nControlGroup=/system.slice/php8.2-fpm.service\n"
              "MainPID=0\nNRestarts=0\n");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/cg/system.slice/php8.2-fpm.service'", fake);
    assert_int_equal(system(cmd), 0);
    fake_file("cg/system.slice/php8.2-fpm.service/cgroup.procs", "");
    struct service_info *s = probe("php-fpm", 3);
    assert_string_equal(s->manager, "systemd");
    assert_string_equal(s->unit.id, "php8.2-fpm.service");
    char *args = fake_read("systemctl.args");
    assert_non_null(strstr(args, "list-units --all --plain --no-legend --full -- "
                                 "php*-fpm.service"));
    assert_null(strstr(args, "-- php8.2-fpm@.service")); /* templates are not shown */
    free(args);
    free(s);
    fakes_off();
}

/* ---- diagnose the real nginx ------------------------------------------------------------------- */

static void test_nginx_diagnose(void **state)
{
    (void)state;
    need_nginx();
    struct check_list *l = diagnose("nginx");
    assert_string_equal(l->subject, "service nginx");
    assert_int_equal(l->n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(l->items[i].id, ids[i]);
    assert_int_equal(check_of(l, "installed")->status, CHECK_OK);
    assert_int_equal(check_of(l, "running")->status, CHECK_OK);
    const struct check *c = check_of(l, "listening");
    assert_int_equal(c->status, CHECK_OK);
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%u/tcp", port);
    assert_non_null(strstr(c->message, want));
    c = check_of(l, "config");
    assert_int_equal(c->status, CHECK_OK);
    char tested[256];
    snprintf(tested, sizeof(tested), "nginx -t -c %s", conf);
    assert_non_null(strstr(c->message, tested));
    assert_non_null(strstr(c->detail, "syntax is ok"));
    if (access("/etc/init.d/nginx", X_OK) == 0 && access("/etc/rc2.d/S01nginx", F_OK) == 0) {
        c = check_of(l, "enabled");
        assert_int_equal(c->status, CHECK_OK);
        assert_non_null(strstr(c->message, "/etc/rc2.d/S01nginx"));
    }
    /* no systemd here: a young service is a "!", an old one cannot be judged */
    c = check_of(l, "restarts");
    assert_true(c->status == CHECK_WARN || c->status == CHECK_SKIP);
    for (size_t i = 0; i < l->n; i++) {
        assert_null(strchr(l->items[i].hint, '\n'));
        assert_null(strchr(l->items[i].message, '\n'));
    }
    json_t *j = check_list_json(l);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "checks")), 7);
    json_decref(j);
    free(l);

    /* an error in its log */
    put_file(errlog, "a", "2025/11/21 10:00:00 [crit] 99#99: *1 open() \"/srv/x\" failed (13: "
                        "Permission denied)\n");
    l = diagnose("nginx");
    c = check_of(l, "log_errors");
    assert_int_equal(c->status, CHECK_WARN);
    assert_non_null(strstr(c->message, "1 error line"));
    assert_non_null(strstr(c->detail, "Permission denied"));
    assert_non_null(strstr(c->hint, errlog));
    assert_non_null(strstr(l->cause, "its logs show 1 recent error line"));
    free(l);

    /* a broken config: the directive and its line */
    write_conf(1);
    l = diagnose("nginx");
    c = check_of(l, "config");
    assert_int_equal(c->status, CHECK_FAIL);
    char where[256];
    snprintf(where, sizeof(where), "nginx: [emerg] unknown directive \"foo\" in %s:3", conf);
    assert_string_equal(c->message, where);
    assert_non_null(strstr(c->detail, "test failed"));
    assert_non_null(strstr(c->hint, tested));
    assert_non_null(strstr(l->cause, "the configuration test fails: "));
    assert_non_null(strstr(l->cause, "unknown directive \"foo\""));
    assert_non_null(strstr(l->advice, tested));
    assert_int_equal(check_list_worst(l), CHECK_FAIL);
    free(l);
    write_conf(0);
}

/* Stopped: running ✗ and the cause says so. */
static void test_nginx_stopped(void **state)
{
    (void)state;
    need_nginx();
    stop_nginx();
    struct service_info *s = probe("nginx", 5);
    int others = (int)s->nprocs;
    assert_true(s->found);
    free(s);
    if (others > 0)
        skip(); /* another nginx runs on this machine: "not running" cannot be seen */
    struct check_list *l = diagnose("nginx");
    const struct check *c = check_of(l, "running");
    assert_int_equal(c->status, CHECK_FAIL);
    assert_non_null(strstr(c->message, "nginx is installed (/usr/sbin/nginx) but not running"));
    assert_non_null(strstr(c->hint, "start it: "));
    assert_int_equal(check_of(l, "listening")->status == CHECK_SKIP ||
                         check_of(l, "listening")->status == CHECK_WARN,
                     1);
    assert_non_null(strstr(l->cause, "nginx is not running"));
    assert_non_null(strstr(l->advice, "start it: "));
    free(l);

    /* something else holds nginx's usual port 80: named as the likely reason */
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(sock, 1) != 0) {
        close(sock);
        return; /* not root, or port 80 busy already */
    }
    l = diagnose("nginx");
    c = check_of(l, "listening");
    assert_int_equal(c->status, CHECK_WARN);
    char comm[64] = "", taken[160];
    FILE *f = fopen("/proc/self/comm", "r");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof(comm), f));
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    snprintf(taken, sizeof(taken), "127.0.0.1:80/tcp is taken by %s (pid %d)", comm,
             (int)getpid());
    assert_non_null(strstr(c->message, taken));
    assert_non_null(strstr(l->cause, taken));
    free(l);
    close(sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_table),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_parse_show),
        cmocka_unit_test(test_error_lines),
        cmocka_unit_test(test_log_tail),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_nginx_probe),
        cmocka_unit_test(test_systemd_nginx),
        cmocka_unit_test(test_systemd_failed_unit),
        cmocka_unit_test(test_systemd_pattern),
        cmocka_unit_test(test_nginx_diagnose),
        cmocka_unit_test(test_nginx_stopped),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
