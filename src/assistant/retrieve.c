/* Retrieval: scoring entries for a request, deciding whether one fits, follow-ups, and the
 * answer's text. See retrieve.h for the contract. The constants below were tuned on
 * tests/unit/assistant/kb_eval.yaml (tools/kb_eval reports the figures). */
#define _POSIX_C_SOURCE 200809L
#define KB_INTERNAL
#include "retrieve.h"

#include "str.h"
#include "textnorm.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BM25_K1 1.2
#define BM25_B 0.75
#define QSLOTS_MAX 64       /* slots of a query (the request and the earlier ones) */
#define RERANK_MAX 30       /* candidates reranked: phrasing bonus, parameters, domains */
#define W_CONTEXT 0.5f      /* weight of the earlier request's terms in a follow-up... */
#define W_BEFORE 0.5f       /* ...and of the one before, when the earlier is a follow-up too */
#define PARTS 3             /* the request, the earlier request, the one before */
#define BIGRAM_W 0.35       /* bonus per adjacent pair found adjacent in a phrasing */
#define DOMAIN_BOOST 1.5    /* entries of a domain the request names */
#define DOMAIN_OTHER 0.6    /* entries of other domains when the request names one */
#define VALUE_W 0.3         /* weight of a word of a value-like token (my-app, app.py) */
#define EXPLAINED_W 0.5     /* score for a word an entry takes as a parameter value... */
#define EXPLAINED_IDF 3.0   /* ...at most this idf */
#define LITERAL_W 0.5       /* bonus per request word written as such in the command */
#define PHRASE_W 1.0        /* bonus for the phrasing most like the request (weighted Dice) */
#define COV_BASE 0.3        /* ranking: score * (COV_BASE + (1 - COV_BASE) * coverage) */
#define FIT_COVERAGE 0.6    /* an entry fits when it covers this much of the request... */
#define FIT_SCORE 3.5       /* ...and scores at least this */
#define FIT_COVERAGE_LONG 0.35 /* or covers this much with words weighing at least... */
#define FIT_MASS 8.5        /* ...this much (idf-weighted): three strong words or so */
#define CONF_HALF 4.0       /* confidence: coverage * score / (score + CONF_HALF) */
#define FOLLOWUP_WORDS 6    /* an earlier request this short is itself a follow-up */
#define RESOLVE_DEPTH 3     /* turns looked back to know a conversation's topic */
#define TOPIC_SCORE 2.0     /* a topic named when nothing fits scores at least this... */
#define TOPIC_COVERAGE 0.25 /* ...and covers this much */

/* ---- language ---------------------------------------------------------------------- */

static const char *lang_of(const textnorm_text *t)
{
    int score = t->accents > 3 ? 6 : 2 * t->accents;
    for (size_t i = 0; i < t->nword; i++)
        score += textnorm_lang_hint(t->word[i].fold);
    return score > 0 ? "fr" : "en";
}

/* Language detection, see retrieve.h. */
const char *kb_detect_lang(const char *text)
{
    if (text == NULL)
        return "en";
    textnorm_text *t = xmalloc(sizeof(*t));
    textnorm_analyze(text, t);
    const char *lang = lang_of(t);
    free(t);
    return lang;
}

/* ---- queries ----------------------------------------------------------------------- */

struct qslot {
    struct kb_slot s;
    float w;      /* 1 for the request, W_CONTEXT or W_BEFORE for the earlier ones */
    double idf;   /* the slot's weight in coverage */
    uint8_t part; /* 0 the request, 1 the earlier request, 2 the one before */
};

struct query {
    const textnorm_text *t[PARTS]; /* NULL when absent */
    struct qslot q[QSLOTS_MAX];
    size_t n;
};

/* A token that looks like a value (my-app, web-1, app.py, eu-west-3, "x"): its words are
 * the user's names more than the request's topic, so they weigh less. */
static int value_like(const textnorm_token *tk)
{
    if (tk->quoted || tk->cut || tk->raw[0] == '-') /* "x", an option (-rf, --all) */
        return 1;
    for (const char *p = tk->raw; *p != '\0'; p++)
        if (p != tk->raw && p[1] != '\0' && strchr("-._:/@=~", *p) != NULL)
            return 1;
    return 0;
}

