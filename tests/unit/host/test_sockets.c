/* Unit tests for src/host/sockets.c: /proc/net/{tcp,tcp6,udp,udp6} lines written the way the
 * kernel writes them (addresses as native-order words of their network-order bytes, so the
 * tests hold on either byte order), listening versus established TCP, bound versus
 * connected UDP, malformed and over-long lines, the SOCKETS_MAX bound; owners through a fake
 * /proc/<pid>/fd tree; and on the real machine: a socket this test opens is found with its
 * address, port and pid, and a process that cannot look into pid 1's descriptors (nobody)
 * counts it as unseen instead of failing. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sockets.h"

static const char head4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n";
static const char head6[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/* The kernel's text for an address: each 4 bytes as a native u32, "%08X". */
static void addr_hex(const unsigned char *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, bytes + i, 4);
        snprintf(out + 2 * i, 9, "%08X", w);
    }
}

/* One line as the kernel prints it. */
static void line_for(char *out, size_t cap, int v6, const char *local, unsigned lport,
                     const char *remote, unsigned rport, unsigned state, unsigned uid,
                     unsigned long long inode)
{
    unsigned char lb[16] = {0}, rb[16] = {0};
    char lh[33], rh[33];
    assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, local, lb), 1);
    assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, remote, rb), 1);
    addr_hex(lb, v6 ? 16 : 4, lh);
    addr_hex(rb, v6 ? 16 : 4, rh);
    snprintf(out, cap,
             "   0: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000 %5u        0 "
             "%llu 1 0000000000000000 100 0 0 10 0\n",
             lh, lport, rh, rport, state, uid, inode);
}

static char *text_of(const char *head, const char *const *lines, size_t n)
{
    size_t len = strlen(head) + 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]);
    char *t = malloc(len);
    assert_non_null(t);
    size_t off = 0;
    memcpy(t, head, strlen(head));
    off += strlen(head);
    for (size_t i = 0; i < n; i++) {
        memcpy(t + off, lines[i], strlen(lines[i]));
        off += strlen(lines[i]);
    }
    t[off] = '\0';
    return t;
}

static const struct socket_listen *find(const struct socket_table *t, const char *addr,
                                        unsigned port, enum sockets_proto p)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i].port == port && t->s[i].proto == p && strcmp(t->s[i].addr, addr) == 0)
            return &t->s[i];
    return NULL;
}

/* ---- the parser -------------------------------------------------------------------------- */

static void test_tcp4_listen_vs_established(void **state)
{
    (void)state;
    char a[256], b[256], c[256];
    line_for(a, sizeof(a), 0, "127.0.0.1", 8080, "0.0.0.0", 0, 0x0A, 33, 4242);
    line_for(b, sizeof(b), 0, "10.1.2.3", 22, "192.168.7.9", 51000, 0x01, 0, 555);
    line_for(c, sizeof(c), 0, "0.0.0.0", 80, "0.0.0.0", 0, 0x0A, 0, 777);
    const char *lines[] = {a, b, c};
    char *text = text_of(head4, lines, 3);
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(text, SOCKETS_TCP, &t), 0);
    assert_int_equal(t.n, 2);
    const struct socket_listen *s = find(&t, "127.0.0.1", 8080, SOCKETS_TCP);
    assert_non_null(s);
    assert_int_equal(s->inode, 4242);
    assert_int_equal(s->uid, 33);
    assert_int_equal(s->pid, 0);
    assert_non_null(find(&t, "0.0.0.0", 80, SOCKETS_TCP));
    assert_null(find(&t, "10.1.2.3", 22, SOCKETS_TCP));
    char f[64];
    sockets_format(s, f, sizeof(f));
    assert_string_equal(f, "127.0.0.1:8080/tcp");
    sockets_free(&t);
    free(text);
}

/* What x86 shows, written out: the byte order of the words is the host's. */
static void test_tcp4_literal_little_endian(void **state)
{
    (void)state;
    uint32_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    if (first != 1)
        skip();
    const char *text = "  sl  local_address ...\n"
                       "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
                       "00000000     0        0 612 1 000000008bd65d2d 100 0 0 10 0\n";
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(text, SOCKETS_TCP, &t), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.s[0].addr, "127.0.0.1");
    assert_int_equal(t.s[0].port, 8080);
    assert_int_equal(t.s[0].inode, 612);
    sockets_free(&t);
}

