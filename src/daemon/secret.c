#define _POSIX_C_SOURCE 200809L
#include "secret.h"

#include "config.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE "jwt_secret"

int secret_mkdirs(const char *dir)
{
    char path[PATH_MAX];
    if (str_copy(path, sizeof(path), dir) != 0)
        return -ENAMETOOLONG;
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Reads an existing key file, refusing one that others could read. */
static int read_key(const char *path, unsigned char *key, size_t cap, size_t *len, char *err,
                    size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen, "%s is readable by other users: chmod 600 it", path);
        return -EPERM;
    }
    ssize_t n = read(fd, key, cap);
    close(fd);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
        n--;
    if (n < CONFIG_SECRET_MIN) {
        snprintf(err, errlen, "%s holds fewer than %d characters", path, CONFIG_SECRET_MIN);
        return -EINVAL;
    }
    *len = (size_t)n;
    return 0;
}

/* Environment first; otherwise the data directory's key, made on first start. */
int secret_load(const char *configured, const char *data_dir, unsigned char *key, size_t cap,
                size_t *len, char *err, size_t errlen)
{
    size_t n = strlen(configured);
    if (n > 0) {
        if (n > cap) {
            snprintf(err, errlen, "JWT_SECRET is too long");
            return -EINVAL;
        }
        memcpy(key, configured, n);
        *len = n;
        return 0;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", data_dir, SECRET_FILE);
    int rc = read_key(path, key, cap, len, err, errlen);
    if (rc != -ENOENT)
        return rc;
    char hex[65];
    str_random_hex(hex, 32);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    ssize_t w = write(fd, hex, 64);
    if (w != 64 || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "cannot write %s", path);
        return -EIO;
    }
    close(fd);
    log_info("generated a new JWT signing key in %s", path);
    memcpy(key, hex, 64);
    *len = 64;
    return 0;
}
