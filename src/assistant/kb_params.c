/* Parameter values of the offline assistant: the types of knowledge/README.md, their
 * validation (the security boundary for what is pasted into a command) and their extraction
 * from a request. See kb.h and retrieve.h. */
#define _POSIX_C_SOURCE 200809L
#define KB_INTERNAL
#include "kb.h"

#include "str.h"
#include "textnorm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHRASE_TOKEN 3 /* x->used mark of a phrase's token while extracting */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const type_names[] = {
    "name", "count", "port", "region", "zone", "image", "cidr", "ip", "path",
    "size", "duration", "instance_type", "url", "email", "user", "version", "word",
};

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_alnum(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* 1 when every byte of v is alphanumeric or in extra. */
static int only(const char *v, const char *extra)
{
    for (; *v != '\0'; v++)
        if (!is_alnum(*v) && strchr(extra, *v) == NULL)
            return 0;
    return 1;
}

static int all_digits(const char *v, size_t maxlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > maxlen)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(v[i]))
            return 0;
    return 1;
}

static long digits_value(const char *v)
{
    long x = 0;
    for (; *v != '\0'; v++)
        x = x * 10 + (*v - '0');
    return x;
}

static int ipv4_ok(const char *v)
{
    struct in_addr a;
    return inet_pton(AF_INET, v, &a) == 1;
}

/* ---- value types ------------------------------------------------------------------- */

/* The type named s: 0 with *t set, or -EINVAL for a name that is not a type. */
int kb_ptype_parse(const char *s, enum kb_ptype *t)
{
    for (size_t i = 0; i < NELEM(type_names); i++)
        if (strcmp(s, type_names[i]) == 0) {
            *t = (enum kb_ptype)i;
            return 0;
        }
    return -EINVAL;
}

/* The name of type t as knowledge files write it ("?" for a bad value). */
const char *kb_ptype_name(enum kb_ptype t)
{
    return (size_t)t < NELEM(type_names) ? type_names[t] : "?";
}

static int version_ok(const char *v)
{
    if (*v == 'v' || *v == 'V')
        v++;
    if (!is_digit(*v))
        return 0;
    int dots = 0;
    while (is_digit(*v) || (*v == '.' && is_digit(v[1]) && ++dots <= 3))
        v++;
    if (*v == '-' || *v == '+')
        return v[1] != '\0' && only(v + 1, ".-");
    return *v == '\0';
}