static void query_add(const kb *k, struct query *q, const textnorm_text *t, float w,
                      uint8_t part)
{
    struct kb_slot s[QSLOTS_MAX];
    size_t n = kb_slots(k, t, s, QSLOTS_MAX);
    q->t[part] = t;
    for (size_t i = 0; i < n && q->n < QSLOTS_MAX; i++) {
        struct qslot *x = &q->q[q->n++];
        x->s = s[i];
        x->w = w;
        const textnorm_token *tk = &t->tok[s[i].token];
        if (s[i].nwords == 1 &&
            (value_like(tk) || (s[i].nid == 0 && tk->raw[0] >= '0' && tk->raw[0] <= '9')))
            x->w *= VALUE_W; /* not docker-compose, pare-feu (synonyms of several words), and
                                an unknown 15m, 20gb are values too */
        x->part = part;
        x->idf = 0;
        for (size_t j = 0; j < s[i].nid; j++)
            if (k->idf[s[i].id[j]] > x->idf)
                x->idf = k->idf[s[i].id[j]];
        if (s[i].nid == 0)
            x->idf = k->idf_unknown;
    }
}

/* ---- ranking ----------------------------------------------------------------------- */

struct cand {
    uint32_t e;
    double raw;          /* BM25 + bonuses, before the domain factor */
    double score, cov, rank;
    double got;          /* the weight of the request's words it covers (coverage's numerator) */
    uint64_t matched; /* bit i: slot i is covered */
    struct kb_extract *x; /* the first candidates': PARTS extractions (request, then +1, +2) */
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? 1 : -1;
    return x->e < y->e ? -1 : x->e > y->e;
}

static double coverage_mass(const struct query *q, uint64_t matched)
{
    double got = 0;
    for (size_t i = 0; i < q->n; i++)
        if (matched & (1ull << i))
            got += q->q[i].w * q->q[i].idf;
    return got;
}

static double coverage(const struct query *q, uint64_t matched)
{
    double all = 0, got = 0;
    for (size_t i = 0; i < q->n; i++) {
        all += q->q[i].w * q->q[i].idf;
        if (matched & (1ull << i))
            got += q->q[i].w * q->q[i].idf;
    }
    return all > 0 ? got / all : 0;
}

/* The share of part 0 (the request itself) that c covers. */
static double coverage_request(const struct query *q, uint64_t matched)
{
    double all = 0, got = 0;
    for (size_t i = 0; i < q->n; i++)
        if (q->q[i].part == 0) {
            all += q->q[i].idf;
            if (matched & (1ull << i))
                got += q->q[i].idf;
        }
    return all > 0 ? got / all : 1;
}

/* DOMAIN_BOOST for an entry of a domain the request names, DOMAIN_OTHER for the others
 * when it names one, else 1. The earlier request's domains count when the request names
 * none. x (may be NULL): the entry's parameters, so that a domain word taken as a value
 * ("the group docker") steers nothing for it. */
static double domain_factor(const kb *k, const struct query *q, const kb_entry *e,
                            const struct kb_extract *x)
{
    unsigned named[PARTS] = {0, 0, 0};
    for (size_t i = 0; i < q->n; i++) {
        const struct qslot *s = &q->q[i];
        if (s->s.domain == 0 || s->s.domain > 32 ||
            (x != NULL && x[s->part].used[s->s.token] == 1))
            continue;
        named[s->part] |= 1u << (s->s.domain - 1);
    }
    unsigned dom = named[0] ? named[0] : named[1] ? named[1] : named[2];
    if (dom == 0)
        return 1;
    (void)k;
    return e->domain_id > 0 && (dom & (1u << (e->domain_id - 1))) ? DOMAIN_BOOST
                                                                  : DOMAIN_OTHER;
}

/* Scores every entry sharing a term with q. Returns the candidates (malloc'ed, sorted by
 * rank, *n of them). */
