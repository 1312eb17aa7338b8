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
#define QSLOTS_MAX 64       /* slots of a query (request + one earlier request) */
#define RERANK_MAX 10       /* candidates whose parameters are extracted before the choice */
#define W_CONTEXT 0.5f      /* weight of the earlier request's terms in a follow-up */
#define BIGRAM_W 0.35       /* bonus per adjacent pair found adjacent in a phrasing */
#define DOMAIN_BOOST 1.5    /* entries of a domain the request names */
#define DOMAIN_OTHER 0.6    /* entries of other domains when the request names one */
#define VALUE_W 0.3         /* weight of a word of a value-like token (my-app, app.py) */
#define EXPLAINED_W 0.5     /* score for a word an entry takes as a parameter value... */
#define EXPLAINED_IDF 3.0   /* ...at most this idf */
#define PHRASE_W 1.0        /* bonus for the phrasing most like the request (weighted Dice) */
#define PHRASE_MAX 30       /* candidates that get it */
#define COV_BASE 0.3        /* ranking: score * (COV_BASE + (1 - COV_BASE) * coverage) */
#define FIT_COVERAGE 0.6    /* an entry fits when it covers this much of the request... */
#define FIT_SCORE 3.5       /* ...and scores at least this */
#define CONF_HALF 4.0       /* confidence: coverage * score / (score + CONF_HALF) */
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
    float w;      /* 1 for the request, W_CONTEXT for the earlier one */
    double idf;   /* the slot's weight in coverage */
    uint8_t part; /* 0 the request, 1 the earlier request */
};

struct query {
    const textnorm_text *t[2];
    struct qslot q[QSLOTS_MAX];
    size_t n;
    unsigned domains[2]; /* bit d-1: domain d named in part 0 / 1 */
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
        if (s[i].nwords == 1 && value_like(&t->tok[s[i].token]))
            x->w *= VALUE_W; /* but not docker-compose, pare-feu: synonyms of several words */
        x->part = part;
        x->idf = 0;
        for (size_t j = 0; j < s[i].nid; j++)
            if (k->idf[s[i].id[j]] > x->idf)
                x->idf = k->idf[s[i].id[j]];
        if (s[i].nid == 0)
            x->idf = k->idf_unknown;
        if (s[i].domain > 0 && s[i].domain <= 32)
            q->domains[part] |= 1u << (s[i].domain - 1);
    }
}

/* ---- ranking ----------------------------------------------------------------------- */