static int email_ok(const char *v)
{
    const char *at = strchr(v, '@');
    if (at == NULL || at == v || strchr(at + 1, '@') != NULL)
        return 0;
    const char *dot = strrchr(at, '.');
    if (dot == NULL || dot == at + 1 || strlen(dot + 1) < 2)
        return 0;
    for (const char *p = v; p < at; p++)
        if (!is_alnum(*p) && strchr("._+-", *p) == NULL)
            return 0;
    for (const char *p = dot + 1; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return only(at + 1, ".-");
}

static int cidr_ok(const char *v)
{
    char ip[64];
    const char *slash = strchr(v, '/');
    if (slash == NULL || (size_t)(slash - v) >= sizeof ip || !all_digits(slash + 1, 3))
        return 0;
    memcpy(ip, v, (size_t)(slash - v));
    ip[slash - v] = '\0';
    long bits = digits_value(slash + 1);
    struct in6_addr a6;
    if (ipv4_ok(ip))
        return bits <= 32;
    return inet_pton(AF_INET6, ip, &a6) == 1 && bits <= 128;
}

/* The security boundary: see kb.h. The characters allowed never include white space,
 * quotes, ; $ ` | & < > ( ) { } [ ] * ? ! \ or control characters, except '?' in a URL. */
int kb_value_valid(enum kb_ptype t, const char *v)
{
    size_t n = v != NULL ? strlen(v) : 0;
    struct in6_addr a6;
    if (n == 0 || n > KB_VALUE_MAX || v[0] == '-')
        return 0;
    switch (t) {
    case KB_P_NAME:
        return is_alnum(v[0]) && only(v, "._-");
    case KB_P_COUNT:
        return all_digits(v, 7) && digits_value(v) <= 1000000;
    case KB_P_PORT:
        return all_digits(v, 5) && digits_value(v) >= 1 && digits_value(v) <= 65535;
    case KB_P_REGION:
    case KB_P_ZONE:
        return n <= 40 && is_alnum(v[0]) && is_alnum(v[n - 1]) && only(v, "-");
    case KB_P_IMAGE:
        return is_alnum(v[0]) && only(v, "._/:@-");
    case KB_P_CIDR:
        return cidr_ok(v);
    case KB_P_IP:
        return ipv4_ok(v) || inet_pton(AF_INET6, v, &a6) == 1;
    case KB_P_PATH:
        return (is_alnum(v[0]) || strchr("/.~_", v[0]) != NULL) && only(v, "._/~+@=,%-") &&
               strchr(v + 1, '~') == NULL;
    case KB_P_SIZE:
        return all_digits(v, 6) && digits_value(v) >= 1;
    case KB_P_DURATION:
        return n >= 2 && n <= 8 && strchr("smhdw", v[n - 1]) != NULL &&
               strspn(v, "0123456789") == n - 1;
    case KB_P_INSTANCE_TYPE:
        return n <= 64 && is_alnum(v[0]) && only(v, "._-");
    case KB_P_URL:
        return (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0) &&
               n > 8 && only(v, "._~:/?#@+,=%-");
    case KB_P_EMAIL:
        return email_ok(v);
    case KB_P_USER:
        return n <= 32 && (is_alnum(v[0]) || v[0] == '_') && only(v, "._-");
    case KB_P_VERSION:
        return n <= 40 && version_ok(v);
    case KB_P_WORD:
        return (is_alnum(v[0]) || strchr("._/@", v[0]) != NULL) && only(v, "._:/@+=-");
    }
    return 0;
}

/* ---- recognizers ------------------------------------------------------------------- */

static const char *const directions[] = {"north", "south", "east", "west", "central",
                                         "northeast", "southeast", "northwest", "southwest"};

static int direction_at(const char *s, size_t *len)
{
    size_t best = 0;
    for (size_t i = 0; i < NELEM(directions); i++) {
        size_t n = strlen(directions[i]);
        if (n > best && strncmp(s, directions[i], n) == 0)
            best = n;
    }
    *len = best;
    return best > 0;
}

/* AWS regions: eu-west-3, us-gov-west-1. Returns the length matched at s (0: none). */
static size_t aws_region(const char *s)
{
    static const char *const geo[] = {"us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"};
    for (size_t i = 0; i < NELEM(geo); i++) {
        size_t n = strlen(geo[i]), d;
        if (strncmp(s, geo[i], n) != 0 || s[n] != '-')
            continue;
        const char *p = s + n + 1;
        if (strncmp(p, "gov-", 4) == 0)
            p += 4;
        if (!direction_at(p, &d) || p[d] != '-' || !is_digit(p[d + 1]))
            return 0;
        return (size_t)(p + d + 2 - s);
    }
    return 0;
}

/* GCP regions: europe-west1, us-central1, asia-southeast2. */
static size_t gcp_region(const char *s)
{
    static const char *const geo[] = {"us", "europe", "asia", "australia", "northamerica",
                                      "southamerica", "me", "africa"};
    for (size_t i = 0; i < NELEM(geo); i++) {
        size_t n = strlen(geo[i]), d;
        if (strncmp(s, geo[i], n) != 0 || s[n] != '-')
            continue;
        const char *p = s + n + 1;
        if (!direction_at(p, &d) || !is_digit(p[d]))
            return 0;
        d += is_digit(p[d + 1]) ? 2 : 1;
        return (size_t)(p + d - s);
    }
    return 0;
}

static const char *const azure_regions[] = {
    "australiaeast", "brazilsouth", "canadacentral", "centralindia", "centralus", "eastasia",
    "eastus", "eastus2", "francecentral", "francesouth", "germanywestcentral", "italynorth",
    "japaneast", "japanwest", "koreacentral", "northeurope", "norwayeast", "polandcentral",
    "southafricanorth", "southeastasia", "spaincentral", "swedencentral", "switzerlandnorth",
    "uaenorth", "uksouth", "ukwest", "westeurope", "westus", "westus2", "westus3",
};

enum family { F_AWS, F_GCP, F_AZURE };

static enum family region_family(const char *def)
{
    if (gcp_region(def) == strlen(def))
        return F_GCP;
    for (size_t i = 0; i < NELEM(azure_regions); i++)
        if (strcmp(def, azure_regions[i]) == 0)
            return F_AZURE;
    return F_AWS;
}

/* City and country names people use instead of region codes, per provider. */
static const struct {
    const char *word, *aws, *gcp, *azure;
} cities[] = {
    {"amsterdam", "eu-central-1", "europe-west4", "westeurope"},
    {"belgique", "eu-west-1", "europe-west1", "westeurope"},
    {"belgium", "eu-west-1", "europe-west1", "westeurope"},
    {"californie", "us-west-1", "us-west2", "westus"},
    {"california", "us-west-1", "us-west2", "westus"},
    {"dublin", "eu-west-1", "europe-west1", "northeurope"},
    {"francfort", "eu-central-1", "europe-west3", "germanywestcentral"},
    {"frankfurt", "eu-central-1", "europe-west3", "germanywestcentral"},
    {"ireland", "eu-west-1", "europe-west1", "northeurope"},
    {"irlande", "eu-west-1", "europe-west1", "northeurope"},
    {"london", "eu-west-2", "europe-west2", "uksouth"},
    {"londres", "eu-west-2", "europe-west2", "uksouth"},
    {"madrid", "eu-south-2", "europe-southwest1", "spaincentral"},
    {"milan", "eu-south-1", "europe-west8", "italynorth"},
    {"montreal", "ca-central-1", "northamerica-northeast1", "canadacentral"},
    {"mumbai", "ap-south-1", "asia-south1", "centralindia"},
    {"ohio", "us-east-2", "us-east5", "eastus2"},
    {"oregon", "us-west-2", "us-west1", "westus2"},
    {"paris", "eu-west-3", "europe-west9", "francecentral"},
    {"seoul", "ap-northeast-2", "asia-northeast3", "koreacentral"},
    {"singapore", "ap-southeast-1", "asia-southeast1", "southeastasia"},
    {"singapour", "ap-southeast-1", "asia-southeast1", "southeastasia"},
    {"stockholm", "eu-north-1", "europe-north1", "swedencentral"},
    {"sydney", "ap-southeast-2", "australia-southeast1", "australiaeast"},
    {"tokyo", "ap-northeast-1", "asia-northeast1", "japaneast"},
    {"virginia", "us-east-1", "us-east4", "eastus"},
    {"virginie", "us-east-1", "us-east4", "eastus"},
    {"zurich", "eu-central-2", "europe-west6", "switzerlandnorth"},
};

/* 1 when the folded token is a region code of some provider. */
static int region_code(const char *fold)
{
    size_t n = strlen(fold);
    if (aws_region(fold) == n || gcp_region(fold) == n)
        return 1;
    for (size_t i = 0; i < NELEM(azure_regions); i++)
        if (strcmp(fold, azure_regions[i]) == 0)
            return 1;
    return 0;
}

/* The region a folded token names, in the family of def: a code of any provider, or a
 * city. Returns 1 with out filled, else 0. */
static int region_value(const char *fold, const char *def, char *out, size_t cap)
{
    size_t n = strlen(fold);
    if (aws_region(fold) == n || gcp_region(fold) == n)
        return str_copy(out, cap, fold) == 0;
    for (size_t i = 0; i < NELEM(azure_regions); i++)
        if (strcmp(fold, azure_regions[i]) == 0)
            return str_copy(out, cap, fold) == 0;
    for (size_t i = 0; i < NELEM(cities); i++)
        if (strcmp(fold, cities[i].word) == 0) {
            enum family f = region_family(def);
            return str_copy(out, cap, f == F_GCP ? cities[i].gcp
                                      : f == F_AZURE ? cities[i].azure
                                                     : cities[i].aws) == 0;
        }
    return 0;
}

static int zone_value(const char *fold, char *out, size_t cap)
{
    size_t n = strlen(fold), r;
    if (n < 2 || fold[n - 1] < 'a' || fold[n - 1] > 'f')
        return 0;
    if ((r = aws_region(fold)) == n - 1 || (fold[n - 2] == '-' && gcp_region(fold) == n - 2))
        return str_copy(out, cap, fold) == 0;
    (void)r;
    return 0;
}

static int instance_type_value(const char *raw, const char *fold, char *out, size_t cap)
{
    static const char *const sizes[] = {"nano", "micro", "small", "medium", "large", "xlarge",
                                        "metal"};
    static const char *const gcp_kinds[] = {"standard", "highmem", "highcpu", "micro", "small",
                                            "medium", "custom", "megamem", "ultramem"};
    const char *dot = strchr(fold, '.');
    if (strncmp(fold, "standard_", 9) == 0 && fold[9] != '\0' && only(fold, "_"))
        return str_copy(out, cap, raw) == 0; /* Azure: Standard_B2s */
    if (dot != NULL && dot > fold && only(fold, ".") && strchr(dot + 1, '.') == NULL) {
        int digit = 0;
        for (const char *p = fold; p < dot; p++)
            digit |= is_digit(*p);
        const char *sz = dot + 1;
        while (is_digit(*sz))
            sz++;
        for (size_t i = 0; digit && !is_digit(fold[0]) && i < NELEM(sizes); i++)
            if (strcmp(sz, sizes[i]) == 0)
                return str_copy(out, cap, fold) == 0;
        return 0;
    }
    const char *dash = strchr(fold, '-');
    if (dash != NULL && dash - fold <= 4 && dash > fold && is_digit(dash[-1]) && only(fold, "-"))
        for (size_t i = 0; i < NELEM(gcp_kinds); i++) {
            size_t n = strlen(gcp_kinds[i]);
            if (strncmp(dash + 1, gcp_kinds[i], n) == 0 &&
                (dash[1 + n] == '\0' || (dash[1 + n] == '-' && all_digits(dash + 2 + n, 3))))
                return str_copy(out, cap, fold) == 0;
        }
    return 0;
}

static const char *const known_images[] = {
    "alpine", "busybox", "caddy", "centos", "consul", "debian", "elasticsearch", "fedora",
    "golang", "grafana", "haproxy", "httpd", "jenkins", "mariadb", "memcached", "minio",
    "mongo", "mysql", "nginx", "node", "openjdk", "php", "postgres", "prometheus", "python",
    "rabbitmq", "redis", "ruby", "rust", "traefik", "ubuntu", "wordpress",
};

/* An image reference that is recognizable anywhere: a known image (with or without a tag),
 * name:tag, or registry/path (the first part holding a dot, or several parts). */
static int image_anywhere(const char *raw)
{
    char name[KB_VALUE_MAX + 1];
    size_t n = strcspn(raw, ":@");
    if (n > KB_VALUE_MAX || !kb_value_valid(KB_P_IMAGE, raw))
        return 0;
    if (strncmp(raw, "http", 4) == 0 && raw[n] == ':')
        return 0;
    memcpy(name, raw, n);
    name[n] = '\0';
    for (size_t i = 0; i < NELEM(known_images); i++)
        if (strcmp(name, known_images[i]) == 0)
            return 1;
    for (const char *p = name; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            return 0;
    if (raw[n] == ':' && raw[n + 1] != '\0' && !all_digits(name, 64) && strchr(name, '.') == NULL)
        return strchr(raw + n + 1, '/') == NULL; /* name:tag, not host:port/path */
    const char *slash = strchr(name, '/');
    return slash != NULL && slash != name && slash[1] != '\0' && strchr(name, ' ') == NULL &&
           memchr(name, '.', (size_t)(slash - name)) != NULL;
}

static int path_anywhere(const char *raw)
{
    return (raw[0] == '/' || strncmp(raw, "./", 2) == 0 || strncmp(raw, "../", 3) == 0 ||
            strncmp(raw, "~/", 2) == 0) && kb_value_valid(KB_P_PATH, raw);
}

/* Unit words of durations and sizes (folded). */
static char duration_unit(const char *w)
{
    static const struct {
        const char *w;
        char u;
    } units[] = {
        {"s", 's'}, {"sec", 's'}, {"secs", 's'}, {"second", 's'}, {"seconde", 's'},
        {"secondes", 's'}, {"seconds", 's'}, {"m", 'm'}, {"min", 'm'}, {"mins", 'm'},
        {"minute", 'm'}, {"minutes", 'm'}, {"mn", 'm'}, {"h", 'h'}, {"hr", 'h'}, {"hrs", 'h'},
        {"heure", 'h'}, {"heures", 'h'}, {"hour", 'h'}, {"hours", 'h'}, {"d", 'd'}, {"j", 'd'},
        {"jour", 'd'}, {"jours", 'd'}, {"day", 'd'}, {"days", 'd'}, {"w", 'w'}, {"week", 'w'},
        {"weeks", 'w'}, {"semaine", 'w'}, {"semaines", 'w'},
    };
    for (size_t i = 0; i < NELEM(units); i++)
        if (strcmp(w, units[i].w) == 0)
            return units[i].u;
    return 0;
}

/* Size units: the factor to GB, or 0. */
static int size_unit(const char *w)
{
    static const char *const gb[] = {"g", "gb", "gib", "go", "gio", "giga", "gigas", "gigabytes",
                                     "gigaoctets"};
    static const char *const tb[] = {"t", "tb", "tib", "to", "tio", "tera", "teras"};
    for (size_t i = 0; i < NELEM(gb); i++)
        if (strcmp(w, gb[i]) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(tb); i++)
        if (strcmp(w, tb[i]) == 0)
            return 1024;
    return 0;
}

/* "30s", "5min", "2h" in one token; or number + unit in two (next may be NULL). */
static int duration_value(const char *fold, const char *next, char *out, size_t cap)
{
    size_t d = strspn(fold, "0123456789");
    char u = 0;
    if (d == 0 || d > 6)
        return 0;
    if (fold[d] != '\0')
        u = duration_unit(fold + d);
    else if (next != NULL)
        u = duration_unit(next);
    if (u == 0)
        return 0;
    snprintf(out, cap, "%.*s%c", (int)d, fold, u);
    return kb_value_valid(KB_P_DURATION, out);
}

static int size_value(const char *fold, const char *next, int bare_ok, char *out, size_t cap)
{
    size_t d = strspn(fold, "0123456789");
    int f = 0;
    if (d == 0 || d > 5)
        return 0;
    if (fold[d] != '\0')
        f = size_unit(fold + d);
    else if (next != NULL && size_unit(next))
        f = size_unit(next);
    else if (bare_ok)
        f = 1;
    if (f == 0)
        return 0;
    char num[8];
    memcpy(num, fold, d);
    num[d] = '\0';
    snprintf(out, cap, "%ld", digits_value(num) * f);
    return kb_value_valid(KB_P_SIZE, out);
}

static int number_word(const char *w)
{
    static const char *const words[][2] = {
        {"two", "deux"}, {"three", "trois"}, {"four", "quatre"}, {"five", "cinq"},
        {"six", "six"},  {"seven", "sept"},  {"eight", "huit"},  {"nine", "neuf"},
        {"ten", "dix"},
    };
    for (size_t i = 0; i < NELEM(words); i++)
        if (strcmp(w, words[i][0]) == 0 || strcmp(w, words[i][1]) == 0)
            return (int)i + 2;
    return 0;
}

/* ---- extraction -------------------------------------------------------------------- */

/* Tokens skipped between a cue and its value: "bucket named logs", "replicas to 5". */
static const char *const fillers[] = {
    "=", "a", "an", "appele", "appelee", "as", "called", "d", "de", "des", "du", "en", "is",
    "l", "la", "le", "les", "ma", "mes", "mon", "my", "name", "named", "nom", "nomme",
    "nommee", "of", "our", "the", "to", "un", "une",
};

/* Universal cues of some types (folded tokens), for parameters whose own cues found
 * nothing: "a bucket named logs", "user deploy", "on port 8080". */
static const char *const name_cues[] = {"appele", "appelee", "called", "name", "named", "nom",
                                        "nomme", "nommee"};
static const char *const user_cues[] = {"as", "compte", "login", "user", "username",
                                        "utilisateur"};

/* Words that qualify the noun before them, in French mostly ("un bucket privé"): never
 * names, skipped between a cue and its value. */
static const char *const qualifiers[] = {
    "basic", "basique", "chiffre", "chiffree", "dedie", "dediee", "distant", "distante",
    "empty", "encrypted", "existant", "existante", "existing", "local", "locale", "new",
    "nouveau", "nouvelle", "prive", "privee", "private", "public", "publique", "remote",
    "secure", "securise", "securisee", "simple", "temporaire", "temporary", "vide",
    /* quantifiers: "delete everything", "supprimer tous ..." never name a resource */
    "all", "any", "anything", "each", "every", "everything", "nothing", "whole", "entire",
    "tout", "tous", "toute", "toutes", "rien", "chaque", "aucun", "aucune", "entier", "entiere",
};

static int in_list(const char *const *list, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], w) == 0)
            return 1;
    return 0;
}

