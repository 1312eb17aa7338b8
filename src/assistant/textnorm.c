/* Text normalization for the offline assistant: folding, tokens, stopwords, stems. See
 * textnorm.h for the contract; the comments here explain the choices. */
#define _POSIX_C_SOURCE 200809L
#include "textnorm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- word tables (sorted: searched by bisection; textnorm_tables_check verifies) ------- */

/* Stopwords of both languages, folded: articles, pronouns, auxiliaries, question words and
 * politeness. Words that carry meaning in DevOps requests (up, down, out, off, new, get,
 * show, all of the verbs) are deliberately absent. Single letters are stopwords by rule. */
static const char *const stopwords[] = {
    "a", "about", "above", "actually", "afin", "after", "again", "ai", "aide", "aider", "aidez",
    "aie", "aient", "aimerai", "aimerais", "aimerait", "ainsi", "almost", "alors", "already",
    "also", "always", "am", "an", "and", "any", "anybody", "anyone", "anything", "anyway", "are",
    "as", "at", "au", "aujourd", "aussi", "autre", "autres", "aux", "avec", "avez", "avoir",
    "avons", "ayant", "be", "been", "before", "being", "below", "besoin", "bien", "bonjour",
    "bonsoir", "both", "but", "by", "c", "ca", "can", "cannot", "car", "ce", "ceci", "cela",
    "celle", "celles", "celui", "certain", "ces", "cet", "cette", "ceux", "chez", "cmd",
    "command", "commande", "commandes", "commands", "comme", "comment", "coucou", "could",
    "currently", "d", "dans", "de", "deja", "des", "did", "dis", "dit", "dites", "do", "does",
    "doing", "dois", "doit", "don", "donc", "done", "donne", "donner", "donnez", "dont", "du",
    "either", "elle", "elles", "else", "en", "encore", "es", "est", "et", "etc", "etes", "etre",
    "eu", "even", "ever", "exactly", "faut", "for", "from", "further", "give", "had", "has",
    "have", "having", "hello", "help", "hey", "hi", "how", "however", "hui", "i", "id", "idem",
    "if", "il", "ils", "im", "in", "instead", "into", "is", "isn", "it", "its", "itself", "j",
    "jai", "je", "jusqu", "just", "juste", "kindly", "know", "l", "la", "le", "les", "let",
    "lets", "leur", "leurs", "like", "ll", "lui", "m", "ma", "madame", "maintenant", "mais",
    "maybe", "me", "meme", "merci", "mes", "mine", "moi", "moment", "mon", "monsieur", "moyen",
    "must", "my", "myself", "n", "ne", "need", "needed", "needs", "nos", "notre", "nous", "now",
    "of", "ok", "okay", "on", "once", "one", "ones", "only", "ont", "or", "other", "ou", "our",
    "ours", "ourselves", "own", "par", "parce", "pareil", "perhaps", "peu", "peut", "peuvent",
    "peux", "plait", "please", "pls", "plz", "possible", "pour", "pourquoi", "pourrais",
    "pourrait", "pourriez", "pouvez", "pouvoir", "properly", "puis", "puisqu", "qu", "quand",
    "que", "quel", "quelle", "quelles", "quels", "qui", "quickly", "quoi", "re", "really",
    "right", "s", "sa", "salut", "same", "se", "ses", "seulement", "should", "si", "sil",
    "simplement", "simply", "so", "soit", "some", "somebody", "somehow", "someone", "something",
    "son", "sont", "souhaite", "souhaiterais", "still", "stp", "such", "suis", "sur", "sure",
    "svp", "t", "ta", "te", "tell", "tes", "than", "thank", "thanks", "that", "thats", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
    "thx", "to", "toi", "ton", "too", "toute", "tres", "trying", "tu", "un", "une", "uniquement",
    "us", "use", "using", "utilisant", "utilise", "utiliser", "utilisez", "vais", "ve", "very",
    "veuillez", "veut", "veux", "via", "voici", "voila", "vos", "votre", "voudrais", "voudrait",
    "vouloir", "vous", "vraiment", "wanna", "want", "wanted", "wants", "was", "way", "we", "were",
    "what", "whats", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why",
    "will", "with", "would", "y", "yes", "you", "your", "yours", "yourself",
};

