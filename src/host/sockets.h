/* The listening sockets of the host, read from /proc/net/{tcp,tcp6,udp,udp6}: what
 * `monitor --service` shows as a service's ports and what `diagnose service` compares with
 * the ports a service is expected on. A TCP socket listens in state 0A (LISTEN); a UDP socket
 * counts as listening when it is bound and has no remote end (remote address and port zero).
 *
 * The kernel prints an IPv4 address as the 32-bit word of its network-order bytes in the
 * host's byte order ("0100007F" is 127.0.0.1 on x86), an IPv6 address as four such words,
 * and the port as a plain number; the parser puts the words back into memory as the kernel
 * held them, so it is right on either byte order.
 *
 * Who owns a socket is seen through /proc/<pid>/fd/<n> links reading "socket:[<inode>]",
 * for the processes a caller names: the fd directory of another user's process is readable
 * by root only, and such processes are counted, never an error. */
#ifndef CLOUDYA_HOST_SOCKETS_H
#define CLOUDYA_HOST_SOCKETS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SOCKETS_ADDR_MAX 48          /* an address as text: INET6_ADDRSTRLEN (46) and then some */
#define SOCKETS_MAX 16384            /* listening sockets kept; more are left out (truncated) */
#define SOCKETS_FILE_MAX (8u << 20)  /* bytes of one /proc/net file read; the rest is left out */
#define SOCKETS_LINE_MAX 1024        /* a longer line is not one the kernel wrote: skipped */
#define SOCKETS_FDS_MAX 65536        /* descriptors looked at per process */
#define SOCKETS_LINK_MAX 4096        /* an fd link's target (a path) */

enum sockets_proto { SOCKETS_TCP, SOCKETS_TCP6, SOCKETS_UDP, SOCKETS_UDP6 };

struct socket_listen {
    enum sockets_proto proto;
    char addr[SOCKETS_ADDR_MAX]; /* "127.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1" */
    unsigned port;
    uint64_t inode;              /* 0 for a socket the kernel shows without one */
    uid_t uid;
    int pid;                     /* the owner found by sockets_owners, 0 when unknown */
};

struct socket_table {
    struct socket_listen *s;
    size_t n, cap;
    int truncated; /* 1 when sockets or file bytes were left out */
};

/* The protocol's name as shown: "tcp", "tcp6", "udp", "udp6". */
const char *sockets_proto_name(enum sockets_proto p);

/* Parses the text of one /proc/net file of protocol proto (NUL-terminated; the heading line
 * and lines that do not parse are skipped) and appends its listening sockets to t (zeroed or
 * filled before). Returns 0, or -ENOMEM (t keeps what it had). Past SOCKETS_MAX sockets the
 * rest is left out and t->truncated set. Exported for the tests and the fuzzer. */
int sockets_parse(const char *text, enum sockets_proto proto, struct socket_table *t);

/* Reads the four files under proc_root/net (normally "/proc") into t, which must be zeroed
 * or freed before. A file that is missing (no IPv6) adds nothing. Returns 0, -ENOMEM, or the
 * negative errno of the first file that exists and cannot be read (t keeps the others). */
int sockets_read(const char *proc_root, struct socket_table *t);

/* Releases what sockets_read or sockets_parse allocated and zeroes t. Safe on a zeroed table. */
void sockets_free(struct socket_table *t);

/* Called by sockets_fd_walk with each descriptor's link target (NUL-terminated). A non-zero
 * return stops the walk and is returned by it. */
typedef int (*sockets_fd_fn)(void *ctx, int pid, int fd, const char *target);

/* Calls fn for every open descriptor of process pid under proc_root, at most SOCKETS_FDS_MAX
 * of them. Returns 0, fn's non-zero value, -EACCES when the fd directory cannot be read
 * (another user's process), -ESRCH when the process is gone, or another negative errno.
 * Descriptors closed during the walk are skipped. */
int sockets_fd_walk(const char *proc_root, int pid, sockets_fd_fn fn, void *ctx);

/* The inode of an fd link target "socket:[12345]", or 0 when target is not a socket. */
uint64_t sockets_link_inode(const char *target);

/* Sets the pid of every socket of t that one of the npids processes pids holds open
 * (the first holder found wins; a forked worker shares its master's socket). Returns how many
 * of those processes could not be looked into (not root), or a negative errno. */
int sockets_owners(const char *proc_root, struct socket_table *t, const int *pids, size_t npids);

/* Writes "127.0.0.1:8080/tcp" or "[::]:443/tcp6" for s into out (cap bytes). */
void sockets_format(const struct socket_listen *s, char *out, size_t cap);

#endif
