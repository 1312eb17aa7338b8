/* Unit tests for src/assistant/textnorm.c: folding (accents of Latin-1 and Latin
 * Extended-A, ligatures, decomposed accents, other scripts, invalid UTF-8), stems (the
 * French and English families that must meet), stopwords and stop pairs, elision, tokens
 * (values kept whole, quotes, shell metacharacters, trailing punctuation), the limits, and
 * the language hints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textnorm.h"

static textnorm_text *T;

static int setup(void **state)
{
    (void)state;
    T = malloc(sizeof(*T));
    return T == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    free(T);
    return 0;
}

static const char *fold(const char *s)
{
    static char out[256];
    textnorm_fold(s, strlen(s), out, sizeof out);
    return out;
}

static const char *stem(const char *s)
{
    static char out[TEXTNORM_WORD_MAX + 1];
    snprintf(out, sizeof out, "%s", s);
    textnorm_stem(out);
    return out;
}

/* The non-stop stems of s, space-separated. */
static const char *terms(const char *s)
{
    static char out[1024];
    size_t o = 0;
    textnorm_analyze(s, T);
    out[0] = '\0';
    for (size_t i = 0; i < T->nword; i++)
        if (!T->word[i].stop)
            o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", o ? " " : "",
                                  T->word[i].stem);
    return out;
}

/* The raw tokens of s, separated by '|' (quoted ones between <>). */
static const char *tokens(const char *s)
{
    static char out[1024];
    size_t o = 0;
    textnorm_analyze(s, T);
    out[0] = '\0';
    for (size_t i = 0; i < T->ntok; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s%s%s", i ? "|" : "",
                              T->tok[i].quoted ? "<" : "", T->tok[i].raw,
                              T->tok[i].quoted ? ">" : "");
    return out;
}

static void test_tables_sorted(void **state)
{
    (void)state;
    assert_int_equal(textnorm_tables_check(), 0);
}

static void test_fold_accents(void **state)
{
    (void)state;
    assert_string_equal(fold("Créer un Déploiement à Paris"), "creer un deploiement a paris");
    assert_string_equal(fold("ÀÂÄÇÈÉÊËÎÏÔÖÙÛÜŸ"), "aaaceeeeiioouuuy");
    assert_string_equal(fold("garçon œuvre Œil straße Æon"), "garcon oeuvre oeil strasse aeon");
    assert_string_equal(fold("Łódź Šiška Ĳssel ſ"), "lodz siska ijssel s"); /* Extended-A */
    assert_string_equal(fold("e\xcc\x81te\xcc\x81"), "ete"); /* decomposed: e + U+0301 */
    assert_string_equal(fold("l\xe2\x80\x99instance"), "l'instance"); /* ’ */
    assert_string_equal(fold("k8s 日本 ok"), "k8s    ok");   /* other scripts: spaces */
    assert_string_equal(fold("a\xff" "b\xc3" "c"), "a b c");   /* invalid bytes */
    assert_string_equal(fold("\xc0\xaf" "x"), "  x");          /* overlong: two bytes */
    assert_string_equal(fold("tab\there"), "tab here");         /* control characters */
}

static void test_fold_never_grows(void **state)
{
    (void)state;
    char out[8];
    /* "ßßßß" is 8 bytes and folds to "ssssssss": the cap (8) cuts it, NUL-terminated */
    size_t n = textnorm_fold("\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f", 8, out, sizeof out);
    assert_int_equal(n, 6);
    assert_string_equal(out, "ssssss");
    assert_int_equal(textnorm_fold("abc", 3, out, 0), 0);
}

static void test_stem_families(void **state)
{
    (void)state;
    const char *cre[] = {"creer", "cree", "creee", "crees", "creation", "creez", "create",
                         "created", "creating"};
    for (size_t i = 0; i < sizeof cre / sizeof *cre; i++)
        assert_string_equal(stem(cre[i]), "cre");
    const char *dep[] = {"deploy", "deploying", "deployment", "deployments", "deployer",
                         "deploiement", "deployed", "deploie"};
    for (size_t i = 0; i < sizeof dep / sizeof *dep; i++)
        assert_string_equal(stem(dep[i]), "deploy");
    assert_string_equal(stem("supprimer"), stem("supprimez"));
    assert_string_equal(stem("supprime"), stem("supprimer"));
    assert_string_equal(stem("redemarrer"), stem("redemarrage"));
    assert_string_equal(stem("starting"), "start");
    assert_string_equal(stem("setting"), "set");
    assert_string_equal(stem("running"), "running"); /* a state: "is nginx running" */
    assert_string_equal(stem("logs"), stem("logging"));
    assert_string_equal(stem("pods"), "pod");
    assert_string_equal(stem("reseaux"), "reseau");
    assert_string_equal(stem("policies"), "policy");
    assert_string_equal(stem("copied"), "copy");
    assert_string_equal(stem("configuration"), stem("configurer"));
    assert_string_equal(stem("installation"), stem("install"));
    assert_string_equal(stem("serveur"), stem("server"));
    /* left alone: short words, words with digits, -ss/-us/-is endings */
    assert_string_equal(stem("aws"), "aws");
    assert_string_equal(stem("k8s"), "k8s");
    assert_string_equal(stem("ec2"), "ec2");
    assert_string_equal(stem("status"), "status");
    assert_string_equal(stem("redis"), "redis");
    assert_string_equal(stem("ping"), "ping");
}