/* Words that are typical of French requests (folded). */
static const char *const french_words[] = {
    "activer", "affiche", "afficher", "ai", "ajoute", "ajouter", "annuler", "appliquer",
    "arreter", "au", "aucun", "augmenter", "aussi", "autoriser", "aux", "avec", "avoir", "besoin",
    "bloquer", "bonjour", "ca", "ces", "cette", "changer", "charger", "chiffrer", "comment",
    "configurer", "connecter", "consulter", "copier", "cree", "creer", "dans", "de", "demarrer",
    "deployer", "depuis", "des", "desactiver", "detruire", "disque", "donne", "dossier", "du",
    "effacer", "elle", "enlever", "entre", "est", "et", "executer", "faire", "fais", "fichier",
    "fichiers", "genere", "generer", "installer", "je", "journaux", "la", "lancer", "le", "les",
    "liste", "lister", "mes", "mettre", "modifier", "moi", "mon", "montre", "montrer", "mot",
    "nettoyer", "nombre", "nous", "nouveau", "nouvelle", "obtenir", "ou", "ouvrir", "par", "pas",
    "passe", "pour", "pourquoi", "quel", "quelle", "quelles", "quels", "qui", "quoi", "recuperer",
    "redemarrer", "reduire", "relancer", "renommer", "reseau", "restaurer", "sauvegarder", "ses",
    "sous", "stp", "supprime", "supprimer", "sur", "surveiller", "svp", "taille", "tous",
    "toutes", "trouver", "une", "utilisateur", "verifier", "veux", "voir", "vos", "votre",
    "voudrais", "vous",
};

/* Words that are typical of English requests. */
static const char *const english_words[] = {
    "add", "all", "and", "are", "build", "can", "check", "configure", "create", "delete",
    "deploy", "directory", "disable", "disk", "do", "does", "enable", "find", "folder", "for",
    "from", "get", "give", "how", "i", "in", "install", "into", "is", "list", "make",
    "my", "need", "network", "of", "open", "password", "please", "remove", "restart", "run",
    "see", "set", "show", "size", "start", "stop", "the", "this", "to", "update", "upgrade",
    "use", "view", "want", "what", "which", "with", "without", "you", "your",
};

/* French elided articles and pronouns written before an apostrophe ("l'instance"). */
static const char *const elisions[] = {"c", "d", "j", "jusqu", "l", "lorsqu", "m", "n",
                                       "puisqu", "qu", "quoiqu", "s", "t"};

/* Two-word phrases whose words are stopwords together though not alone: "faire" means
 * create in "faire un backup" but nothing in "comment faire pour lister". */
static const char *const stop_pairs[][2] = {
    {"comment", "faire"}, {"pour", "faire"}, {"que", "faire"}, {"quoi", "faire"},
    {"faut", "faire"},    {"how", "make"},   {"make", "sure"},
};

/* Two stopwords that name a command together: the second word becomes that term (its
 * fold and stem), the first stays a stopword. "who am i" asks for whoami; a request that
 * starts with "can i" (not "how can i") asks whether something is permitted. The fourth
 * field is "s" for pairs that only count at the start of the text. */
static const char *const term_pairs[][4] = {
    {"who", "am", "whoami", ""},
    {"qui", "suis", "whoami", ""},
    {"can", "i", "permission", "s"},
    {"je", "peux", "permission", "s"},
    {"puis", "je", "permission", "s"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int find_word(const char *const *table, size_t n, const char *w)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w, table[mid]);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static int table_sorted(const char *const *table, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(table[i - 1], table[i]) >= 0)
            return 0;
    return 1;
}

/* Verifies what find_word relies on. */
int textnorm_tables_check(void)
{
    if (!table_sorted(stopwords, NELEM(stopwords)) ||
        !table_sorted(french_words, NELEM(french_words)) ||
        !table_sorted(english_words, NELEM(english_words)) ||
        !table_sorted(elisions, NELEM(elisions)))
        return -EINVAL;
    return 0;
}

/* A single letter is a stopword (articles, elided pronouns, "i", the s of "let's"). */
int textnorm_is_stopword(const char *w)
{
    if (w[0] >= 'a' && w[0] <= 'z' && w[1] == '\0')
        return 1;
    return find_word(stopwords, NELEM(stopwords), w);
}

/* +1 French, -1 English, 0 neither (both tables are disjoint). */
int textnorm_lang_hint(const char *w)
{
    if (find_word(french_words, NELEM(french_words), w))
        return 1;
    if (find_word(english_words, NELEM(english_words), w))
        return -1;
    return 0;
}

