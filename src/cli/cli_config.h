/* The user's Cloudya folder (CLOUDYA_HOME, default ~/.cloudya) and its config.ini:
 * `[api] url` and `[auth] token`. The file is written atomically with mode 0600 in a 0700
 * folder, and every other section and key already in it is kept. */
#ifndef CLOUDYA_CLI_CONFIG_H
#define CLOUDYA_CLI_CONFIG_H
#include <stddef.h>

#define CLI_CONFIG_MAX (64u << 10) /* a larger config.ini is refused, not parsed */

/* The folder: CLOUDYA_HOME when set and not empty, else $HOME/.cloudya. Returns 0, or
 * -ENOENT (no HOME) / -ENAMETOOLONG with err filled. */
int cli_config_home(char *out, size_t cap, char *err, size_t errlen);

/* Reads home/config.ini's [api] url and [auth] token (either may be absent: left "").
 * Returns 0 (also when the file does not exist), or -EINVAL / -EFBIG / -EIO with err naming
 * the file and the line. */
int cli_config_load(const char *home, char *url, size_t ucap, char *token, size_t tcap,
                    char *err, size_t errlen);

/* Sets section.key to value (NULL removes the key) in home/config.ini, creating the folder
 * (0700) and the file (0600) when needed, keeping everything else. Returns 0, or a negative
 * errno with err filled. */
int cli_config_set(const char *home, const char *section, const char *key, const char *value,
                   char *err, size_t errlen);

#endif
