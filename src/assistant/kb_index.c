/* The retrieval index of the knowledge base: the vocabulary of terms, the synonyms as
 * slots, and one weighted document per entry with its postings. See kb.h. */
#define _POSIX_C_SOURCE 200809L
#define KB_INTERNAL
#include "kb.h"

#include "str.h"
#include "textnorm.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_MAX TEXTNORM_WORDS_MAX
#define W_PHRASING 1.0f /* weights of the parts of an entry's document */
#define W_KEYWORD 1.0f
#define W_ID 1.0f
#define W_COMMAND 0.3f
#define W_CUE 0.3f
#define W_DOMAIN 0.5f
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Words that name a domain (folded, as written): they steer retrieval to its entries. */
static const struct {
    const char *word, *domain;
} domain_words[] = {
    {"aws", "aws"}, {"amazon", "aws"}, {"s3", "aws"}, {"ec2", "aws"}, {"eks", "aws"},
    {"ecs", "aws"}, {"ecr", "aws"}, {"rds", "aws"}, {"lambda", "aws"},
    {"cloudfront", "aws"}, {"route53", "aws"}, {"cloudwatch", "aws"}, {"codepipeline", "aws"},
    {"codebuild", "aws"}, {"waf", "aws"}, {"dynamodb", "aws"}, {"sqs", "aws"}, {"sns", "aws"},
    {"kms", "aws"}, {"ebs", "aws"}, {"efs", "aws"}, {"fargate", "aws"}, {"elb", "aws"},
    {"alb", "aws"}, {"cloudformation", "aws"}, {"cloudtrail", "aws"}, {"ssm", "aws"},
    {"aurora", "aws"}, {"beanstalk", "aws"}, {"guardduty", "aws"}, {"ami", "aws"},
    {"acm", "aws"}, {"sts", "aws"}, {"elasticache", "aws"}, {"eventbridge", "aws"},
    {"kinesis", "aws"}, {"ses", "aws"}, {"athena", "aws"}, {"nodegroup", "aws"},
    {"eksctl", "aws"}, {"sg", "aws"}, {"asg", "aws"}, {"vpc", "aws"},
    {"kubernetes", "kubernetes"}, {"k8s", "kubernetes"}, {"kube", "kubernetes"},
    {"kubectl", "kubernetes"}, {"pod", "kubernetes"}, {"pods", "kubernetes"},
    {"helm", "kubernetes"}, {"minikube", "kubernetes"}, {"kustomize", "kubernetes"},
    {"kubeconfig", "kubernetes"}, {"hpa", "kubernetes"}, {"configmap", "kubernetes"},
    {"statefulset", "kubernetes"}, {"daemonset", "kubernetes"}, {"ingress", "kubernetes"},
    {"node", "kubernetes"}, {"nodes", "kubernetes"}, {"noeud", "kubernetes"},
    {"noeuds", "kubernetes"}, {"pvc", "kubernetes"},
    {"deployment", "kubernetes"}, {"deployments", "kubernetes"}, {"namespace", "kubernetes"},
    {"namespaces", "kubernetes"}, {"cronjob", "kubernetes"}, {"configmaps", "kubernetes"},
    {"terraform", "terraform"}, {"tf", "terraform"}, {"tfstate", "terraform"},
    {"tfvars", "terraform"}, {"hcl", "terraform"}, {"opentofu", "terraform"},
    {"docker", "docker"}, {"dockerfile", "docker"}, {"dockerd", "docker"},
    {"dockerhub", "docker"}, {"compose", "docker"}, {"podman", "docker"},
    {"git", "git"}, {"github", "git"}, {"gitlab", "git"}, {"commit", "git"}, {"rebase", "git"},
    {"ansible", "ansible"}, {"playbook", "ansible"}, {"playbooks", "ansible"},
    {"gcp", "gcp"}, {"gcloud", "gcp"}, {"google", "gcp"}, {"gke", "gcp"}, {"gsutil", "gcp"},
    {"bigquery", "gcp"}, {"gcs", "gcp"}, {"gce", "gcp"}, {"gcr", "gcp"},
    {"azure", "azure"}, {"az", "azure"}, {"aks", "azure"}, {"microsoft", "azure"},
    {"azcopy", "azure"}, {"acr", "azure"}, {"nsg", "azure"}, {"vnet", "azure"},
    {"linux", "linux"}, {"systemctl", "linux"}, {"systemd", "linux"}, {"journalctl", "linux"},
    {"ubuntu", "linux"}, {"debian", "linux"}, {"centos", "linux"}, {"crontab", "linux"},
    {"apt", "linux"}, {"yum", "linux"}, {"dnf", "linux"}, {"ufw", "linux"},
    {"iptables", "linux"}, {"chmod", "linux"}, {"chown", "linux"},
};