static struct cand *rank_all(const kb *k, const struct query *q, size_t *n)
{
    double *acc = xcalloc(k->n, sizeof(*acc)), *best = xcalloc(k->n, sizeof(*best));
    uint64_t *mask = xcalloc(k->n, sizeof(*mask));
    uint32_t *touched = xmalloc(k->n * sizeof(*touched));
    struct cand *c = NULL;
    size_t nc = 0;
    for (size_t i = 0; i < q->n; i++) {
        const struct qslot *s = &q->q[i];
        size_t nt = 0;
        for (size_t j = 0; j < s->s.nid; j++) {
            uint32_t id = s->s.id[j];
            int seen = 0; /* a term repeated in the query counts once */
            for (size_t p = 0; p < i && !seen; p++)
                for (size_t r = 0; r < q->q[p].s.nid; r++)
                    seen |= q->q[p].s.id[r] == id;
            for (uint32_t p = k->post_off[id]; p < k->post_off[id + 1]; p++) {
                uint32_t e = k->post_e[p];
                double tf = k->post_tf[p];
                double norm = BM25_K1 * (1 - BM25_B + BM25_B * k->e[e].len / k->avglen);
                double v = seen ? 0 : s->w * k->idf[id] * tf * (BM25_K1 + 1) / (tf + norm);
                if (!(mask[e] & (1ull << i))) {
                    mask[e] |= 1ull << i;
                    touched[nt++] = e;
                }
                if (v > best[e])
                    best[e] = v;
            }
        }
        for (size_t j = 0; j < nt; j++) {
            acc[touched[j]] += best[touched[j]];
            best[touched[j]] = 0;
        }
    }
    for (size_t e = 0; e < k->n; e++)
        if (mask[e] != 0)
            nc++;
    c = xcalloc(nc ? nc : 1, sizeof(*c));
    nc = 0;
    for (uint32_t e = 0; e < k->n; e++) {
        if (mask[e] == 0)
            continue;
        struct cand *x = &c[nc++];
        double bonus = 0;
        x->e = e;
        x->matched = mask[e];
        for (size_t i = 0; i + 1 < q->n; i++) {
            const struct qslot *a = &q->q[i], *b = &q->q[i + 1];
            if (a->part != b->part || !(mask[e] & (1ull << i)) || !(mask[e] & (1ull << (i + 1))))
                continue;
            int hit = 0;
            for (size_t u = 0; u < a->s.nid && !hit; u++)
                for (size_t v = 0; v < b->s.nid && !hit; v++)
                    hit = kb_entry_has_bigram(&k->e[e], a->s.id[u], b->s.id[v]);
            if (hit)
                bonus += BIGRAM_W * (a->w * a->idf + b->w * b->idf) / 2;
        }
        x->raw = acc[e] + bonus;
        x->score = x->raw * domain_factor(k, q, &k->e[e], NULL);
        x->cov = coverage(q, x->matched);
        x->rank = x->score * (COV_BASE + (1 - COV_BASE) * x->cov);
    }
    qsort(c, nc, sizeof(*c), cmp_cand);
    free(acc);
    free(best);
    free(mask);
    free(touched);
    *n = nc;
    return c;
}

static int has_id(const uint32_t *v, size_t n, uint32_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == id)
            return 1;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* How close the request is to the entry's closest phrasing: the idf-weighted Dice
 * coefficient of their terms (1 when the request says a phrasing's words, in any order),
 * times the request's weight, so that an entry phrased like the request wins over one that
 * merely mentions the same words often. */
static double phrase_bonus(const kb *k, const struct query *q, const kb_entry *e)
{
    double qmass = 0, best = 0;
    for (size_t i = 0; i < q->n; i++)
        qmass += q->q[i].w * q->q[i].idf;
    for (size_t j = 0; j < e->nphrase; j++) {
        const uint32_t *p = e->pids + e->poff[j];
        size_t n = e->poff[j + 1] - e->poff[j];
        double pmass = 0, overlap = 0;
        for (size_t i = 0; i < n; i++)
            pmass += k->idf[p[i]];
        for (size_t i = 0; i < q->n; i++)
            for (size_t r = 0; r < q->q[i].s.nid; r++)
                if (has_id(p, n, q->q[i].s.id[r])) {
                    overlap += q->q[i].w * q->q[i].idf;
                    break;
                }
        if (qmass + pmass > 0 && 2 * overlap / (qmass + pmass) > best)
            best = 2 * overlap / (qmass + pmass);
    }
    return PHRASE_W * best * qmass;
}

/* The synonym groups (up to KB_SYN_CANON ids) a single folded word belongs to. */
static size_t groups_of(const kb *k, const char *fold, uint32_t *out)
{
    char stem[TEXTNORM_WORD_MAX + 1];
    if (str_copy(stem, sizeof stem, fold) != 0)
        return 0;
    textnorm_stem(stem);
    uint32_t id = kb_term_lookup(k, stem);
    if (id == KB_NO_TERM)
        return 0;
    size_t lo = 0, hi = k->nsyn;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->syn[mid].w[0] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < k->nsyn && k->syn[lo].w[0] == id; lo++)
        if (k->syn[lo].n == 1) {
            for (size_t c = 0; c < k->syn[lo].ncanon; c++)
                out[c] = k->syn[lo].canon[c];
            return k->syn[lo].ncanon;
        }
    return 0;
}