/* ---- folding ----------------------------------------------------------------------- */

/* ASCII replacements of U+00C0..U+017F, in order ("" would drop; none do). Each has at most
 * two characters, and every one of these code points takes two bytes in UTF-8, so folding
 * never grows the text. Multiplication and division signs (U+00D7, U+00F7) become spaces. */
static const char *const latin[] = {
    /* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", " ", "o", "u", "u", "u", "u", "y", "th", "ss",
    /* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", " ", "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    /* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    /* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    /* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    /* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    /* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    /* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
};

/* Decodes one UTF-8 character of s (n bytes available). Returns its length (1..4) with *cp
 * set, or 1 with *cp = 0xFFFD for an invalid, overlong, surrogate or truncated sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return len;
}

/* The folded form of one code point: an ASCII string, "" for a combining mark, " " for
 * anything else that is not a letter we know. */
static const char *fold_cp(unsigned cp, char ascii[2])
{
    if (cp < 0x80) {
        ascii[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
        ascii[1] = '\0';
        if (cp < 0x20 || cp == 0x7F)
            ascii[0] = ' ';
        return ascii;
    }
    if (cp >= 0xC0 && cp <= 0x17F)
        return latin[cp - 0xC0];
    if (cp >= 0x300 && cp <= 0x36F) /* combining diacritical marks (decomposed accents) */
        return "";
    if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032)
        return "'";
    return " ";
}

/* Folding, see textnorm.h. */
size_t textnorm_fold(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    if (cap == 0)
        return 0;
    while (i < len) {
        unsigned cp;
        char ascii[2];
        size_t n = utf8_decode((const unsigned char *)in + i, len - i, &cp);
        const char *f = fold_cp(cp, ascii);
        size_t flen = strlen(f);
        if (o + flen >= cap)
            break;
        memcpy(out + o, f, flen);
        o += flen;
        i += n;
    }
    out[o] = '\0';
    return o;
}

/* ---- stemming ---------------------------------------------------------------------- */

static int is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static int ends_with(const char *w, size_t n, const char *suf)
{
    size_t s = strlen(suf);
    return n >= s && memcmp(w + n - s, suf, s) == 0;
}

/* One suffix is removed (the first that matches and leaves at least three letters), then a
 * final -e, then a final -at (so create, creation, créer and créée all give "cre"), then a
 * doubled final consonant (running -> run, redémarrer -> redemar). The rules favour
 * conflating the forms people type over linguistic precision: both the knowledge base and
 * the request go through them, so only consistency matters, and synonyms.yaml joins what
 * they cannot (deploy / déploiement, delete / supprimer). */
void textnorm_stem(char *w)
{
    static const struct {
        const char *suf, *rep;
        size_t s, r;
    } rules[] = {
        {"issement", "", 8, 0}, {"ement", "", 5, 0}, {"ment", "", 4, 0}, {"ation", "", 5, 0},
        {"sion", "s", 4, 1},    {"tion", "t", 4, 1}, {"ing", "", 3, 0},  {"euse", "", 4, 0},
        {"eur", "", 3, 0},      {"age", "", 3, 0},   {"ied", "y", 3, 1}, {"ee", "", 2, 0},
        {"ez", "", 2, 0},       {"er", "", 2, 0},    {"ed", "", 2, 0},   {"ie", "y", 2, 1},
    };
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return;
    if (n <= 3 || strcmp(w, "running") == 0) /* a state (is it running?), not the verb run */
        return;
    /* plurals: -s (not -ss, -us, -is: access, status, redis), -aux/-eux -> -au/-eu */
    if (w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i')
        w[--n] = '\0';
    else if (w[n - 1] == 'x' && n > 4 && w[n - 2] == 'u' && (w[n - 3] == 'a' || w[n - 3] == 'e'))
        w[--n] = '\0';
    if (n <= 3)
        return;
    for (size_t i = 0; i < NELEM(rules); i++) {
        size_t s = rules[i].s, r = rules[i].r;
        if (n >= s + 3 && memcmp(w + n - s, rules[i].suf, s) == 0) {
            memcpy(w + n - s, rules[i].rep, r + 1);
            n = n - s + r;
            break;
        }
    }
    if (n > 3 && w[n - 1] == 'e')
        w[--n] = '\0';
    if (n > 4 && ends_with(w, n, "at"))
        w[n -= 2] = '\0';
    if (n > 3 && ends_with(w, n, "oi"))
        w[n - 1] = 'y'; /* déploie, déploiement -> deploy */
    if (n > 3 && w[n - 1] == w[n - 2] && !is_vowel(w[n - 1]))
        w[--n] = '\0';
}

/* ---- tokens ------------------------------------------------------------------------ */

/* Token characters: ASCII letters and digits, the punctuation of values (eu-west-3,
 * t3.micro, nginx:1.25, ghcr.io/org/app, user@host, key=value, ~/dir, 50%) and every
 * non-ASCII letter the folding knows. Everything else separates tokens. */
static int token_char(unsigned cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= '0' && cp <= '9') || strchr("._-:/@+=~%#", (int)cp) != NULL;
    return (cp >= 0xC0 && cp <= 0x17F && cp != 0xD7 && cp != 0xF7) ||
           (cp >= 0x300 && cp <= 0x36F);
}

static int is_apostrophe(unsigned cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x2032;
}

/* The closing quote for an opening one, or 0 when cp does not open a quote. */
static unsigned closing_quote(unsigned cp)
{
    switch (cp) {
    case '"':
        return '"';
    case '\'':
        return '\'';
    case 0x201C: /* “ */
        return 0x201D;
    case 0x201E: /* „ */
        return 0x201C;
    case 0xAB: /* « */
        return 0xBB;
    case 0x2018: /* ‘ */
        return 0x2019;
    default:
        return 0;
    }
}

/* The offset of the closing quote for a quote opened just before s[i], or len when there is
 * none. A closing apostrophe must end a word (be followed by a separator or the end), so
 * "it's" inside 'quoted text' does not close it. */
static size_t find_close(const unsigned char *s, size_t i, size_t len, unsigned close)
{
    while (i < len) {
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (cp == close || (close == 0x2019 && cp == '\'')) {
            if (close != '\'' && close != 0x2019)
                return i;
            unsigned next = ' ';
            if (i + n < len)
                utf8_decode(s + i + n, len - i - n, &next);
            if (!token_char(next) || next == '.' || next == ':')
                return i;
        }
        i += n;
    }
    return len;
}

/* Shell metacharacters: a word written against one is part of shell syntax ($(reboot),
 * a;b, `x`), never a plain value. */
static int shell_meta(unsigned cp)
{
    return cp < 0x80 && cp != 0 && strchr("$`;|&<>(){}[]*\\!", (int)cp) != NULL;
}

static void add_token(textnorm_text *t, const char *p, size_t n, int quoted, int shell)
{
    if (t->ntok == TEXTNORM_TOKENS_MAX)
        return;
    textnorm_token *k = &t->tok[t->ntok];
    k->shell = (uint8_t)shell;
    if (!quoted)
        while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ':'))
            n--; /* the end of a sentence, "replicas:" */
    if (n == 0)
        return;
    k->cut = n > TEXTNORM_TOKEN_MAX;
    if (k->cut) {
        n = TEXTNORM_TOKEN_MAX;
        while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
            n--; /* cut at a character boundary */
    }
    memcpy(k->raw, p, n);
    k->raw[n] = '\0';
    textnorm_fold(p, n, k->fold, sizeof k->fold);
    k->quoted = (uint8_t)quoted;
    t->ntok++;
}