static void test_tcp6(void **state)
{
    (void)state;
    char a[300], b[300], c[300], d[300];
    line_for(a, sizeof(a), 1, "::", 443, "::", 0, 0x0A, 0, 1001);
    line_for(b, sizeof(b), 1, "::1", 5432, "::", 0, 0x0A, 108, 1002);
    line_for(c, sizeof(c), 1, "::ffff:127.0.0.1", 6379, "::", 0, 0x0A, 0, 1003);
    line_for(d, sizeof(d), 1, "2001:db8::5", 443, "2001:db8::9", 40000, 0x01, 0, 1004);
    const char *lines[] = {a, b, c, d};
    char *text = text_of(head6, lines, 4);
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(text, SOCKETS_TCP6, &t), 0);
    assert_int_equal(t.n, 3);
    assert_non_null(find(&t, "::", 443, SOCKETS_TCP6));
    const struct socket_listen *s = find(&t, "::1", 5432, SOCKETS_TCP6);
    assert_non_null(s);
    assert_int_equal(s->uid, 108);
    assert_non_null(find(&t, "::ffff:127.0.0.1", 6379, SOCKETS_TCP6));
    char f[80];
    sockets_format(s, f, sizeof(f));
    assert_string_equal(f, "[::1]:5432/tcp6");
    sockets_free(&t);
    free(text);
}

static void test_udp_bound_vs_connected(void **state)
{
    (void)state;
    char a[256], b[256], c[300], d[300];
    line_for(a, sizeof(a), 0, "0.0.0.0", 53, "0.0.0.0", 0, 0x07, 0, 11);
    line_for(b, sizeof(b), 0, "10.0.0.2", 40001, "8.8.8.8", 53, 0x01, 0, 12);
    line_for(c, sizeof(c), 1, "::", 5353, "::", 0, 0x07, 0, 13);
    line_for(d, sizeof(d), 1, "fe80::1", 123, "fe80::2", 123, 0x01, 0, 14);
    const char *l4[] = {a, b}, *l6[] = {c, d};
    char *t4 = text_of(head4, l4, 2), *t6 = text_of(head6, l6, 2);
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(t4, SOCKETS_UDP, &t), 0);
    assert_int_equal(sockets_parse(t6, SOCKETS_UDP6, &t), 0);
    assert_int_equal(t.n, 2);
    assert_non_null(find(&t, "0.0.0.0", 53, SOCKETS_UDP));
    assert_non_null(find(&t, "::", 5353, SOCKETS_UDP6));
    char f[64];
    sockets_format(find(&t, "0.0.0.0", 53, SOCKETS_UDP), f, sizeof(f));
    assert_string_equal(f, "0.0.0.0:53/udp");
    sockets_free(&t);
    free(t4);
    free(t6);
}

/* A v6 line in a v4 file (and the reverse), cut lines, junk, bad hex: skipped, never a
 * crash, the good lines around them still read. */
static void test_malformed_lines(void **state)
{
    (void)state;
    char good[256], v6[300];
    line_for(good, sizeof(good), 0, "127.0.0.1", 9000, "0.0.0.0", 0, 0x0A, 0, 99);
    line_for(v6, sizeof(v6), 1, "::", 443, "::", 0, 0x0A, 0, 98);
    char cut[64];
    memcpy(cut, good, 30);
    cut[30] = '\n';
    cut[31] = '\0';
    char longline[SOCKETS_LINE_MAX + 300];
    memset(longline, ' ', sizeof(longline));
    memcpy(longline, good, strlen(good) - 1);
    longline[sizeof(longline) - 2] = '\n';
    longline[sizeof(longline) - 1] = '\0';
    const char *lines[] = {
        v6, cut, "garbage\n", "   1: 0100007G:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
        "   2: 0100007F:1F9 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
        "   3: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 -1 0 1\n",
        "   4: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999999\n",
        "   5: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 99999999999 0 1\n",
        "   6: 0100007F:1F90 00000000:0000 0A\n", ":\n", "\n", longline, good};
    char *text = text_of(head4, lines, sizeof(lines) / sizeof(lines[0]));
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(text, SOCKETS_TCP, &t), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.s[0].port, 9000);
    assert_int_equal(t.s[0].inode, 99);
    sockets_free(&t);
    free(text);

    /* a v4 line in a v6 file */
    const char *l2[] = {good};
    text = text_of(head6, l2, 1);
    assert_int_equal(sockets_parse(text, SOCKETS_TCP6, &t), 0);
    assert_int_equal(t.n, 0);
    sockets_free(&t);
    free(text);

    assert_int_equal(sockets_parse("", SOCKETS_UDP, &t), 0);
    assert_int_equal(t.n, 0);
}