static void test_stopwords(void **state)
{
    (void)state;
    assert_true(textnorm_is_stopword("the"));
    assert_true(textnorm_is_stopword("please"));
    assert_true(textnorm_is_stopword("comment"));
    assert_true(textnorm_is_stopword("svp"));
    assert_true(textnorm_is_stopword("stp"));
    assert_true(textnorm_is_stopword("veux"));
    assert_true(textnorm_is_stopword("x")); /* single letters */
    assert_false(textnorm_is_stopword("up"));
    assert_false(textnorm_is_stopword("get"));
    assert_false(textnorm_is_stopword("new"));
    assert_false(textnorm_is_stopword("pas")); /* negation carries meaning: not running */
    assert_string_equal(terms("How do I list the pods please?"), "list pod");
    assert_string_equal(terms("Je veux lister les pods, s'il vous plaît"), "list pod");
    assert_string_equal(terms("comment faire pour créer un bucket ?"), "cre bucket");
    assert_string_equal(terms("faire un backup"), "fair backup"); /* faire alone counts */
    assert_string_equal(terms("bonjour"), "");
}

static void test_elision(void **state)
{
    (void)state;
    assert_string_equal(terms("l'instance d'un cluster qu'on j'ai"), "instanc clust");
    assert_string_equal(tokens("l\xe2\x80\x99image de l'app"), "image|de|app");
    assert_string_equal(tokens("qu'est-ce que c'est"), "est-ce|que|est");
    assert_string_equal(tokens("don't stop"), "don|t|stop"); /* not an elision */
}

static void test_tokens_values(void **state)
{
    (void)state;
    assert_string_equal(tokens("deploy nginx:1.25 to eu-west-3 on t3.micro."),
                        "deploy|nginx:1.25|to|eu-west-3|on|t3.micro");
    assert_string_equal(tokens("push ghcr.io/org/app:v2, then ~/x and ./app"),
                        "push|ghcr.io/org/app:v2|then|~/x|and|./app");
    assert_string_equal(tokens("--replicas=5 user@host 10.0.0.0/16"),
                        "--replicas=5|user@host|10.0.0.0/16");
    assert_string_equal(terms("--replicas=5"), "replica 5");
    /* short options are one word, case kept: "docker ps -a" is not "docker ps" */
    assert_string_equal(terms("docker ps -a"), "dock ps -a");
    assert_string_equal(terms("kubectl get pods -A -o wide"), "kubectl get pod -A -o wid");
    textnorm_analyze("eu-west-3", T);
    assert_int_equal(T->nword, 3);
    assert_int_equal(T->word[2].number, 1);
    assert_int_equal(T->word[0].token, 0);
}

static void test_tokens_quotes(void **state)
{
    (void)state;
    assert_string_equal(tokens("create bucket named \"my data\" now"),
                        "create|bucket|named|<my data>|now");
    assert_string_equal(tokens("name 'x; rm -rf /' done"), "name|<x; rm -rf />|done");
    assert_string_equal(tokens("nommé « prod »"), "nommé|< prod >");
    assert_string_equal(tokens("it's 'quoted text' here"), "it|s|<quoted text>|here");
    assert_string_equal(tokens("unclosed \"quote here"), "unclosed|quote|here");
    /* quoted tokens give no words: they are values */
    assert_string_equal(terms("bucket \"pods\""), "bucket");
}

static void test_tokens_shell(void **state)
{
    (void)state;
    textnorm_analyze("scale $(reboot) web;rm -rf /tmp `id` safe", T);
    assert_string_equal(tokens("scale $(reboot) web;rm -rf /tmp `id` safe"),
                        "scale|reboot|web|rm|-rf|/tmp|id|safe");
    int want[] = {0, 1, 1, 1, 0, 0, 1, 0};
    for (size_t i = 0; i < T->ntok; i++)
        assert_int_equal(T->tok[i].shell, want[i]);
}

static void test_limits(void **state)
{
    (void)state;
    char *big = malloc(3 * TEXTNORM_INPUT_MAX);
    assert_non_null(big);
    memset(big, 'a', 3 * TEXTNORM_INPUT_MAX - 1);
    big[3 * TEXTNORM_INPUT_MAX - 1] = '\0';
    textnorm_analyze(big, T);
    assert_int_equal(T->ntok, 1);
    assert_int_equal(T->tok[0].cut, 1);
    assert_int_equal(strlen(T->tok[0].raw), TEXTNORM_TOKEN_MAX);
    assert_int_equal(strlen(T->word[0].fold), TEXTNORM_WORD_MAX);
    for (size_t i = 0; i + 2 < 3 * TEXTNORM_INPUT_MAX; i += 2)
        big[i] = ' ';
    textnorm_analyze(big, T);
    assert_int_equal(T->ntok, TEXTNORM_TOKENS_MAX);
    /* a cut in the middle of a character at the input limit */
    memset(big, 'a', TEXTNORM_INPUT_MAX - 1);
    memcpy(big + TEXTNORM_INPUT_MAX - 1, "\xc3\xa9\xc3\xa9", 5);
    textnorm_analyze(big, T);
    assert_int_equal(T->tok[0].cut, 1);
    free(big);
}

static void test_lang_hints(void **state)
{
    (void)state;
    assert_int_equal(textnorm_lang_hint("lister"), 1);
    assert_int_equal(textnorm_lang_hint("pour"), 1);
    assert_int_equal(textnorm_lang_hint("the"), -1);
    assert_int_equal(textnorm_lang_hint("pods"), 0);
    textnorm_analyze("créer un déploiement", T);
    assert_int_equal(T->accents, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_sorted),   cmocka_unit_test(test_fold_accents),
        cmocka_unit_test(test_fold_never_grows), cmocka_unit_test(test_stem_families),
        cmocka_unit_test(test_stopwords),       cmocka_unit_test(test_elision),
        cmocka_unit_test(test_tokens_values),   cmocka_unit_test(test_tokens_quotes),
        cmocka_unit_test(test_tokens_shell),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_lang_hints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