/* Every value starts as the entry's default, none from the request. */
void kb_extract_init(const kb_entry *e, struct kb_extract *x)
{
    memset(x, 0, sizeof(*x));
    for (size_t i = 0; i < e->nparams; i++)
        str_copy(x->value[i], sizeof x->value[i], e->params[i].def);
}

/* 1 when the folded word is one of e's command words or one of its cue words: those are
 * never values ("scale deployment deployment"). */
static int reserved_word(const kb_entry *e, const char *fold)
{
    char stem[TEXTNORM_WORD_MAX + 1];
    if (kb_is_domain_word(fold) || in_list(qualifiers, NELEM(qualifiers), fold))
        return 1;
    for (size_t i = 0; i < e->ncmdwords; i++)
        if (strcmp(e->cmdwords[i], fold) == 0)
            return 1;
    if (str_copy(stem, sizeof stem, fold) != 0)
        return 0;
    textnorm_stem(stem);
    for (size_t i = 0; i < e->nparams; i++) {
        const struct kb_param *p = &e->params[i];
        for (size_t j = 0; j < p->nafter + p->nnear; j++) {
            const struct kb_cue *c = j < p->nafter ? &p->after[j] : &p->near[j - p->nafter];
            if (c->n == 1 && strcmp(c->w[0], stem) == 0)
                return 1;
        }
    }
    return 0;
}