/* ---- vocabulary -------------------------------------------------------------------- */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Open addressing with linear probing; the table is at most half full. Returns the id or
 * KB_NO_TERM. */
uint32_t kb_term_lookup(const kb *k, const char *s)
{
    if (k->hashcap == 0)
        return KB_NO_TERM;
    size_t mask = k->hashcap - 1, i = fnv1a(s) & mask;
    while (k->hash[i] != KB_NO_TERM) {
        if (strcmp(k->term[k->hash[i]], s) == 0)
            return k->hash[i];
        i = (i + 1) & mask;
    }
    return KB_NO_TERM;
}

static void hash_insert(kb *k, uint32_t id)
{
    size_t mask = k->hashcap - 1, i = fnv1a(k->term[id]) & mask;
    while (k->hash[i] != KB_NO_TERM)
        i = (i + 1) & mask;
    k->hash[i] = id;
}

/* The id of s, added to the vocabulary (and the table grown) when new. Never fails: memory
 * exhaustion aborts (xalloc). */
uint32_t kb_intern(kb *k, const char *s)
{
    uint32_t id = kb_term_lookup(k, s);
    if (id != KB_NO_TERM)
        return id;
    if (k->nterm == k->termcap) {
        k->termcap = k->termcap ? k->termcap * 2 : 1024;
        k->term = xrealloc(k->term, k->termcap * sizeof(*k->term));
    }
    if (2 * (k->nterm + 1) > k->hashcap) {
        free(k->hash);
        k->hashcap = k->hashcap ? k->hashcap * 2 : 4096;
        k->hash = xmalloc(k->hashcap * sizeof(*k->hash));
        for (size_t i = 0; i < k->hashcap; i++)
            k->hash[i] = KB_NO_TERM;
        for (uint32_t t = 0; t < k->nterm; t++)
            hash_insert(k, t);
    }
    id = (uint32_t)k->nterm++;
    k->term[id] = xstrdup(s);
    hash_insert(k, id);
    return id;
}

struct dword {
    const char *w;
    uint8_t d;
};

static int cmp_dword(const void *a, const void *b)
{
    return strcmp(((const struct dword *)a)->w, ((const struct dword *)b)->w);
}

/* Copies the rows of the domain-word table whose domain the base has, sorted for bisection. */
void kb_index_domains(kb *k)
{
    struct dword *v = xmalloc(NELEM(domain_words) * sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < NELEM(domain_words); i++)
        for (size_t d = 0; d < k->ndomains; d++)
            if (strcmp(k->domains[d], domain_words[i].domain) == 0)
                v[n++] = (struct dword){domain_words[i].word, (uint8_t)(d + 1)};
    qsort(v, n, sizeof(*v), cmp_dword);
    k->dword = xmalloc((n ? n : 1) * sizeof(*k->dword));
    k->ddomain = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        k->dword[i] = v[i].w;
        k->ddomain[i] = v[i].d;
    }
    k->ndword = n;
    free(v);
    k->ntdomain = k->nterm;
    k->tdomain = xcalloc(k->ntdomain ? k->ntdomain : 1, 1);
    for (size_t g = 0; g < k->ngroup; g++)
        k->tdomain[k->gid[g]] = (uint8_t)kb_domain_of_word(k, k->gname[g]);
}