static void split_tokens(const char *text, size_t len, textnorm_text *t)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, last_end = SIZE_MAX;
    int after_sep = 1, meta = 0; /* meta: a metacharacter since the last white space */
    while (i < len && t->ntok < TEXTNORM_TOKENS_MAX) {
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        unsigned close = after_sep ? closing_quote(cp) : 0;
        if (close != 0) {
            size_t end = find_close(s, i + n, len, close);
            if (end < len) {
                add_token(t, text + i + n, end - i - n, 1, meta);
                unsigned ccp;
                i = end + utf8_decode(s + end, len - end, &ccp);
                after_sep = 1;
                continue;
            }
        }
        if (!token_char(cp)) {
            if (shell_meta(cp)) {
                if (last_end == i && t->ntok > 0)
                    t->tok[t->ntok - 1].shell = 1;
                meta = 1;
            } else if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') {
                meta = 0;
            }
            i += n;
            after_sep = 1;
            continue;
        }
        size_t start = i;
        while (i < len) {
            n = utf8_decode(s + i, len - i, &cp);
            if (!token_char(cp))
                break;
            if (cp >= 0xC0 && cp <= 0x17F)
                t->accents++;
            i += n;
        }
        size_t before = t->ntok;
        add_token(t, text + start, i - start, 0, meta);
        last_end = i;
        after_sep = 1;
        if (i < len) {
            utf8_decode(s + i, len - i, &cp);
            if (is_apostrophe(cp)) { /* l'instance, qu'est-ce, don't */
                if (t->ntok > before && find_word(elisions, NELEM(elisions),
                                                  t->tok[t->ntok - 1].fold))
                    t->ntok--;
                after_sep = 0; /* the next word is not a quoted string */
                i += utf8_decode(s + i, len - i, &cp);
            }
        }
    }
}