/* 1 when word w is a command word of e, or when e has another member of one of w's groups
 * (gs, ng) as a command word. */
static int command_has(const kb *k, const kb_entry *e, const char *w, const uint32_t *gs,
                       size_t ng, int *other)
{
    *other = 0;
    for (size_t c = 0; c < e->ncmdwords; c++) {
        uint32_t g2[KB_SYN_CANON];
        if (strcmp(e->cmdwords[c], w) == 0)
            return 1;
        size_t n2 = groups_of(k, e->cmdwords[c], g2);
        for (size_t i = 0; i < ng; i++)
            for (size_t j = 0; j < n2; j++)
                *other |= gs[i] == g2[j];
    }
    return 0;
}

/* A bonus for the request's words written as such in the entry's command when another of
 * the candidates writes a synonym instead: "state list" and "state show" share their
 * synonyms, not their commands. Words no command writes ("lister") favour no one. */
static double literal_bonus(const kb *k, const textnorm_text *t, const struct cand *c,
                            size_t n, size_t me)
{
    double b = 0;
    const kb_entry *e = &k->e[c[me].e];
    for (size_t w = 0; w < t->nword; w++) {
        const textnorm_word *wd = &t->word[w];
        uint32_t gs[KB_SYN_CANON];
        int other = 0, contrast = 0;
        if (wd->stop || wd->number || t->tok[wd->token].quoted ||
            kb_is_domain_word(wd->fold) || strlen(wd->fold) < 2)
            continue;
        size_t ng = groups_of(k, wd->fold, gs);
        if (ng == 0 || !command_has(k, e, wd->fold, gs, ng, &other))
            continue;
        for (size_t i = 0; i < n && !contrast; i++)
            if (i != me && !command_has(k, &k->e[c[i].e], wd->fold, gs, ng, &other))
                contrast = other;
        if (contrast)
            b += LITERAL_W;
    }
    return b;
}

/* Extracts the parameters of the first candidates (the request first, then the earlier
 * ones) into x (RERANK_MAX * PARTS), counts the words they consumed as covered, and ranks
 * them again. */
static void rerank(const kb *k, const struct query *q, struct cand *c, size_t n,
                   struct kb_extract *x)
{
    size_t top = n < RERANK_MAX ? n : RERANK_MAX;
    for (size_t i = 0; i < top; i++) {
        const kb_entry *e = &k->e[c[i].e];
        c[i].raw += phrase_bonus(k, q, e);
        c[i].x = x + i * PARTS;
        kb_extract_init(e, &c[i].x[0]);
        kb_extract_params(k, e, q->t[0], &c[i].x[0], 0);
        for (size_t p = 1; p < PARTS; p++) {
            c[i].x[p] = c[i].x[p - 1];
            if (q->t[p] != NULL)
                kb_extract_params(k, e, q->t[p], &c[i].x[p], 0);
        }
        for (size_t s = 0; s < q->n; s++) {
            const struct qslot *qs = &q->q[s];
            if (!c[i].x[qs->part].used[qs->s.token] || (c[i].matched & (1ull << s)))
                continue;
            c[i].matched |= 1ull << s;
            c[i].raw += EXPLAINED_W * qs->w * (qs->idf < EXPLAINED_IDF ? qs->idf : EXPLAINED_IDF);
        }
        c[i].score = c[i].raw * domain_factor(k, q, e, c[i].x);
        c[i].cov = coverage(q, c[i].matched);
        c[i].got = coverage_mass(q, c[i].matched);
        c[i].rank = c[i].score * (COV_BASE + (1 - COV_BASE) * c[i].cov);
    }
    double lit[RERANK_MAX];
    for (size_t i = 0; i < top; i++)
        lit[i] = literal_bonus(k, q->t[0], c, top, i);
    for (size_t i = 0; i < top; i++) {
        c[i].raw += lit[i];
        c[i].score = c[i].raw * domain_factor(k, q, &k->e[c[i].e], c[i].x);
        c[i].rank = c[i].score * (COV_BASE + (1 - COV_BASE) * c[i].cov);
    }
    /* the first ones, which have their parameters, stay first: the others, ranked without
     * those corrections, are capped at the last of them (the order stays non-increasing) */
    qsort(c, top, sizeof(*c), cmp_cand);
    for (size_t i = top; i < n; i++)
        if (c[i].rank > c[top - 1].rank)
            c[i].rank = c[top - 1].rank;
}