/* The value of type t (parameter p) that token k (raw/fold, quoted) stands for, with the
 * next token for two-token forms (20 GB, 5 minutes); *span is set to 2 when both are
 * taken. bare: a plain number is acceptable for sizes (the cue said "disk"). */
static int convert(const kb_entry *e, const struct kb_param *p, const char *raw,
                   const char *fold, int quoted, const char *next, int bare, char *out,
                   size_t cap, int *span)
{
    *span = 1;
    if (!quoted && (textnorm_is_stopword(fold) || reserved_word(e, fold)))
        return 0;
    switch (p->type) {
    case KB_P_NAME:
    case KB_P_USER:
    case KB_P_WORD:
        if (!quoted && (all_digits(raw, 64) || region_code(fold)))
            return 0; /* 5 is a count, eu-west-1 a region: not names */
        return str_copy(out, cap, raw) == 0 && kb_value_valid(p->type, out);
    case KB_P_COUNT: {
        int w = number_word(fold);
        if (w > 0) {
            snprintf(out, cap, "%d", w);
            return 1;
        }
        char num[16];
        size_t d = strspn(fold, "0123456789");
        if (d == 0 || d > 7 || (fold[d] != '\0' && strcmp(fold + d, "%") != 0))
            return 0; /* 5, or 80% */
        memcpy(num, fold, d);
        num[d] = '\0';
        snprintf(out, cap, "%ld", digits_value(num));
        return kb_value_valid(p->type, out);
    }
    case KB_P_PORT:
        if (!all_digits(fold, 5))
            return 0;
        snprintf(out, cap, "%ld", digits_value(fold));
        return kb_value_valid(p->type, out);
    case KB_P_REGION:
        return region_value(fold, p->def, out, cap);
    case KB_P_ZONE:
        return zone_value(fold, out, cap);
    case KB_P_INSTANCE_TYPE:
        return instance_type_value(raw, fold, out, cap);
    case KB_P_SIZE:
        if (size_value(fold, next, bare, out, cap)) {
            *span = strspn(fold, "0123456789") == strlen(fold) && next != NULL &&
                            size_unit(next) ? 2 : 1;
            return 1;
        }
        return 0;
    case KB_P_DURATION:
        if (duration_value(fold, next, out, cap)) {
            *span = strspn(fold, "0123456789") == strlen(fold) ? 2 : 1;
            return 1;
        }
        return 0;
    case KB_P_PATH:
        /* a plain word is a path only when it looks like a file (app.log, src/x, ~) */
        if (!quoted && strpbrk(raw, "./~") == NULL)
            return 0;
        return str_copy(out, cap, raw) == 0 && kb_value_valid(p->type, out);
    case KB_P_IMAGE:
        for (const char *q = raw; *q != '\0' && *q != ':' && *q != '@'; q++)
            if (*q >= 'A' && *q <= 'Z')
                return 0;
        /* fall through */
    default:
        return str_copy(out, cap, raw) == 0 && kb_value_valid(p->type, out);
    }
}