/* ---- words ------------------------------------------------------------------------- */

/* A short option (-a, -A, -it, -rf): one word, case kept, never a stopword, so that
 * "docker ps -a" and "docker ps" stay different requests. */
static int short_option(textnorm_text *t, size_t k)
{
    const char *r = t->tok[k].raw;
    size_t n = strlen(r);
    if (n < 2 || n > 4 || r[0] != '-' || t->nword == TEXTNORM_WORDS_MAX)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z')))
            return 0;
    textnorm_word *w = &t->word[t->nword++];
    memcpy(w->fold, t->tok[k].fold, n + 1);
    memcpy(w->stem, r, n + 1);
    w->token = (uint16_t)k;
    w->stop = 0;
    w->number = 0;
    return 1;
}

static void add_words(textnorm_text *t, size_t k)
{
    const char *f = t->tok[k].fold;
    size_t i = 0;
    if (short_option(t, k))
        return;
    while (f[i] != '\0' && t->nword < TEXTNORM_WORDS_MAX) {
        while (f[i] != '\0' && !((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9')))
            i++;
        size_t start = i;
        while ((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9'))
            i++;
        if (i == start)
            break;
        textnorm_word *w = &t->word[t->nword++];
        size_t n = i - start;
        if (n > TEXTNORM_WORD_MAX)
            n = TEXTNORM_WORD_MAX;
        memcpy(w->fold, f + start, n);
        w->fold[n] = '\0';
        w->number = 1;
        for (size_t j = 0; j < n; j++)
            if (w->fold[j] < '0' || w->fold[j] > '9')
                w->number = 0;
        w->token = (uint16_t)k;
        w->stop = (uint8_t)textnorm_is_stopword(w->fold);
        memcpy(w->stem, w->fold, n + 1);
        textnorm_stem(w->stem);
    }
}

/* Analysis, see textnorm.h. */
void textnorm_analyze(const char *text, textnorm_text *t)
{
    size_t len = strnlen(text, TEXTNORM_INPUT_MAX);
    if (len == TEXTNORM_INPUT_MAX)
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--; /* do not cut a character in two */
    t->ntok = 0;
    t->nword = 0;
    t->accents = 0;
    split_tokens(text, len, t);
    for (size_t k = 0; k < t->ntok; k++)
        if (!t->tok[k].quoted)
            add_words(t, k);
    for (size_t i = 0; i + 1 < t->nword; i++)
        for (size_t p = 0; p < NELEM(stop_pairs); p++)
            if (t->word[i].fold[0] == stop_pairs[p][0][0] &&
                strcmp(t->word[i].fold, stop_pairs[p][0]) == 0 &&
                strcmp(t->word[i + 1].fold, stop_pairs[p][1]) == 0)
                t->word[i].stop = t->word[i + 1].stop = 1;
    for (size_t i = 0; i + 1 < t->nword; i++)
        for (size_t p = 0; p < NELEM(term_pairs); p++)
            if ((i == 0 || term_pairs[p][3][0] != 's') &&
                strcmp(t->word[i].fold, term_pairs[p][0]) == 0 &&
                strcmp(t->word[i + 1].fold, term_pairs[p][1]) == 0) {
                textnorm_word *w = &t->word[i + 1]; /* "can" stays a cue word */
                size_t n = strlen(term_pairs[p][2]); /* shorter than TEXTNORM_WORD_MAX */
                memcpy(w->fold, term_pairs[p][2], n + 1);
                memcpy(w->stem, term_pairs[p][2], n + 1);
                textnorm_stem(w->stem);
                w->stop = 0;
                t->word[i].stop = 1;
            }
}
