/* The service catalog: the kinds of container a client may create (seed 000: nginx, node,
 * python, postgres), read from catalog/catalog.yaml (or the file CLOUDYA_CATALOG names)
 * through the YAML loader. The catalog, never the request, decides image, port, limits,
 * environment, command, user and data volume.
 *
 * File format (every key but image and port optional):
 *   services:
 *     nginx:
 *       image: nginx:alpine          # Engine image reference
 *       port: 80                     # the service's port inside the container (1..65535)
 *       description: "Web server"
 *       memoryMb: 256                # memory limit (16..65536), default 256
 *       cpus: 0.5                    # CPU limit (0.05..64), default 0.5
 *       env: {KEY: "value"}          # strings (numbers/booleans are turned into strings)
 *       command: ["nginx", "-g", "daemon off;"]   # list of strings; absent = image default
 *       user: "postgres"             # absent = image default
 *       volume: /var/lib/postgresql/data   # a named data volume is mounted here
 *       passwordEnv: POSTGRES_PASSWORD     # a generated password is put in this variable
 *                                          # and returned once, at creation
 * Service type names are DNS-label-like: [a-z0-9-], 1..31 chars, starting with a letter.
 * Unknown keys are refused (a typo must not silently drop a limit). */
#ifndef CLOUDYA_CATALOG_H
#define CLOUDYA_CATALOG_H
#include <jansson.h>
#include <stddef.h>

#define CATALOG_MAX_SERVICES 64
#define CATALOG_TYPE_MAX 32
#define CATALOG_IMAGE_MAX 256
#define CATALOG_DESC_MAX 256
#define CATALOG_USER_MAX 64
#define CATALOG_PATH_MAX 256
#define CATALOG_ENV_NAME_MAX 64
#define CATALOG_MAX_ENV 32
#define CATALOG_MAX_ARGS 32

typedef struct catalog_service {
    char type[CATALOG_TYPE_MAX];
    char image[CATALOG_IMAGE_MAX];
    int port;
    char description[CATALOG_DESC_MAX];
    int memory_mb;
    double cpus;
    json_t *env;     /* object of strings, never NULL (may be empty) */
    json_t *command; /* array of strings, or NULL for the image's default */
    char user[CATALOG_USER_MAX];           /* "" = image default */
    char volume[CATALOG_PATH_MAX];         /* "" = no data volume; else an absolute path */
    char password_env[CATALOG_ENV_NAME_MAX]; /* "" = no generated password */
} catalog_service;

typedef struct catalog {
    catalog_service svc[CATALOG_MAX_SERVICES];
    size_t n; /* in file order */
} catalog;

/* Loads and validates the catalog file at path. Returns 0 with *out set (free it with
 * catalog_free), or a negative errno with a sentence naming the file, the service and the
 * key in err. An empty catalog (no services) is an error. */
int catalog_load(const char *path, catalog **out, char *err, size_t errlen);

void catalog_free(catalog *c);

/* The service named type, or NULL. */
const catalog_service *catalog_find(const catalog *c, const char *type);

/* GET /api/catalog's body: [{serviceType, image, port, description, memoryMb, cpus}].
 * New reference. */
json_t *catalog_to_json(const catalog *c);

#endif