static double confidence(const struct cand *c)
{
    double conf = c->cov * c->score / (c->score + CONF_HALF);
    return conf < 0 ? 0 : conf > 1 ? 1 : conf;
}

/* The best entry fits when it scores enough and covers most of the request, or, for long
 * chatty requests, covers a good part of it with several strong words. */
static int fits(const struct cand *c)
{
    return c->score >= FIT_SCORE &&
           (c->cov >= FIT_COVERAGE || (c->cov >= FIT_COVERAGE_LONG && c->got >= FIT_MASS));
}

/* ---- search ------------------------------------------------------------------------ */

struct search {
    textnorm_text t[PARTS];
    struct query q;
    struct cand *c;
    size_t n;
    struct kb_extract x[RERANK_MAX * PARTS];
};

/* Ranks the entries for request, with the earlier requests (NULL when absent). */
static void search_run(const kb *k, struct search *s, const char *request, const char *last,
                       const char *before)
{
    static const float weights[PARTS] = {1.0f, W_CONTEXT, W_BEFORE};
    const char *texts[PARTS] = {request, last, last != NULL ? before : NULL};
    memset(&s->q, 0, sizeof s->q);
    for (uint8_t p = 0; p < PARTS; p++)
        if (texts[p] != NULL) {
            textnorm_analyze(texts[p], &s->t[p]);
            query_add(k, &s->q, &s->t[p], weights[p], p);
        }
    s->c = rank_all(k, &s->q, &s->n);
    rerank(k, &s->q, s->c, s->n, s->x);
}

static void search_free(struct search *s)
{
    if (s != NULL)
        free(s->c);
    free(s);
}

/* Search, see retrieve.h. */
int kb_search(const kb *k, const char *request, kb_hit *hits, size_t max)
{
    if (k == NULL || request == NULL || (hits == NULL && max > 0))
        return -EINVAL;
    struct search *s = xmalloc(sizeof(*s));
    search_run(k, s, request, NULL, NULL);
    size_t n = s->n < max ? s->n : max;
    for (size_t i = 0; i < n; i++) {
        hits[i].entry = &k->e[s->c[i].e];
        hits[i].score = s->c[i].rank;
        hits[i].confidence = confidence(&s->c[i]);
    }
    search_free(s);
    return (int)n;
}

/* ---- answers ----------------------------------------------------------------------- */

/* A bounded writer into one of the answer's arrays: what does not fit is cut at a
 * character boundary. */
