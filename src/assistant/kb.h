/* The offline assistant's knowledge base: knowledge/<domain>.yaml files of entries (how people
 * ask, the command with named parameters, explanation, best practice, risk) and
 * knowledge/synonyms.yaml, loaded with limits and validated strictly (knowledge/README.md is
 * the format), then indexed for retrieval (retrieve.h). A loaded base is immutable: any
 * number of threads may search it at once. */
#ifndef CLOUDYA_KB_H
#define CLOUDYA_KB_H
#include <stddef.h>
#include <stdint.h>

#define KB_FILES_MAX 64             /* knowledge files in a directory */
#define KB_FILE_MAX (1024 * 1024)   /* bytes of one file */
#define KB_ENTRIES_MAX 4000         /* entries in the whole base */
#define KB_ID_MAX 64                /* bytes of an entry id */
#define KB_PHRASINGS_MAX 40         /* phrasings per language of one entry */
#define KB_PHRASING_MAX 300         /* bytes of one phrasing, keyword or synonym */
#define KB_KEYWORDS_MAX 40          /* keywords of one entry */
#define KB_COMMAND_MAX 1024         /* bytes of a command */
#define KB_TEXT_MAX 3000            /* bytes of an explanation or a practice */
#define KB_PARAMS_MAX 12            /* parameters of one entry */
#define KB_PARAM_NAME_MAX 32        /* bytes of a parameter name */
#define KB_VALUE_MAX 128            /* bytes of a parameter value (default or extracted) */
#define KB_CUES_MAX 16              /* after/near words of one parameter */
#define KB_CUE_WORDS 4              /* words of one after/near cue */
#define KB_SYN_GROUPS_MAX 2000      /* synonym groups */
#define KB_SYN_GROUP_MAX 64         /* terms of one group */
#define KB_SYN_WORDS 4              /* words of one synonym term */
#define KB_SYN_CANON 3              /* groups one synonym term may belong to */

typedef struct kb kb;
typedef struct kb_entry kb_entry;

/* The parameter types the engine extracts (knowledge/README.md describes each). */
enum kb_ptype {
    KB_P_NAME, KB_P_COUNT, KB_P_PORT, KB_P_REGION, KB_P_ZONE, KB_P_IMAGE, KB_P_CIDR, KB_P_IP,
    KB_P_PATH, KB_P_SIZE, KB_P_DURATION, KB_P_INSTANCE_TYPE, KB_P_URL, KB_P_EMAIL, KB_P_USER,
    KB_P_VERSION, KB_P_WORD,
};

/* Loads every *.yaml file of dir: synonyms.yaml as the synonyms, policy.yaml (the command
 * validator's) is skipped, every other file is one domain. Returns 0 with *out set (free it
 * with kb_free), or a negative errno with a sentence in err naming the file, the entry id
 * and the problem: -ENOENT / -EACCES (the directory or a file), -EINVAL (a rule of the
 * format is broken, including two files defining the same id), -E2BIG (a limit above). */
int kb_load_dir(const char *dir, kb **out, char *err, size_t errlen);

/* The same from an explicit list of files (synonyms.yaml recognized by its base name, no
 * policy.yaml skipping): for tests that pair fixtures. Same returns as kb_load_dir. */
int kb_load_files(const char *const *paths, size_t n, kb **out, char *err, size_t errlen);

/* Frees k (NULL is fine). */
void kb_free(kb *k);

/* The number of entries. */
size_t kb_count(const kb *k);

/* Entry i (0 <= i < kb_count), in file order (files sorted by name), or NULL. */
const kb_entry *kb_entry_at(const kb *k, size_t i);

/* The entry with this id, or NULL. */
const kb_entry *kb_find(const kb *k, const char *id);

/* Accessors. The strings live as long as the base. lang is "fr" or "en" (anything else
 * means "en"). kb_entry_risk gives "safe", "warning" or "dangerous". */