static int identifier_like(const textnorm_token *tk);

/* Tries token k (or, when eq is non-NULL, the text after '=' inside a token) as the value
 * of parameter i; on success stores it and marks the tokens (cue_tok too, when >= 0). */
static int take(const kb_entry *e, const textnorm_text *t, struct kb_extract *x, size_t i,
                size_t k, const char *eq, int cue_tok, int bare)
{
    char v[KB_VALUE_MAX + 1], fold[TEXTNORM_TOKEN_MAX + 1];
    int span = 1;
    if (k >= t->ntok || x->used[k] == 1 || t->tok[k].cut || t->tok[k].shell)
        return 0;
    const textnorm_token *tk = &t->tok[k];
    if (x->used[k] == PHRASE_TOKEN && !tk->quoted && eq == NULL && !identifier_like(tk))
        return 0;
    const char *raw = tk->raw, *f = tk->fold;
    const char *next = k + 1 < t->ntok && !x->used[k + 1] ? t->tok[k + 1].fold : NULL;
    if (eq != NULL) {
        raw = eq;
        textnorm_fold(eq, strlen(eq), fold, sizeof fold);
        f = fold;
        next = NULL;
    }
    if (!convert(e, &e->params[i], raw, f, tk->quoted, next, bare, v, sizeof v, &span))
        return 0;
    if (!kb_value_valid(e->params[i].type, v))
        return 0;
    str_copy(x->value[i], sizeof x->value[i], v);
    x->from_request[i] = 1;
    x->used[k] = 1;
    if (span == 2)
        x->used[k + 1] = 1;
    if (cue_tok >= 0 && (x->used[cue_tok] == 0 || x->used[cue_tok] == PHRASE_TOKEN))
        x->used[cue_tok] = 2;
    return 1;
}