struct out {
    char *p;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap) {
        n = o->cap - 1 - o->len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_out(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Copies tmpl with every {param} of e replaced by its value in x. */
static void put_filled(struct out *o, const char *tmpl, const kb_entry *e,
                       const struct kb_extract *x)
{
    const char *p = tmpl;
    while (*p != '\0') {
        const char *open = strchr(p, '{');
        if (open == NULL) {
            puts_out(o, p);
            return;
        }
        put(o, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        size_t i = e->nparams;
        if (close != NULL)
            for (i = 0; i < e->nparams; i++)
                if (strlen(e->params[i].name) == (size_t)(close - open - 1) &&
                    memcmp(e->params[i].name, open + 1, (size_t)(close - open - 1)) == 0)
                    break;
        if (i < e->nparams) {
            puts_out(o, x->value[i]);
            p = close + 1;
        } else {
            put(o, "{", 1);
            p = open + 1;
        }
    }
}

/* What a placeholder stands for, in a sentence: "your bucket name", "votre région". */
static void describe_param(struct out *o, const struct kb_param *p, int fr)
{
    char nm[KB_PARAM_NAME_MAX + 1];
    str_copy(nm, sizeof nm, p->name);
    for (char *c = nm; *c != '\0'; c++)
        if (*c == '_')
            *c = ' ';
    int generic = strcmp(p->name, "name") == 0 || strcmp(p->name, "value") == 0 ||
                  strcmp(p->name, "count") == 0 || strcmp(p->name, "n") == 0;
    char buf[160];
    switch (p->type) {
    case KB_P_NAME:
        if (generic)
            snprintf(buf, sizeof buf, "%s", fr ? "le vrai nom" : "the real name");
        else
            snprintf(buf, sizeof buf, fr ? "le nom de votre %s" : "your %s name", nm);
        break;
    case KB_P_COUNT:
        if (generic)
            snprintf(buf, sizeof buf, "%s", fr ? "le nombre voulu" : "the number you need");
        else
            snprintf(buf, sizeof buf, fr ? "le nombre de %s voulu" : "the number of %s you need",
                     nm);
        break;
    case KB_P_SIZE:
        snprintf(buf, sizeof buf, "%s", fr ? "la taille voulue (en Go)" : "the size you need (GB)");
        break;
    case KB_P_DURATION:
        snprintf(buf, sizeof buf, "%s", fr ? "la durée voulue" : "the duration you need");
        break;
    case KB_P_INSTANCE_TYPE:
        snprintf(buf, sizeof buf, "%s",
                 fr ? "le type d'instance voulu" : "the instance type you need");
        break;
    case KB_P_VERSION:
        snprintf(buf, sizeof buf, "%s", fr ? "la version voulue" : "the version you need");
        break;
    case KB_P_REGION:
        snprintf(buf, sizeof buf, "%s", fr ? "votre région" : "your region");
        break;
    case KB_P_CIDR:
        snprintf(buf, sizeof buf, "%s", fr ? "votre plage CIDR" : "your CIDR range");
        break;
    case KB_P_IP:
        snprintf(buf, sizeof buf, "%s", fr ? "votre adresse IP" : "your IP address");
        break;
    case KB_P_EMAIL:
        snprintf(buf, sizeof buf, "%s", fr ? "votre adresse e-mail" : "your email address");
        break;
    case KB_P_USER:
        snprintf(buf, sizeof buf, "%s", fr ? "votre nom d'utilisateur" : "your user name");
        break;
    default:
        snprintf(buf, sizeof buf, fr ? "votre %s" : "your %s", nm);
        break;
    }
    puts_out(o, buf);
}

/* "Replace `my-bucket` with your bucket name and `eu-west-3` with your region." */
static void put_replace(struct out *o, const kb_entry *e, const struct kb_extract *x, int fr)
{
    size_t n = 0, total = 0;
    for (size_t i = 0; i < e->nparams; i++)
        total += !x->from_request[i];
    if (total == 0)
        return;
    puts_out(o, fr ? "\n\nRemplacez " : "\n\nReplace ");
    for (size_t i = 0; i < e->nparams; i++) {
        if (x->from_request[i])
            continue;
        if (n > 0)
            puts_out(o, n + 1 == total ? (fr ? " et " : " and ") : ", ");
        puts_out(o, "`");
        puts_out(o, x->value[i]);
        puts_out(o, fr ? "` par " : "` with ");
        describe_param(o, &e->params[i], fr);
        n++;
    }
    puts_out(o, ".");
}

static void answer_fill(const kb *k, const struct cand *c, const struct kb_extract *x,
                        struct kb_answer *out)
{
    const kb_entry *e = &k->e[c->e];
    int fr = strcmp(out->lang, "fr") == 0;
    struct out a = {out->action, sizeof out->action, 0}, t = {out->explanation,
                                                               sizeof out->explanation, 0};
    out->entry = e;
    out->confidence = confidence(c);
    put_filled(&a, e->command, e, x);
    put_filled(&t, e->expl[fr], e, x);
    puts_out(&t, fr ? "\n\n**Bonne pratique :** " : "\n\n**Best practice:** ");
    put_filled(&t, e->prac[fr], e, x);
    put_replace(&t, e, x, fr);
    out->nparams = e->nparams;
    for (size_t i = 0; i < e->nparams; i++) {
        str_copy(out->params[i].name, sizeof out->params[i].name, e->params[i].name);
        str_copy(out->params[i].value, sizeof out->params[i].value, x->value[i]);
        out->params[i].from_request = x->from_request[i];
    }
}

static void answer_none(const kb *k, const struct search *s, struct kb_answer *out)
{
    int fr = strcmp(out->lang, "fr") == 0;
    struct out t = {out->explanation, sizeof out->explanation, 0};
    size_t named = 0;
    puts_out(&t, fr ? "Je ne connais pas de commande pour cette demande : aucune entrée de ma "
                      "base de connaissances ne correspond."
                    : "I don't know a command for this request: nothing in my knowledge base "
                      "matches it.");
    for (size_t i = 0; i < s->n && named < KB_TOPICS_MAX; i++) {
        const struct cand *c = &s->c[i];
        if (c->score < TOPIC_SCORE || c->cov < TOPIC_COVERAGE)
            continue;
        const kb_entry *e = &k->e[c->e];
        puts_out(&t, named == 0 ? (fr ? " Sujets les plus proches : " : " Closest topics: ")
                                : ", ");
        puts_out(&t, "\"");
        puts_out(&t, e->phr[fr][0]);
        puts_out(&t, "\" (");
        puts_out(&t, e->domain);
        puts_out(&t, ")");
        named++;
    }
    if (named > 0)
        puts_out(&t, ".");
    puts_out(&t, fr ? " Reformulez en nommant l'outil et l'objet (par exemple : « lister les "
                      "pods du namespace dev »)."
                    : " Try naming the tool and the object (for example: \"list the pods in "
                      "namespace dev\").");
}

/* 1 when the request starts like a follow-up: "and ...", "et ...", "now ...", "same ...". */
static int followup_marker(const textnorm_text *t)
{
    static const char *const marks[] = {"also", "and", "aussi", "ensuite", "et", "how",
                                        "instead", "maintenant", "now", "pareil", "plutot",
                                        "puis", "same", "then", "what"};
    if (t->ntok == 0)
        return 0;
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        if (strcmp(t->tok[0].fold, marks[i]) == 0)
            return t->ntok < 2 || strcmp(marks[i], "how") != 0 ||
                   strcmp(t->tok[1].fold, "about") == 0; /* how about, not how do I */
    return 0;
}

/* The request's slots that are words of its own, not values (my-app, 15m weigh less). */
static size_t content_slots(const struct query *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        n += q->q[i].part == 0 && q->q[i].w >= 1.0f;
    return n;
}

static int resolve(const kb *k, const char *request, const char *const *context,
                   size_t ncontext, int depth);

/* The earlier requests a follow-up is read with: the last one, and the one before it when
 * the last is a short follow-up itself ("and with 10 replicas?" after "scale deployment web
 * to 5 replicas"). Empty and NULL entries are skipped. Returns the index of the last one in
 * context (SIZE_MAX when none), and that of the one before in *before (SIZE_MAX too). */
static size_t earlier_requests(const char *const *context, size_t ncontext, size_t *before)
{
    size_t lo = ncontext > KB_CONTEXT_MAX ? ncontext - KB_CONTEXT_MAX : 0, last = SIZE_MAX;
    *before = SIZE_MAX;
    for (size_t i = ncontext; context != NULL && i > lo && *before == SIZE_MAX; i--) {
        const char *c = context[i - 1];
        if (c == NULL || c[0] == '\0')
            continue;
        if (last == SIZE_MAX)
            last = i - 1;
        else
            *before = i - 1;
    }
    size_t words = 0;
    for (const char *p = last != SIZE_MAX ? context[last] : ""; *p != '\0'; p++)
        words += (p == context[last] || p[-1] == ' ') &&
                 ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  (unsigned char)*p >= 0x80);
    if (words > FOLLOWUP_WORDS)
        *before = SIZE_MAX;
    return last;
}

/* The candidate for entry e among the first ones of s (which have their parameters), or
 * NULL. */
static const struct cand *find_cand(const struct search *s, int e)
{
    for (size_t i = 0; e >= 0 && i < s->n && i < RERANK_MAX; i++)
        if ((int)s->c[i].e == e)
            return &s->c[i];
    return NULL;
}

/* The decision of kb_answer for request in its conversation (context[0 .. ncontext)): the
 * chosen candidate, in a (the request alone, always run) or *bp (the request with the
 * earlier requests, run when there are some; the caller frees both), or NULL when nothing
 * fits. *prev is the entry the previous turn was answered with (-1: none), found the same
 * way, RESOLVE_DEPTH turns back at most: the conversation's topic.
 *
 * The request alone wins unless the conversation explains it better: when its own answer is
 * the previous topic, that entry is kept with the conversation's values; a short request or
 * one that starts like a follow-up ("and ...", "now ...") continues the previous topic when
 * that covers it, or takes the conversation's best entry when that is clearly better than
 * its own answer; a request that fits nothing alone takes the conversation's best entry. */
static const struct cand *decide(const kb *k, struct search *a, struct search **bp,
                                 const char *request, const char *const *context,
                                 size_t ncontext, int depth, int *prev)
{
    const struct cand *best = a->n > 0 && fits(&a->c[0]) ? &a->c[0] : NULL;
    size_t before, last = depth < RESOLVE_DEPTH ? earlier_requests(context, ncontext, &before)
                                                : SIZE_MAX;
    *prev = -1;
    *bp = NULL;
    if (last == SIZE_MAX)
        return best;
    *prev = resolve(k, context[last], context, last, depth + 1);
    struct search *b = xmalloc(sizeof(*b));
    *bp = b;
    search_run(k, b, request, context[last], before != SIZE_MAX ? context[before] : NULL);
    if (b->n == 0)
        return best;
    const struct cand *cb = &b->c[0], *cprev = find_cand(b, *prev);
    const struct cand *cown = best != NULL ? find_cand(b, (int)best->e) : NULL;
    int follow = followup_marker(&a->t[0]) || content_slots(&a->q) <= 2;
    if (best != NULL && (int)best->e == *prev)
        return cprev != NULL ? cprev : best;
    if (cprev != NULL && fits(cprev) && coverage_request(&b->q, cprev->matched) >= 0.5 &&
        cprev->rank >= 0.8 * cb->rank &&
        (best == NULL || (follow && coverage_request(&b->q, cprev->matched) >= best->cov - 0.05)))
        return cprev;
    if (fits(cb) && coverage_request(&b->q, cb->matched) >= 0.5 &&
        (best == NULL || (follow && (cown == NULL || cown->rank < 0.85 * cb->rank) &&
                          coverage_request(&b->q, cb->matched) >= best->cov - 0.05)))
        return cb;
    return cown != NULL ? cown : best; /* the same answer, with what the conversation says */
}

/* The entry request is answered with in its conversation, or -1. */
static int resolve(const kb *k, const char *request, const char *const *context,
                   size_t ncontext, int depth)
{
    struct search *a = xmalloc(sizeof(*a)), *b;
    int prev;
    search_run(k, a, request, NULL, NULL);
    const struct cand *c = decide(k, a, &b, request, context, ncontext, depth, &prev);
    int e = c != NULL ? (int)c->e : -1;
    search_free(a);
    search_free(b);
    return e;
}

/* Answer, see retrieve.h. */
int kb_answer(const kb *k, const char *request, const char *const *context, size_t ncontext,
              const char *lang, struct kb_answer *out)
{
    if (k == NULL || request == NULL || out == NULL)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    struct search *a = xmalloc(sizeof(*a)), *b;
    int prev, rc = 0;
    search_run(k, a, request, NULL, NULL);
    if (lang == NULL || (strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0))
        lang = lang_of(&a->t[0]);
    str_copy(out->lang, sizeof out->lang, lang);
    const struct cand *best = decide(k, a, &b, request, context, ncontext, 0, &prev);
    if (best != NULL) {
        /* values of the earlier requests: all of them on the same topic, else only those
         * the entry's own cues point at (not "named x-logs" for the pods' namespace) */
        struct kb_extract *x = xmalloc(sizeof(*x));
        const struct search *s = b != NULL && best >= b->c && best < b->c + b->n ? b : a;
        *x = best->x[PARTS - 1];
        if ((int)best->e != prev && s == b) {
            *x = best->x[0];
            for (size_t p = 1; p < PARTS; p++)
                if (s->q.t[p] != NULL)
                    kb_extract_params(k, &k->e[best->e], s->q.t[p], x, 1);
        }
        answer_fill(k, best, x, out);
        free(x);
    } else {
        answer_none(k, a, out);
        rc = -ENOENT;
    }
    search_free(a);
    search_free(b);
    return rc;
}