const char *kb_entry_id(const kb_entry *e);
const char *kb_entry_domain(const kb_entry *e);
const char *kb_entry_command(const kb_entry *e);
const char *kb_entry_risk(const kb_entry *e);
const char *kb_entry_explanation(const kb_entry *e, const char *lang);
const char *kb_entry_practice(const kb_entry *e, const char *lang);

/* The entry's phrasings in lang: returns their number and points *out at them. */
size_t kb_entry_phrasings(const kb_entry *e, const char *lang, const char *const **out);

/* The entry's parameters: their number, and name/type/default of parameter i. */
size_t kb_entry_param_count(const kb_entry *e);
const char *kb_entry_param_name(const kb_entry *e, size_t i);
enum kb_ptype kb_entry_param_type(const kb_entry *e, size_t i);
const char *kb_entry_param_default(const kb_entry *e, size_t i);

/* The type named s ("name", "count", ...): 0 with *t set, or -EINVAL. */
int kb_ptype_parse(const char *s, enum kb_ptype *t);

/* The name of type t. */
const char *kb_ptype_name(enum kb_ptype t);

/* 1 when v is an acceptable value of type t, else 0: its characters, form and bounds (at
 * most KB_VALUE_MAX bytes, never a shell metacharacter, quote, space or control character,
 * never starting with '-'). This is the security boundary for values pasted into commands:
 * every extracted value and every default passes it. */
int kb_value_valid(enum kb_ptype t, const char *v);

/* ---- internal: shared by kb.c and retrieve.c ---------------------------------------- */
#ifdef KB_INTERNAL
#include "textnorm.h"

#define KB_NO_TERM UINT32_MAX
#define KB_SLOT_IDS KB_SYN_CANON

/* A cue (after/near word of a parameter) as the stems of its words, or (n == 0) a
 * punctuation mark written next to values: "%" (80%), "=" (replicas=3). */
struct kb_cue {
    char w[KB_CUE_WORDS][TEXTNORM_WORD_MAX + 1];
    size_t n;
    char punct[8];
};

struct kb_param {
    char *name;
    enum kb_ptype type;
    char *def;
    struct kb_cue *after, *near;
    size_t nafter, nnear;
};

struct kb_entry {
    char *id, *domain, *command;
    char *file; /* the file it came from, for error messages */
    int risk; /* 0 safe, 1 warning, 2 dangerous */
    int domain_id;
    char *expl[2], *prac[2]; /* [0] en, [1] fr */
    char **phr[2];
    size_t nphr[2];
    char **keywords;
    size_t nkeywords;
    struct kb_param *params;
    size_t nparams;
    char **cmdwords; /* folded words of the command, never values */
    size_t ncmdwords;
    uint32_t *terms; /* sorted term ids of the document */
    float *tf;       /* their weighted frequencies */
    size_t nterms;
    float len;          /* document length (sum of weights) */
    uint64_t *bigrams;  /* sorted unordered pairs of adjacent terms in the phrasings */
    size_t nbigrams;
    uint32_t *pids;     /* each phrasing's terms, sorted: pids[poff[j] .. poff[j + 1]) */
    uint32_t *poff;
    size_t nphrase;
};

/* A slot: one position of a normalized text, standing for one to KB_SLOT_IDS terms (a
 * synonym term may belong to several groups), or for a word the base does not know. */
struct kb_slot {
    uint32_t id[KB_SLOT_IDS];
    uint8_t nid;     /* 0: unknown word */
    uint8_t domain;  /* 1 + the domain this word names (aws, s3 -> aws), or 0 */
    uint8_t nwords;  /* words it spans (a synonym may have several) */
    uint16_t token;  /* index of its first token in the analysis */
    uint16_t word;   /* index of its first word */
};

struct kb_syn {
    uint32_t w[KB_SYN_WORDS];
    uint8_t n;
    uint8_t ncanon;
    uint32_t canon[KB_SYN_CANON];
};