static void test_bound_truncates(void **state)
{
    (void)state;
    char one[256];
    line_for(one, sizeof(one), 0, "0.0.0.0", 1234, "0.0.0.0", 0, 0x0A, 0, 5);
    size_t n = SOCKETS_MAX + 10, len = strlen(one);
    char *text = malloc(n * len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        memcpy(text + i * len, one, len);
    text[n * len] = '\0';
    struct socket_table t = {0};
    assert_int_equal(sockets_parse(text, SOCKETS_TCP, &t), 0);
    assert_int_equal(t.n, SOCKETS_MAX);
    assert_int_equal(t.truncated, 1);
    sockets_free(&t);
    free(text);
}

static void test_link_inode(void **state)
{
    (void)state;
    assert_int_equal(sockets_link_inode("socket:[12345]"), 12345);
    assert_int_equal(sockets_link_inode("socket:[18446744073709551615]"), UINT64_MAX);
    assert_int_equal(sockets_link_inode("socket:[18446744073709551616]"), 0);
    assert_int_equal(sockets_link_inode("socket:[]"), 0);
    assert_int_equal(sockets_link_inode("socket:[12"), 0);
    assert_int_equal(sockets_link_inode("socket:[12]x"), 0);
    assert_int_equal(sockets_link_inode("pipe:[12]"), 0);
    assert_int_equal(sockets_link_inode("/var/log/socket:[1]"), 0);
    assert_string_equal(sockets_proto_name(SOCKETS_UDP6), "udp6");
}

/* ---- owners through a fake /proc ----------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_fake_proc_owners(void **state)
{
    (void)state;
    char root[] = "/tmp/test_sockets_XXXXXX";
    assert_non_null(mkdtemp(root));
    char path[512], a[256], b[256], c[300];
    snprintf(path, sizeof(path), "%s/net", root);
    assert_int_equal(mkdir(path, 0755), 0);
    line_for(a, sizeof(a), 0, "127.0.0.1", 8080, "0.0.0.0", 0, 0x0A, 0, 501);
    line_for(b, sizeof(b), 0, "0.0.0.0", 22, "0.0.0.0", 0, 0x0A, 0, 502);
    line_for(c, sizeof(c), 1, "::", 8080, "::", 0, 0x0A, 0, 503);
    const char *l4[] = {a, b}, *l6[] = {c};
    char *t4 = text_of(head4, l4, 2), *t6 = text_of(head6, l6, 1);
    snprintf(path, sizeof(path), "%s/net/tcp", root);
    write_file(path, t4);
    snprintf(path, sizeof(path), "%s/net/tcp6", root);
    write_file(path, t6);
    /* no udp files: an IPv4-only or UDP-less kernel, not an error */

    /* pid 100 holds 501 and 503 (and a log file); pid 101 holds 501 too (a worker);
     * pid 102 has no fd directory */
    snprintf(path, sizeof(path), "%s/100", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/100/fd", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/100/fd/3", root);
    assert_int_equal(symlink("socket:[501]", path), 0);
    snprintf(path, sizeof(path), "%s/100/fd/4", root);
    assert_int_equal(symlink("/var/log/x.log", path), 0);
    snprintf(path, sizeof(path), "%s/100/fd/7", root);
    assert_int_equal(symlink("socket:[503]", path), 0);
    snprintf(path, sizeof(path), "%s/100/fd/notanfd", root);
    assert_int_equal(symlink("socket:[502]", path), 0);
    snprintf(path, sizeof(path), "%s/101", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/101/fd", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/101/fd/5", root);
    assert_int_equal(symlink("socket:[501]", path), 0);

    struct socket_table t = {0};
    assert_int_equal(sockets_read(root, &t), 0);
    assert_int_equal(t.n, 3);
    int pids[] = {100, 101, 102};
    assert_int_equal(sockets_owners(root, &t, pids, 3), 0);
    assert_int_equal(find(&t, "127.0.0.1", 8080, SOCKETS_TCP)->pid, 100);
    assert_int_equal(find(&t, "::", 8080, SOCKETS_TCP6)->pid, 100);
    assert_int_equal(find(&t, "0.0.0.0", 22, SOCKETS_TCP)->pid, 0); /* only via "notanfd" */
    sockets_free(&t);

    /* the worker alone */
    assert_int_equal(sockets_read(root, &t), 0);
    assert_int_equal(sockets_owners(root, &t, pids + 1, 1), 0);
    assert_int_equal(find(&t, "127.0.0.1", 8080, SOCKETS_TCP)->pid, 101);
    assert_int_equal(find(&t, "::", 8080, SOCKETS_TCP6)->pid, 0);
    sockets_free(&t);

    assert_int_equal(sockets_read("/nonexistent-proc-root", &t), 0);
    assert_int_equal(t.n, 0);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(t4);
    free(t6);
}

