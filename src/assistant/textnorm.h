/* Text normalization for the offline assistant: the same pipeline turns the knowledge base's
 * phrasings and a user's request into comparable terms, so "Créer les buckets" and
 * "create a bucket" meet. It is pure (no allocation, no global mutable state) and works on
 * bounded copies of its input:
 *   - folding: UTF-8 to lowercase ASCII, accents removed (Latin-1 Supplement and Latin
 *     Extended-A: é -> e, ç -> c, œ -> oe, ß -> ss), combining marks dropped, every other
 *     non-ASCII code point and every invalid byte becomes a space;
 *   - tokens: the request split on white space and shell punctuation, keeping values such as
 *     eu-west-3, t3.micro, nginx:1.25 or "quoted text" whole for the parameter extractor;
 *     French elision (l', d', qu', j', ...) drops the article;
 *   - words: each unquoted token split on non-alphanumerics, marked when a stopword (French
 *     and English, question words and politeness included) and stemmed (light French and
 *     English suffix removal: créer/crée/créé/création, deploy/deploying/deployed). */
#ifndef CLOUDYA_TEXTNORM_H
#define CLOUDYA_TEXTNORM_H
#include <stddef.h>
#include <stdint.h>

#define TEXTNORM_INPUT_MAX 4096 /* bytes of a text that are looked at; the rest is ignored */
#define TEXTNORM_TOKEN_MAX 128  /* bytes of one token; longer ones are cut (and never values) */
#define TEXTNORM_WORD_MAX 40    /* bytes of one word; longer ones are cut */
#define TEXTNORM_TOKENS_MAX 96  /* tokens kept per text */
#define TEXTNORM_WORDS_MAX 160  /* words kept per text */

typedef struct textnorm_token {
    char raw[TEXTNORM_TOKEN_MAX + 1];  /* the bytes as written, quotes removed */
    char fold[TEXTNORM_TOKEN_MAX + 1]; /* folded (lowercase ASCII) */
    uint8_t quoted;                    /* 1: written between quotes */
    uint8_t cut;                       /* 1: longer than TEXTNORM_TOKEN_MAX, truncated */
    uint8_t shell;                     /* 1: touching a shell metacharacter ($(x), a;b) */
} textnorm_token;

typedef struct textnorm_word {
    char fold[TEXTNORM_WORD_MAX + 1]; /* folded word */
    char stem[TEXTNORM_WORD_MAX + 1]; /* its stem */
    uint16_t token;                   /* index of the token it comes from */
    uint8_t stop;                     /* 1: a stopword (or part of a stop phrase) */
    uint8_t number;                   /* 1: digits only */
} textnorm_word;

typedef struct textnorm_text {
    textnorm_token tok[TEXTNORM_TOKENS_MAX];
    size_t ntok;
    textnorm_word word[TEXTNORM_WORDS_MAX];
    size_t nword;
    int accents; /* number of accented Latin letters seen (a hint for language detection) */
} textnorm_text;

/* Folds len bytes of UTF-8 into out (cap bytes, always NUL-terminated when cap > 0) as
 * described above. Returns the length written, which is at most len: no folding expands
 * a character beyond the bytes it was written with. */
size_t textnorm_fold(const char *in, size_t len, char *out, size_t cap);

/* Stems one folded word in place (ASCII lowercase; words holding digits are left alone). */
void textnorm_stem(char *w);

/* 1 when the folded word is a stopword of either language, else 0. */
int textnorm_is_stopword(const char *w);

/* Language hint of one folded word: +1 typically French, -1 typically English, 0 neither. */
int textnorm_lang_hint(const char *w);

/* Analyzes text (NUL-terminated UTF-8; the first TEXTNORM_INPUT_MAX bytes) into t: tokens,
 * then words with their stems and stop marks. Never fails: what exceeds a limit is
 * dropped. */
void textnorm_analyze(const char *text, textnorm_text *t);

/* 0 when the internal word tables are sorted and unique (they are searched by bisection),
 * else -EINVAL. For the unit tests. */
int textnorm_tables_check(void);

#endif