struct cand {
    uint32_t e;
    double dom; /* the domain factor */
    double score, cov, rank;
    uint64_t matched; /* bit i: slot i is covered */
    struct kb_extract x[2];
    int extracted;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? 1 : -1;
    return x->e < y->e ? -1 : x->e > y->e;
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
    unsigned dom = q->domains[0] ? q->domains[0] : q->domains[1];
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
        x->dom = 1;
        if (dom != 0)
            x->dom = k->e[e].domain_id > 0 && (dom & (1u << (k->e[e].domain_id - 1)))
                         ? DOMAIN_BOOST
                         : DOMAIN_OTHER;
        x->score = (acc[e] + bonus) * x->dom;
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

/* Extracts the parameters of the first candidates (request first, then the earlier one),
 * counts the words they consumed as covered, and ranks them again. */
static void rerank(const kb *k, const struct query *q, struct cand *c, size_t n)
{
    size_t top = n < PHRASE_MAX ? n : PHRASE_MAX;
    for (size_t i = 0; i < top; i++) {
        c[i].score += phrase_bonus(k, q, &k->e[c[i].e]) * c[i].dom;
        c[i].rank = c[i].score * (COV_BASE + (1 - COV_BASE) * c[i].cov);
    }
    qsort(c, top, sizeof(*c), cmp_cand);
    top = n < RERANK_MAX ? n : RERANK_MAX;
    for (size_t i = 0; i < top; i++) {
        const kb_entry *e = &k->e[c[i].e];
        kb_extract_init(e, &c[i].x[0]);
        kb_extract_params(k, e, q->t[0], &c[i].x[0]);
        c[i].x[1] = c[i].x[0];
        if (q->t[1] != NULL)
            kb_extract_params(k, e, q->t[1], &c[i].x[1]);
        c[i].extracted = 1;
        for (size_t s = 0; s < q->n; s++) {
            const struct qslot *qs = &q->q[s];
            if (!c[i].x[qs->part].used[qs->s.token] || (c[i].matched & (1ull << s)))
                continue;
            c[i].matched |= 1ull << s;
            c[i].score += EXPLAINED_W * qs->w * (qs->idf < EXPLAINED_IDF ? qs->idf : EXPLAINED_IDF);
        }
        c[i].cov = coverage(q, c[i].matched);
        c[i].rank = c[i].score * (COV_BASE + (1 - COV_BASE) * c[i].cov);
    }
    qsort(c, top, sizeof(*c), cmp_cand);
}

static double confidence(const struct cand *c)
{
    double conf = c->cov * c->score / (c->score + CONF_HALF);
    return conf < 0 ? 0 : conf > 1 ? 1 : conf;
}

static int fits(const struct cand *c)
{
    return c->cov >= FIT_COVERAGE && c->score >= FIT_SCORE;
}

/* ---- search ------------------------------------------------------------------------ */

struct search {
    textnorm_text t[2];
    struct query q;
    struct cand *c;
    size_t n;
};

static void search_run(const kb *k, struct search *s, const char *request, const char *earlier)
{
    memset(&s->q, 0, sizeof s->q);
    textnorm_analyze(request, &s->t[0]);
    query_add(k, &s->q, &s->t[0], 1.0f, 0);
    if (earlier != NULL) {
        textnorm_analyze(earlier, &s->t[1]);
        query_add(k, &s->q, &s->t[1], W_CONTEXT, 1);
    }
    s->c = rank_all(k, &s->q, &s->n);
    rerank(k, &s->q, s->c, s->n);
}

/* Search, see retrieve.h. */
int kb_search(const kb *k, const char *request, kb_hit *hits, size_t max)
{
    if (k == NULL || request == NULL || (hits == NULL && max > 0))
        return -EINVAL;
    struct search *s = xmalloc(sizeof(*s));
    search_run(k, s, request, NULL);
    size_t n = s->n < max ? s->n : max;
    for (size_t i = 0; i < n; i++) {
        hits[i].entry = &k->e[s->c[i].e];
        hits[i].score = s->c[i].rank;
        hits[i].confidence = confidence(&s->c[i]);
    }
    free(s->c);
    free(s);
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

static void answer_fill(const kb *k, const struct cand *c, struct kb_answer *out)
{
    const kb_entry *e = &k->e[c->e];
    const struct kb_extract *x = &c->x[1];
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

/* Answer, see retrieve.h. */
int kb_answer(const kb *k, const char *request, const char *const *context, size_t ncontext,
              const char *lang, struct kb_answer *out)
{
    if (k == NULL || request == NULL || out == NULL)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    struct search *a = xmalloc(sizeof(*a)), *b = NULL;
    search_run(k, a, request, NULL);
    if (lang == NULL || (strcmp(lang, "fr") != 0 && strcmp(lang, "en") != 0))
        lang = lang_of(&a->t[0]);
    str_copy(out->lang, sizeof out->lang, lang);
    const struct cand *best = a->n > 0 ? &a->c[0] : NULL;
    const char *earlier = NULL;
    size_t lo = ncontext > KB_CONTEXT_MAX ? ncontext - KB_CONTEXT_MAX : 0;
    for (size_t i = ncontext; context != NULL && i > lo && earlier == NULL; i--)
        if (context[i - 1] != NULL && context[i - 1][0] != '\0')
            earlier = context[i - 1];
    if (earlier != NULL) {
        b = xmalloc(sizeof(*b));
        search_run(k, b, request, earlier);
        if (b->n > 0) {
            const struct cand *cb = &b->c[0];
            double covb = coverage_request(&b->q, cb->matched);
            int a_fits = best != NULL && fits(best);
            if (fits(cb) && covb >= 0.5 &&
                (!a_fits || cb->e == best->e ||
                 (a->q.n <= 2 && covb >= best->cov - 0.05))) {
                best = cb;
            }
        }
    }
    int rc = 0;
    if (best != NULL && fits(best)) {
        answer_fill(k, best, out);
    } else {
        answer_none(k, a, out);
        rc = -ENOENT;
    }
    free(a->c);
    free(a);
    if (b != NULL) {
        free(b->c);
        free(b);
    }
    return rc;
}