/* A token with a digit or inner punctuation (api-6c9, web_1, v2): an identifier. */
static int identifier_like(const textnorm_token *tk)
{
    for (const char *p = tk->raw; *p != '\0'; p++)
        if (is_digit(*p) || (p != tk->raw && strchr("-_.", *p) != NULL))
            return 1;
    return 0;
}

static int filler(const textnorm_token *tk)
{
    return !tk->quoted && (in_list(fillers, NELEM(fillers), tk->fold) ||
                           in_list(qualifiers, NELEM(qualifiers), tk->fold) ||
                           kb_is_domain_word(tk->fold));
}

/* The value after the cue ending at token k: inside it after '=' (--replicas=5), or the
 * next token that is not a filler. near: also the token just before (5 replicas). */
static int after_token(const kb_entry *e, const textnorm_text *t, struct kb_extract *x,
                       size_t i, size_t k, int near)
{
    const char *eq = strrchr(t->tok[k].raw, '=');
    if (eq != NULL && eq[1] != '\0' && take(e, t, x, i, k, eq + 1, -1, 1))
        return 1;
    if (near && k > 0 && !filler(&t->tok[k - 1]) && take(e, t, x, i, k - 1, NULL, (int)k, 1))
        return 1;
    size_t j = k + 1, skipped = 0;
    while (j < t->ntok && skipped < 2 && filler(&t->tok[j]))
        j++, skipped++;
    if (take(e, t, x, i, j, NULL, (int)k, 1))
        return 1;
    /* "le pod bloqué api-6c9": past one word, only what looks like an identifier */
    return j + 1 < t->ntok && identifier_like(&t->tok[j + 1]) &&
           take(e, t, x, i, j + 1, NULL, (int)k, 1);
}

/* A punctuation cue inside a token: 80% (the value before it), replicas=3 (after). */
static int by_punct(const kb_entry *e, const textnorm_text *t, struct kb_extract *x, size_t i,
                    const char *punct)
{
    char v[TEXTNORM_TOKEN_MAX + 1];
    size_t pl = strlen(punct);
    for (size_t k = 0; k < t->ntok; k++) {
        const char *raw = t->tok[k].raw, *at = strstr(raw, punct);
        size_t n = strlen(raw);
        if (at == NULL || t->tok[k].quoted)
            continue;
        if (at[pl] != '\0' && take(e, t, x, i, k, at + pl, -1, 1))
            return 1;
        if (at == raw + n - pl && n > pl) {
            memcpy(v, raw, n - pl);
            v[n - pl] = '\0';
            if (take(e, t, x, i, k, v, -1, 1))
                return 1;
        }
    }
    return 0;
}

/* 1 when words w .. w+m-1 do not start or end inside a token: the cue "node" is not the
 * start of the value node-3 (but --replicas=5 holds the cue replicas). */
static int whole_words(const textnorm_text *t, size_t w, size_t m)
{
    size_t last = w + m - 1;
    if (w > 0 && t->word[w - 1].token == t->word[w].token)
        return 0;
    if (last + 1 < t->nword && t->word[last + 1].token == t->word[last].token)
        return strchr(t->tok[t->word[last].token].raw, '=') != NULL;
    return 1;
}

/* The token before a name's cue ("the frontend deployment"), when its own cues found
 * nothing after them: not a word of the vocabulary's synonyms (verbs, objects), nor a
 * stopword, domain word or qualifier. */