struct kb {
    struct kb_entry *e;
    size_t n;
    /* vocabulary: open addressing over term strings */
    char **term;
    size_t nterm, termcap;
    uint32_t *hash; /* KB_NO_TERM or a term id; size hashcap (a power of two) */
    size_t hashcap;
    double *idf;
    double idf_unknown;
    double avglen;
    /* postings in CSR form: entries of term t are post_e[post_off[t] .. post_off[t+1]) */
    uint32_t *post_off, *post_e;
    float *post_tf;
    /* synonyms, sorted by first word; syn_first[t] is the first index starting with t */
    struct kb_syn *syn;
    size_t nsyn;
    /* domain names in first-seen order */
    char *domains[16];
    size_t ndomains;
    /* the words that name a domain (kb_index.c's table), sorted, with 1 + their domain */
    const char **dword;
    uint8_t *ddomain;
    size_t ndword;
    /* the synonym groups' names (folded first word of their first term), by group id */
    uint32_t *gid;
    char **gname;
    size_t ngroup;
    /* 1 + the domain a term names, for the groups' ids (0 elsewhere; tdomain[t] for
     * t < ntdomain): "espace de noms" is a namespace, so Kubernetes, like "namespace" */
    uint8_t *tdomain;
    size_t ntdomain;
};

/* Parameter values for one entry: the defaults, replaced by what a request says. */
struct kb_extract {
    char value[KB_PARAMS_MAX][KB_VALUE_MAX + 1];
    uint8_t from_request[KB_PARAMS_MAX];
    uint8_t used[TEXTNORM_TOKENS_MAX]; /* tokens taken: 1 a value, 2 the cue before one */
};

/* Sets every value of x to its default, none from the request. */
void kb_extract_init(const kb_entry *e, struct kb_extract *x);

/* Fills the values of e's parameters that are not from_request yet from the analysis t
 * (x->used is reset for t). strict: only values the parameters' own cues point at, and
 * values recognizable anywhere (regions, zones, CIDRs, addresses, URLs...): for an earlier
 * request about something else. Every value stored passed kb_value_valid. */
void kb_extract_params(const kb *k, const kb_entry *e, const textnorm_text *t,
                       struct kb_extract *x, int strict);

/* The term id of the string s, or KB_NO_TERM. */
uint32_t kb_term_lookup(const kb *k, const char *s);

/* The term id of s, added to the vocabulary when new (loading only). */
uint32_t kb_intern(kb *k, const char *s);

/* Builds the table of domain words for k's domains (loading only, after the domains are
 * known and before any document is built). */
void kb_index_domains(kb *k);

/* Builds the documents, postings and idf of k's entries (loading only, after the synonyms
 * and every entry are in; ids already checked unique). */
void kb_index_build(kb *k);

/* Turns an analysis into slots (at most max), skipping stopwords and numbers, joining
 * synonyms (longest match first). Returns the number of slots. Read-only on k. */
size_t kb_slots(const kb *k, const textnorm_text *t, struct kb_slot *out, size_t max);

/* 1 + the index of the domain a folded word names (kb_index.c's table of domain words:
 * aws, s3, k8s, ...) among k's domains, or 0. */
int kb_domain_of_word(const kb *k, const char *fold);

/* 1 when the folded word names a domain or a product (s3, kubernetes), whether or not k
 * has that domain, and is not also a usual value (docker, ubuntu): never a value then. */
int kb_is_domain_word(const char *fold);

/* 1 when the stem starts a synonym term of k (a word of the domain's vocabulary). */
int kb_is_synonym(const kb *k, const char *stem);

/* 1 when the word of this stem (or the synonym group it stands for) is in e's document:
 * a word the entry is about, not a value ("in real time", "in the cluster"). */
int kb_entry_mentions(const kb *k, const kb_entry *e, const char *stem);

/* Term frequency of term id t in entry e (0 when absent). */
float kb_entry_tf(const kb_entry *e, uint32_t t);

/* 1 when e's phrasings hold terms a and b next to each other. */
int kb_entry_has_bigram(const kb_entry *e, uint32_t a, uint32_t b);
#endif

#endif