/* By bisection in the base's sorted copy of the table. */
int kb_domain_of_word(const kb *k, const char *fold)
{
    size_t lo = 0, hi = k->ndword;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fold, k->dword[mid]);
        if (c == 0)
            return k->ddomain[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* A linear scan of the table: called for a few tokens per request only. Words that also
 * name everyday things (the docker group, the ubuntu user, a node) do not count. */
int kb_is_domain_word(const char *fold)
{
    static const char *const values[] = {"centos", "debian", "docker", "git", "node",
                                         "nodes", "ubuntu"};
    for (size_t i = 0; i < NELEM(values); i++)
        if (strcmp(fold, values[i]) == 0)
            return 0;
    for (size_t i = 0; i < NELEM(domain_words); i++)
        if (strcmp(fold, domain_words[i].word) == 0)
            return 1;
    return 0;
}

/* The first synonym whose first word is t (syn is sorted by first word), or nsyn. */
static size_t syn_lower(const kb *k, uint32_t t)
{
    size_t lo = 0, hi = k->nsyn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->syn[mid].w[0] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Slots of t; mk non-NULL (the same base, while loading) adds unknown stems to the
 * vocabulary, otherwise they become unknown slots. */
static size_t slots_build(const kb *k, kb *mk, const textnorm_text *t, struct kb_slot *out,
                          size_t max)
{
    uint32_t ids[TEXTNORM_WORDS_MAX];
    uint16_t idx[TEXTNORM_WORDS_MAX];
    size_t n = 0, nout = 0;
    for (size_t i = 0; i < t->nword; i++) {
        const textnorm_word *w = &t->word[i];
        if (w->stop || w->number)
            continue;
        ids[n] = mk != NULL ? kb_intern(mk, w->stem) : kb_term_lookup(k, w->stem);
        idx[n++] = (uint16_t)i;
    }
    if (mk != NULL)
        k = mk;
    for (size_t i = 0; i < n && nout < max;) {
        struct kb_slot *s = &out[nout++];
        const struct kb_syn *best = NULL;
        if (ids[i] != KB_NO_TERM)
            for (size_t j = syn_lower(k, ids[i]); j < k->nsyn && k->syn[j].w[0] == ids[i]; j++) {
                const struct kb_syn *y = &k->syn[j];
                size_t m = 1;
                while (m < y->n && i + m < n && ids[i + m] == y->w[m])
                    m++;
                if (m == y->n && (best == NULL || y->n > best->n))
                    best = y;
            }
        size_t len = best != NULL ? best->n : 1;
        s->word = idx[i];
        s->nwords = (uint8_t)len;
        s->token = t->word[idx[i]].token;
        s->domain = 0;
        for (size_t m = 0; m < len && s->domain == 0; m++)
            s->domain = (uint8_t)kb_domain_of_word(k, t->word[idx[i + m]].fold);
        if (best != NULL) {
            s->nid = best->ncanon;
            memcpy(s->id, best->canon, best->ncanon * sizeof(uint32_t));
            for (size_t c = 0; c < best->ncanon && s->domain == 0; c++)
                if (best->canon[c] < k->ntdomain)
                    s->domain = k->tdomain[best->canon[c]];
        } else {
            s->nid = ids[i] != KB_NO_TERM;
            s->id[0] = ids[i];
        }
        i += len;
    }
    return nout;
}

/* 1 when a synonym term starts with this stem ("real" of "real time"), else 0. */
int kb_is_synonym(const kb *k, const char *stem)
{
    uint32_t id = kb_term_lookup(k, stem);
    return id != KB_NO_TERM && syn_lower(k, id) < k->nsyn && k->syn[syn_lower(k, id)].w[0] == id;
}

/* The stem's term, or the groups of the one-word synonym it is, found in e's document. */
int kb_entry_mentions(const kb *k, const kb_entry *e, const char *stem)
{
    uint32_t id = kb_term_lookup(k, stem);
    if (id == KB_NO_TERM)
        return 0;
    for (size_t j = syn_lower(k, id); j < k->nsyn && k->syn[j].w[0] == id; j++)
        for (size_t c = 0; c < k->syn[j].ncanon; c++) /* "real" of "real time" too */
            if (kb_entry_tf(e, k->syn[j].canon[c]) > 0)
                return 1;
    return kb_entry_tf(e, id) > 0;
}

/* Read-only slots of a request: unknown stems stay unknown. */
size_t kb_slots(const kb *k, const textnorm_text *t, struct kb_slot *out, size_t max)
{
    return slots_build(k, NULL, t, out, max);
}

/* By bisection in the entry's sorted terms; 0 when absent. */
float kb_entry_tf(const kb_entry *e, uint32_t t)
{
    size_t lo = 0, hi = e->nterms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->terms[mid] == t)
            return e->tf[mid];
        if (e->terms[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0.0f;
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
}

/* By bisection in the entry's sorted pairs. */
int kb_entry_has_bigram(const kb_entry *e, uint32_t a, uint32_t b)
{
    uint64_t key = pair_key(a, b);
    size_t lo = 0, hi = e->nbigrams;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->bigrams[mid] == key)
            return 1;
        if (e->bigrams[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
/* ---- the index --------------------------------------------------------------------- */

struct doc {
    uint32_t *id;
    float *w;
    size_t n, cap;
    uint64_t *bi;
    size_t nbi, bicap;
    uint32_t *pids, *poff; /* the phrasings' terms, as in struct kb_entry */
    size_t npids, pcap, nphrase;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Records the terms of one phrasing (sorted, unique). */
static void doc_phrasing(struct doc *d, const struct kb_slot *s, size_t n)
{
    size_t start = d->npids;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < s[i].nid; j++) {
            if (d->npids == d->pcap) {
                d->pcap = d->pcap ? d->pcap * 2 : 128;
                d->pids = xrealloc(d->pids, d->pcap * sizeof(*d->pids));
            }
            d->pids[d->npids++] = s[i].id[j];
        }
    qsort(d->pids + start, d->npids - start, sizeof(*d->pids), cmp_u32);
    size_t o = start;
    for (size_t i = start; i < d->npids; i++)
        if (o == start || d->pids[o - 1] != d->pids[i])
            d->pids[o++] = d->pids[i];
    d->npids = o;
    d->poff = xrealloc(d->poff, (d->nphrase + 2) * sizeof(*d->poff));
    d->poff[d->nphrase] = (uint32_t)start;
    d->poff[++d->nphrase] = (uint32_t)d->npids;
}

static void doc_add(struct doc *d, uint32_t id, float w)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->id = xrealloc(d->id, d->cap * sizeof(*d->id));
        d->w = xrealloc(d->w, d->cap * sizeof(*d->w));
    }
    d->id[d->n] = id;
    d->w[d->n++] = w;
}

static void doc_bigram(struct doc *d, uint32_t a, uint32_t b)
{
    if (a == b)
        return;
    if (d->nbi == d->bicap) {
        d->bicap = d->bicap ? d->bicap * 2 : 256;
        d->bi = xrealloc(d->bi, d->bicap * sizeof(*d->bi));
    }
    d->bi[d->nbi++] = pair_key(a, b);
}

/* Adds the terms of text with weight w (and its adjacent pairs when bigrams). */
static void doc_text(kb *k, struct doc *d, textnorm_text *t, const char *text, float w,
                     int phrasing)
{
    struct kb_slot s[SLOTS_MAX];
    int bigrams = phrasing;
    textnorm_analyze(text, t);
    size_t n = slots_build(k, k, t, s, SLOTS_MAX);
    if (phrasing)
        doc_phrasing(d, s, n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < s[i].nid; j++)
            doc_add(d, s[i].id[j], w);
        if (bigrams && i + 1 < n)
            for (size_t a = 0; a < s[i].nid; a++)
                for (size_t b = 0; b < s[i + 1].nid; b++)
                    doc_bigram(d, s[i].id[a], s[i + 1].id[b]);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct idw {
    uint32_t id;
    float w;
};

static int cmp_idw(const void *a, const void *b)
{
    uint32_t x = ((const struct idw *)a)->id, y = ((const struct idw *)b)->id;
    return x < y ? -1 : x > y;
}

/* The command's words with the placeholders blanked, folded: retrieval terms (at a low
 * weight) and words that are never taken as parameter values. */
static void command_words(struct kb_entry *e, textnorm_text *t, char *plain, size_t cap)
{
    size_t o = 0;
    for (const char *p = e->command; *p != '\0' && o + 1 < cap; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end != NULL && (size_t)(end - p) <= KB_PARAM_NAME_MAX + 1) {
                plain[o++] = ' ';
                p = end;
                continue;
            }
        }
        plain[o++] = *p;
    }
    plain[o] = '\0';
    textnorm_analyze(plain, t);
    e->cmdwords = xcalloc(t->nword + 1, sizeof(char *));
    for (size_t i = 0; i < t->nword; i++) {
        int dup = 0;
        for (size_t j = 0; j < e->ncmdwords; j++)
            dup |= strcmp(e->cmdwords[j], t->word[i].fold) == 0;
        if (!dup && !t->word[i].number)
            e->cmdwords[e->ncmdwords++] = xstrdup(t->word[i].fold);
    }
}

static void index_entry(kb *k, struct kb_entry *e, textnorm_text *t)
{
    struct doc d = {0};
    char text[KB_COMMAND_MAX + 1];
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < e->nphr[l]; i++)
            doc_text(k, &d, t, e->phr[l][i], W_PHRASING, 1);
    for (size_t i = 0; i < e->nkeywords; i++)
        doc_text(k, &d, t, e->keywords[i], W_KEYWORD, 0);
    str_copy(text, sizeof text, e->id);
    for (char *p = text; *p != '\0'; p++)
        if (*p == '.' || *p == '-')
            *p = ' ';
    doc_text(k, &d, t, text, W_ID, 0);
    command_words(e, t, text, sizeof text);
    doc_text(k, &d, t, text, W_COMMAND, 0);
    for (size_t i = 0; i < e->nparams; i++) {
        const struct kb_param *p = &e->params[i];
        for (size_t j = 0; j < p->nafter + p->nnear; j++) {
            const struct kb_cue *cue = j < p->nafter ? &p->after[j] : &p->near[j - p->nafter];
            size_t o = 0;
            for (size_t w = 0; w < cue->n; w++)
                o += (size_t)snprintf(text + o, sizeof text - o, "%s ", cue->w[w]);
            doc_text(k, &d, t, text, W_CUE, 0);
        }
    }
    doc_text(k, &d, t, e->domain, W_DOMAIN, 0);
    /* merge equal terms */
    struct idw *v = xmalloc((d.n ? d.n : 1) * sizeof(*v));
    for (size_t i = 0; i < d.n; i++)
        v[i] = (struct idw){d.id[i], d.w[i]};
    qsort(v, d.n, sizeof(*v), cmp_idw);
    e->terms = xmalloc((d.n ? d.n : 1) * sizeof(*e->terms));
    e->tf = xmalloc((d.n ? d.n : 1) * sizeof(*e->tf));
    for (size_t i = 0; i < d.n; i++) {
        if (e->nterms > 0 && e->terms[e->nterms - 1] == v[i].id) {
            e->tf[e->nterms - 1] += v[i].w;
        } else {
            e->terms[e->nterms] = v[i].id;
            e->tf[e->nterms++] = v[i].w;
        }
        e->len += v[i].w;
    }
    qsort(d.bi, d.nbi, sizeof(*d.bi), cmp_u64);
    e->bigrams = xmalloc((d.nbi ? d.nbi : 1) * sizeof(*e->bigrams));
    for (size_t i = 0; i < d.nbi; i++)
        if (e->nbigrams == 0 || e->bigrams[e->nbigrams - 1] != d.bi[i])
            e->bigrams[e->nbigrams++] = d.bi[i];
    e->pids = d.pids;
    e->poff = d.poff;
    e->nphrase = d.nphrase;
    free(v);
    free(d.id);
    free(d.w);
    free(d.bi);
}

/* Documents first (they intern the words of commands and ids), then the postings and the idf
 * of every term: ln(1 + (N - df + 0.5) / (df + 0.5)), the BM25 form, never negative. */
void kb_index_build(kb *k)
{
    textnorm_text *t = xmalloc(sizeof(*t));
    double total = 0;
    for (size_t i = 0; i < k->n; i++) {
        for (size_t d = 0; d < k->ndomains; d++)
            if (strcmp(k->domains[d], k->e[i].domain) == 0)
                k->e[i].domain_id = (int)d + 1;
        index_entry(k, &k->e[i], t);
        total += k->e[i].len;
    }
    free(t);
    k->avglen = k->n > 0 ? total / (double)k->n : 1.0;
    /* postings */
    k->post_off = xcalloc(k->nterm + 1, sizeof(*k->post_off));
    for (size_t i = 0; i < k->n; i++)
        for (size_t j = 0; j < k->e[i].nterms; j++)
            k->post_off[k->e[i].terms[j] + 1]++;
    for (size_t t2 = 0; t2 < k->nterm; t2++)
        k->post_off[t2 + 1] += k->post_off[t2];
    size_t total_post = k->post_off[k->nterm];
    k->post_e = xmalloc((total_post ? total_post : 1) * sizeof(*k->post_e));
    k->post_tf = xmalloc((total_post ? total_post : 1) * sizeof(*k->post_tf));
    uint32_t *fill = xmalloc((k->nterm ? k->nterm : 1) * sizeof(*fill));
    memcpy(fill, k->post_off, k->nterm * sizeof(*fill));
    for (size_t i = 0; i < k->n; i++)
        for (size_t j = 0; j < k->e[i].nterms; j++) {
            uint32_t t2 = k->e[i].terms[j];
            k->post_e[fill[t2]] = (uint32_t)i;
            k->post_tf[fill[t2]++] = k->e[i].tf[j];
        }
    free(fill);
    k->idf = xmalloc((k->nterm ? k->nterm : 1) * sizeof(*k->idf));
    double N = (double)k->n;
    for (size_t t2 = 0; t2 < k->nterm; t2++) {
        double df = k->post_off[t2 + 1] - k->post_off[t2];
        k->idf[t2] = log(1.0 + (N - df + 0.5) / (df + 0.5));
    }
    k->idf_unknown = log(1.0 + (N + 0.5) / 0.5);
}