static int before_cues(const kb *k, const kb_entry *e, const textnorm_text *t,
                       struct kb_extract *x, size_t i)
{
    const struct kb_param *p = &e->params[i];
    for (size_t c = 0; c < p->nafter; c++)
        for (size_t w = 1; p->after[c].n > 0 && w + p->after[c].n <= t->nword; w++) {
            size_t m = 0, k0 = t->word[w].token;
            while (m < p->after[c].n && strcmp(t->word[w + m].stem, p->after[c].w[m]) == 0)
                m++;
            if (m < p->after[c].n || !whole_words(t, w, m) || k0 == 0 || t->tok[k0 - 1].quoted)
                continue;
            char stem[TEXTNORM_WORD_MAX + 1];
            if (str_copy(stem, sizeof stem, t->tok[k0 - 1].fold) != 0)
                continue;
            textnorm_stem(stem);
            if (kb_is_synonym(k, stem) || filler(&t->tok[k0 - 1]))
                continue;
            if (take(e, t, x, i, k0 - 1, NULL, (int)k0, 0))
                return 1;
        }
    return 0;
}

/* Looks for the cues of list (n of them) in the words of t; tries each occurrence. */
static int by_cues(const kb_entry *e, const textnorm_text *t, struct kb_extract *x, size_t i,
                   const struct kb_cue *cues, size_t n, int near)
{
    for (size_t c = 0; c < n; c++)
        if (cues[c].n == 0 && by_punct(e, t, x, i, cues[c].punct))
            return 1;
    for (size_t c = 0; c < n; c++)
        for (size_t w = 0; cues[c].n > 0 && w + cues[c].n <= t->nword; w++) {
            size_t m = 0;
            while (m < cues[c].n && strcmp(t->word[w + m].stem, cues[c].w[m]) == 0)
                m++;
            if (m < cues[c].n || !whole_words(t, w, m))
                continue;
            if (after_token(e, t, x, i, t->word[w + m - 1].token, near))
                return 1;
        }
    return 0;
}

/* Universal cues (folded tokens) for parameter i. */
static int by_words(const kb_entry *e, const textnorm_text *t, struct kb_extract *x, size_t i,
                    const char *const *words, size_t n)
{
    for (size_t k = 0; k < t->ntok; k++)
        if (!t->tok[k].quoted && in_list(words, n, t->tok[k].fold) &&
            after_token(e, t, x, i, k, 0))
            return 1;
    return 0;
}

/* Recognizable anywhere in the request, whatever the words around it. */
static int anywhere(const kb_entry *e, const textnorm_text *t, struct kb_extract *x, size_t i)
{
    enum kb_ptype ty = e->params[i].type;
    for (size_t k = 0; k < t->ntok; k++) {
        const textnorm_token *tk = &t->tok[k];
        const char *next = k + 1 < t->ntok ? t->tok[k + 1].fold : NULL;
        char v[KB_VALUE_MAX + 1];
        int ok = 0;
        if (x->used[k] == 1 || tk->cut)
            continue;
        switch (ty) {
        case KB_P_REGION:
        case KB_P_ZONE:
        case KB_P_INSTANCE_TYPE:
        case KB_P_CIDR:
        case KB_P_URL:
        case KB_P_EMAIL:
            ok = 1;
            break;
        case KB_P_IP:
            ok = strchr(tk->raw, '/') == NULL;
            break;
        case KB_P_PATH:
            ok = path_anywhere(tk->raw);
            break;
        case KB_P_IMAGE:
            ok = image_anywhere(tk->raw);
            break;
        case KB_P_SIZE:
            ok = size_value(tk->fold, next, 0, v, sizeof v);
            break;
        case KB_P_DURATION:
            ok = duration_value(tk->fold, next, v, sizeof v);
            break;
        case KB_P_VERSION:
            ok = strchr(tk->raw, '.') != NULL && !ipv4_ok(tk->raw);
            break;
        default:
            break;
        }
        if (ok && take(e, t, x, i, k, NULL, -1, 0))
            return 1;
    }
    return 0;
}

/* "in kube-system": a namespace named after "in" / "dans", when the entry is not about
 * that word (in the cluster, in real time). */
static int namespace_in(const kb *k, const kb_entry *e, const textnorm_text *t,
                        struct kb_extract *x, size_t i)
{
    static const char *const ins[] = {"dans", "in", "within"};
    for (size_t c = 0; c + 1 < t->ntok; c++) {
        char stem[TEXTNORM_WORD_MAX + 1];
        size_t j = c + 1;
        if (t->tok[c].quoted || !in_list(ins, NELEM(ins), t->tok[c].fold))
            continue;
        if (j + 1 < t->ntok && in_list(fillers, NELEM(fillers), t->tok[j].fold))
            j++; /* dans le namespace... is handled by the cue; "in the" */
        if (t->tok[j].quoted || str_copy(stem, sizeof stem, t->tok[j].fold) != 0)
            continue;
        textnorm_stem(stem);
        if (kb_entry_mentions(k, e, stem) || filler(&t->tok[j]))
            continue;
        if (take(e, t, x, i, j, NULL, (int)c, 0))
            return 1;
    }
    return 0;
}

/* Marks the tokens of a several-word synonym of the request ("resource group", "cloud
 * run"): words of a known phrase, never values. The marks are cleared before returning. */
static void mark_phrases(const kb *k, const textnorm_text *t, struct kb_extract *x)
{
    struct kb_slot s[TEXTNORM_WORDS_MAX];
    size_t n = kb_slots(k, t, s, NELEM(s));
    for (size_t i = 0; i < n; i++) {
        if (s[i].nid == 0 || s[i].nwords < 2)
            continue;
        for (size_t w = s[i].word; w < (size_t)s[i].word + s[i].nwords && w < t->nword; w++)
            if (t->word[w].token < t->ntok)
                x->used[t->word[w].token] = PHRASE_TOKEN;
    }
}

