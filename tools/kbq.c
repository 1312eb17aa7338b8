/* kbq: asks the offline assistant's knowledge base from the command line, for knowledge
 * authors. `kbq [-v] DIR` loads DIR (knowledge/) and reads requests from stdin, one per
 * line; for each it prints the three best entries with their scores and confidence, then
 * the answer: the filled command, the parameters (with * for those taken from the request)
 * and, with -v, the explanation. A line starting with "> " is a follow-up: the requests
 * before it (back to the last line without "> ") are its context. Exit status: 0, or 1
 * when the knowledge base does not load (the error names the file and the entry). */
#define _POSIX_C_SOURCE 200809L
#include "kb.h"
#include "retrieve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096 /* bytes of one request line */
#define HISTORY_MAX 10    /* context kept for follow-ups */

static void show(const kb *k, const char *req, const char *const *ctx, size_t nctx, int verbose)
{
    kb_hit hits[3];
    struct kb_answer *a = malloc(sizeof(*a));
    if (a == NULL)
        return;
    int n = kb_search(k, req, hits, 3);
    printf("? %s\n", req);
    for (int i = 0; i < n; i++)
        printf("  %d. %-40s score %6.2f  conf %.2f\n", i + 1, kb_entry_id(hits[i].entry),
               hits[i].score, hits[i].confidence);
    int rc = kb_answer(k, req, ctx, nctx, NULL, a);
    if (rc == 0) {
        printf("  => %s [%s, %s, conf %.2f]\n", kb_entry_id(a->entry), a->lang,
               kb_entry_risk(a->entry), a->confidence);
        printf("  $ %s\n", a->action);
        for (size_t i = 0; i < a->nparams; i++)
            printf("    %s%s = %s\n", a->params[i].from_request ? "*" : " ", a->params[i].name,
                   a->params[i].value);
    } else {
        printf("  => nothing fits [%s]\n", a->lang);
    }
    if (verbose || rc != 0)
        printf("  %s\n", a->explanation);
    printf("\n");
    free(a);
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    if (argc != 2 + verbose) {
        fprintf(stderr, "usage: kbq [-v] KNOWLEDGE_DIR < requests\n");
        return 2;
    }
    char err[512];
    kb *k = NULL;
    int rc = kb_load_dir(argv[1 + verbose], &k, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "kbq: %s\n", err);
        return 1;
    }
    fprintf(stderr, "kbq: %zu entries\n", kb_count(k));
    static char history[HISTORY_MAX][LINE_MAX_LEN];
    const char *ctx[HISTORY_MAX];
    size_t nhist = 0;
    char line[LINE_MAX_LEN];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        int follow = strncmp(line, "> ", 2) == 0;
        const char *req = follow ? line + 2 : line;
        if (!follow)
            nhist = 0;
        for (size_t i = 0; i < nhist; i++)
            ctx[i] = history[i];
        show(k, req, ctx, nhist, verbose);
        if (nhist == HISTORY_MAX) {
            memmove(history[0], history[1], sizeof history[0] * (HISTORY_MAX - 1));
            nhist--;
        }
        snprintf(history[nhist++], sizeof history[0], "%s", req);
    }
    kb_free(k);
    return 0;
}