/* ---- the real machine ---------------------------------------------------------------------- */

static void test_real_sockets(void **state)
{
    (void)state;
    int tcp = socket(AF_INET, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(tcp >= 0 && udp >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(tcp, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(tcp, 4), 0);
    assert_int_equal(getsockname(tcp, (struct sockaddr *)&sa, &sl), 0);
    unsigned tport = ntohs(sa.sin_port);
    sa.sin_port = 0;
    assert_int_equal(bind(udp, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sl = sizeof(sa);
    assert_int_equal(getsockname(udp, (struct sockaddr *)&sa, &sl), 0);
    unsigned uport = ntohs(sa.sin_port);
    /* an established pair must not show up as listening */
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = htons((uint16_t)tport);
    assert_int_equal(connect(cli, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sl = sizeof(sa);
    assert_int_equal(getsockname(cli, (struct sockaddr *)&sa, &sl), 0);
    unsigned cport = ntohs(sa.sin_port);

    int v6 = socket(AF_INET6, SOCK_STREAM, 0);
    unsigned v6port = 0;
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
    if (v6 >= 0 && bind(v6, (struct sockaddr *)&s6, sizeof(s6)) == 0 && listen(v6, 1) == 0) {
        sl = sizeof(s6);
        assert_int_equal(getsockname(v6, (struct sockaddr *)&s6, &sl), 0);
        v6port = ntohs(s6.sin6_port);
    }

    struct socket_table t = {0};
    assert_int_equal(sockets_read("/proc", &t), 0);
    int me = getpid();
    assert_int_equal(sockets_owners("/proc", &t, &me, 1), 0);
    const struct socket_listen *s = find(&t, "127.0.0.1", tport, SOCKETS_TCP);
    assert_non_null(s);
    assert_int_equal(s->pid, me);
    assert_int_equal(s->uid, getuid());
    s = find(&t, "127.0.0.1", uport, SOCKETS_UDP);
    assert_non_null(s);
    assert_int_equal(s->pid, me);
    assert_null(find(&t, "127.0.0.1", cport, SOCKETS_TCP));
    if (v6port != 0) {
        s = find(&t, "::1", v6port, SOCKETS_TCP6);
        assert_non_null(s);
        assert_int_equal(s->pid, me);
    }
    sockets_free(&t);
    close(cli);
    close(tcp);
    close(udp);
    if (v6 >= 0)
        close(v6);
}

/* As nobody, pid 1's descriptors are closed to us: counted, not a failure. */
static void test_unreadable_fds_counted(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip(); /* needs root to become nobody */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        struct socket_table t = {0};
        if (sockets_read("/proc", &t) != 0 && t.n == 0)
            _exit(11);
        int one = 1;
        int r = sockets_owners("/proc", &t, &one, 1);
        size_t n = t.n;
        sockets_free(&t);
        if (n == 0 && r == 0)
            _exit(0); /* no listening socket at all: nothing to look up */
        _exit(r == 1 ? 0 : 12);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp4_listen_vs_established),
        cmocka_unit_test(test_tcp4_literal_little_endian),
        cmocka_unit_test(test_tcp6),
        cmocka_unit_test(test_udp_bound_vs_connected),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_bound_truncates),
        cmocka_unit_test(test_link_inode),
        cmocka_unit_test(test_fake_proc_owners),
        cmocka_unit_test(test_real_sockets),
        cmocka_unit_test(test_unreadable_fds_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