/* The parameter universal name cues fill: the one called "name", else the first name. */
static size_t main_name_param(const kb_entry *e)
{
    for (size_t i = 0; i < e->nparams; i++)
        if (e->params[i].type == KB_P_NAME && strcmp(e->params[i].name, "name") == 0)
            return i;
    for (size_t i = 0; i < e->nparams; i++)
        if (e->params[i].type == KB_P_NAME)
            return i;
    return SIZE_MAX;
}

/* The passes go from the most specific evidence to the least: the parameter's own cues,
 * universal cues, values recognizable anywhere, quoted text, derived regions, a lone number.
 * A token taken by one parameter is not offered to the next. */
void kb_extract_params(const kb *base, const kb_entry *e, const textnorm_text *t,
                       struct kb_extract *x, int strict)
{
    memset(x->used, 0, sizeof x->used);
    mark_phrases(base, t, x);
    /* 1. the parameters' own cues */
    for (size_t i = 0; i < e->nparams; i++)
        if (!x->from_request[i])
            if (!by_cues(e, t, x, i, e->params[i].after, e->params[i].nafter, 0))
                by_cues(e, t, x, i, e->params[i].near, e->params[i].nnear, 1);
    /* 2. universal cues (not in an earlier request about something else) */
    size_t mn = main_name_param(e);
    for (size_t i = 0; i < e->nparams && !strict; i++)
        if (!x->from_request[i] && e->params[i].type == KB_P_NAME)
            before_cues(base, e, t, x, i);
    if (mn != SIZE_MAX && !x->from_request[mn] && !strict)
        by_words(e, t, x, mn, name_cues, NELEM(name_cues));
    for (size_t i = 0; i < e->nparams && !strict; i++) {
        static const char *const port[] = {"port"}, *const image[] = {"image"},
                                 *const version[] = {"version"};
        if (x->from_request[i])
            continue;
        switch (e->params[i].type) {
        case KB_P_USER:
            by_words(e, t, x, i, user_cues, NELEM(user_cues));
            break;
        case KB_P_PORT:
            by_words(e, t, x, i, port, 1);
            break;
        case KB_P_IMAGE:
            by_words(e, t, x, i, image, 1);
            break;
        case KB_P_VERSION:
            by_words(e, t, x, i, version, 1);
            break;
        default:
            break;
        }
    }
    for (size_t i = 0; i < e->nparams && !strict; i++)
        if (!x->from_request[i] && e->params[i].type == KB_P_NAME &&
            strcmp(e->params[i].name, "namespace") == 0)
            namespace_in(base, e, t, x, i);
    /* 3. values recognizable anywhere */
    for (size_t i = 0; i < e->nparams; i++)
        if (!x->from_request[i])
            anywhere(e, t, x, i);
    /* 4. quoted text for names, words, users and paths */
    for (size_t i = 0; i < e->nparams && !strict; i++) {
        enum kb_ptype ty = e->params[i].type;
        if (x->from_request[i] ||
            !(ty == KB_P_NAME || ty == KB_P_WORD || ty == KB_P_USER || ty == KB_P_PATH))
            continue;
        for (size_t k = 0; k < t->ntok; k++)
            if (t->tok[k].quoted && take(e, t, x, i, k, NULL, -1, 0))
                break;
    }
    /* 5. the region of a zone the request named (eu-west-1b -> eu-west-1) */
    for (size_t z = 0; z < e->nparams; z++) {
        if (e->params[z].type != KB_P_ZONE || !x->from_request[z])
            continue;
        for (size_t i = 0; i < e->nparams; i++) {
            char r[KB_VALUE_MAX + 1];
            size_t n = strlen(x->value[z]);
            if (e->params[i].type != KB_P_REGION || x->from_request[i] || n < 3)
                continue;
            str_copy(r, sizeof r, x->value[z]);
            r[n - (r[n - 2] == '-' ? 2 : 1)] = '\0';
            if (kb_value_valid(KB_P_REGION, r)) {
                str_copy(x->value[i], sizeof x->value[i], r);
                x->from_request[i] = 1;
            }
        }
    }
    /* 6. a lone number for the entry's only unfilled count or port */
    size_t numeric = SIZE_MAX, nnum = 0, ntok_num = 0, tok_num = 0;
    for (size_t i = 0; i < e->nparams; i++)
        if (!x->from_request[i] &&
            (e->params[i].type == KB_P_COUNT || e->params[i].type == KB_P_PORT))
            numeric = i, nnum++;
    for (size_t k = 0; k < t->ntok; k++)
        if (!x->used[k] && !t->tok[k].quoted && all_digits(t->tok[k].fold, 7))
            tok_num = k, ntok_num++;
    if (nnum == 1 && ntok_num == 1 && !strict)
        take(e, t, x, numeric, tok_num, NULL, -1, 0);
    for (size_t k = 0; k < t->ntok; k++)
        if (x->used[k] == PHRASE_TOKEN)
            x->used[k] = 0;
}
