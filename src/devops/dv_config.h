/* Where the DevOps commands keep and find things (CLOUDYA_HOME's config.json, the user's
 * templates, the built-in templates shipped with the project, the deployments) and which
 * tools they drive (terraform or tofu, ansible-playbook). These commands run on the user's
 * machine, not through the daemon. */
#ifndef CLOUDYA_DV_CONFIG_H
#define CLOUDYA_DV_CONFIG_H
#include <stddef.h>

#define DV_PATH_MAX 1024
#define DV_CONFIG_MAX_BYTES (64 * 1024)

struct dv_config {
    char home[DV_PATH_MAX];            /* CLOUDYA_HOME or ~/.cloudya */
    char config_path[DV_PATH_MAX];     /* home/config.json */
    char terraform_path[DV_PATH_MAX];  /* "terraform", "tofu" or a path */
    char ansible_path[DV_PATH_MAX];    /* "ansible-playbook" or a path */
    char templates_dir[DV_PATH_MAX];   /* the user's templates ("~" expanded) */
    char builtin_dir[DV_PATH_MAX];     /* the project's templates; "" when not found */
    char deployments_dir[DV_PATH_MAX]; /* home/deployments */
    char log_level[16];
};

/* Reads home/config.json into c, writing it with the seed's defaults first when it does not
 * exist (home is created 0700 when missing), so users find the file to edit. Keys it does
 * not know are left alone; a missing key takes its default. Returns 0, or -EINVAL with a
 * sentence naming the file and the problem (not JSON, a value that is not a string, too
 * large), or another negative errno from the file system with a sentence. */
int dv_config_load(const char *home, struct dv_config *c, char *err, size_t errlen);

/* Finds the built-in templates: CLOUDYA_TEMPLATES when set, else templates/ next to the
 * build directory holding the running program (a source checkout), else the installed
 * share/cloudya/templates. Fills out ("" when none exists) and returns 0 or -ENOENT. */
int dv_builtin_dir(char *out, size_t cap);

/* Resolves a tool the way a shell does: a name with a slash must be an executable file; a
 * bare name is searched in PATH. Returns 0 with the full path in out, or -ENOENT. */
int dv_tool_find(const char *tool, char *out, size_t cap);

/* Creates dir and its missing parents with mode (0700 for Cloudya's own folders). Returns
 * 0 (also when it exists as a directory) or a negative errno. */
int dv_mkdirs(const char *dir, int mode);

/* Writes len bytes to path atomically: a temporary file in the same folder with mode, fsync,
 * rename over path. Returns 0 or a negative errno with a sentence in err. */
int dv_write_file(const char *path, const char *data, size_t len, int mode, char *err,
                  size_t errlen);

/* Reads the regular file path (at most max bytes) into a NUL-terminated malloc'd buffer.
 * Returns 0 with *out and *len, -E2BIG when larger, or a negative errno. */
int dv_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
