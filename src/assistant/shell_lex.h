/* A POSIX-sh-like tokenizer for the assistant's command validator. It never runs anything
 * and never expands anything: it cuts an action into the simple commands a shell would run
 * and, for each, the words the shell would see (quotes removed, escapes applied, $'...'
 * decoded), the assignments before the program and the redirections with their targets.
 * Whatever the shell would only know at run time (parameters, command substitutions,
 * arithmetic, globs, brace lists, ~) is kept as written and flagged on the word, so that the
 * validator can refuse to guess.
 *
 * Commands are split at ; && || | |& & and newlines, and inside ( ) subshells, { ...; }
 * groups, function bodies, $( ) and backquote substitutions and <( ) >( ) process
 * substitutions; a substitution's commands are commands of their own, flagged as such and
 * pointing back at the command whose word holds them. Reserved words that only steer
 * (if then else elif fi do done while until ! for select) are consumed; `case` is not
 * supported and is an error. Here-documents are read after the next newline; an unquoted
 * delimiter's body is scanned for substitutions like a double-quoted string.
 *
 * Limits are checked while parsing: SHELL_LEX_INPUT_MAX bytes, SHELL_LEX_CMDS_MAX commands in
 * all (substitutions included), SHELL_LEX_WORDS_MAX words (assignments included) and
 * SHELL_LEX_REDIRS_MAX redirections per command, SHELL_LEX_DEPTH_MAX nesting. Unterminated
 * quotes, substitutions, groups and here-documents, a NUL byte and constructs we do not
 * model are errors: the caller is expected to fail closed. */
#ifndef CLOUDYA_SHELL_LEX_H
#define CLOUDYA_SHELL_LEX_H
#include <stddef.h>

#define SHELL_LEX_INPUT_MAX 8192
#define SHELL_LEX_CMDS_MAX 64
#define SHELL_LEX_WORDS_MAX 256
#define SHELL_LEX_REDIRS_MAX 32
#define SHELL_LEX_DEPTH_MAX 16
#define SHELL_LEX_HEREDOCS_MAX 8

/* shell_word.flags */
#define SHELL_WORD_QUOTED 0x001    /* some part was quoted or backslash-escaped */
#define SHELL_WORD_PARAM 0x002     /* $NAME, $1, ${...} */
#define SHELL_WORD_CMDSUBST 0x004  /* $(...) or `...` */
#define SHELL_WORD_ARITH 0x008     /* $((...)) */
#define SHELL_WORD_GLOB 0x010      /* unquoted * ? or [...] */
#define SHELL_WORD_BRACE 0x020     /* unquoted {a,b} or {1..9} */
#define SHELL_WORD_TILDE 0x040     /* unquoted ~ at the start */
#define SHELL_WORD_PROCSUBST 0x080 /* <(...) or >(...) */
#define SHELL_WORD_ANSI_C 0x100    /* $'...' was decoded */
/* Everything the shell would only know when running the command. */
#define SHELL_WORD_EXPANDS                                                                   \
    (SHELL_WORD_PARAM | SHELL_WORD_CMDSUBST | SHELL_WORD_ARITH | SHELL_WORD_GLOB |          \
     SHELL_WORD_BRACE | SHELL_WORD_TILDE | SHELL_WORD_PROCSUBST)

typedef struct shell_word {
    char *text;         /* the value without quotes (NUL-terminated); expansions as written */
    size_t len;         /* bytes in text (text holds no NUL) */
    unsigned flags;     /* SHELL_WORD_* */
    size_t literal_len; /* leading bytes of text that are literal: the offset of the first
                           expansion other than a leading ~ (len when there is none) */
    size_t unquoted_len; /* leading bytes of text that were neither quoted, escaped nor
                            expanded (assignments and reserved words are recognized there) */
    unsigned nexp;      /* number of expansions (parameters, substitutions, globs...) */
} shell_word;

typedef enum shell_redir_kind {
    SHELL_REDIR_IN,         /* <    */
    SHELL_REDIR_OUT,        /* >    */
    SHELL_REDIR_APPEND,     /* >>   */
    SHELL_REDIR_CLOBBER,    /* >|   */
    SHELL_REDIR_INOUT,      /* <>   */
    SHELL_REDIR_OUT_ALL,    /* &> or >& to a file (stdout and stderr) */
    SHELL_REDIR_APPEND_ALL, /* &>>  */
    SHELL_REDIR_DUP_OUT,    /* >&N, >&- */
    SHELL_REDIR_DUP_IN,     /* <&N, <&- */
    SHELL_REDIR_HEREDOC,    /* << and <<- */
    SHELL_REDIR_HERESTRING, /* <<<  */
} shell_redir_kind;

typedef struct shell_redir {
    shell_redir_kind kind;
    int fd;            /* the explicit descriptor before the operator, or -1 */
    shell_word target; /* the file, descriptor, here-string or here-document delimiter */
    char *body;        /* here-document body (NULL for the others) */
    size_t body_len;
    int body_literal;  /* here-document: 1 when the shell will not expand the body */
} shell_redir;

/* shell_cmd.flags */
#define SHELL_CMD_SUBST 0x001      /* inside $(...) or `...` */
#define SHELL_CMD_PROCSUBST 0x002  /* inside <(...) or >(...) */
#define SHELL_CMD_SUBSHELL 0x004   /* inside ( ... ) */
#define SHELL_CMD_GROUP 0x008      /* inside { ...; } */
#define SHELL_CMD_FUNCBODY 0x010   /* inside a function body (see func) */
#define SHELL_CMD_FUNCDEF 0x020    /* defines the function words[0]; no words otherwise */
#define SHELL_CMD_BACKGROUND 0x040 /* followed by & */
#define SHELL_CMD_PIPE_IN 0x080    /* reads a pipe (see pipe_from) */
#define SHELL_CMD_PIPE_OUT 0x100   /* writes into a pipe */
#define SHELL_CMD_FOR 0x200        /* for/select header: words are data, nothing runs */
#define SHELL_CMD_ARITH 0x400      /* (( ... )): words[0] is "((", words[1] the expression */
#define SHELL_CMD_TEST 0x800       /* [[ ... ]] */

typedef enum shell_sep {
    SHELL_SEP_END,        /* end of input, or of the enclosing list */
    SHELL_SEP_SEMI,       /* ; */
    SHELL_SEP_NEWLINE,    /* newline */
    SHELL_SEP_AND,        /* && */
    SHELL_SEP_OR,         /* || */
    SHELL_SEP_PIPE,       /* | or |& */
    SHELL_SEP_BACKGROUND, /* & */
} shell_sep;

typedef struct shell_cmd {
    shell_word *words; /* program and arguments (nwords may be 0: only assignments or
                          redirections, or a compound's redirections) */
    size_t nwords;
    shell_word *assigns; /* NAME=value words before the program, as written unquoted */
    size_t nassigns;
    shell_redir *redirs;
    size_t nredirs;
    unsigned flags;  /* SHELL_CMD_* */
    shell_sep sep;   /* the operator that ended the command */
    int depth;       /* nesting: 0 at the top */
    int parent;      /* substitutions: the command whose word holds this one; else -1 */
    int func;        /* function bodies: the SHELL_CMD_FUNCDEF command; else -1 */
    int pipe_from;   /* SHELL_CMD_PIPE_IN: the command writing the pipe; else -1 */
    char *raw;       /* the command's source text, for messages */
} shell_cmd;

typedef struct shell_script {
    shell_cmd cmds[SHELL_LEX_CMDS_MAX]; /* in source order; a substitution comes after
                                           the command that holds it */
    size_t ncmds;
} shell_script;

/* Parses len bytes of src (need not be NUL-terminated). Returns 0 with *out set (free it
 * with shell_script_free), -EINVAL with a sentence in err when the text cannot be parsed
 * (unterminated quote or substitution, unbalanced group, a construct we do not model, a
 * NUL byte), or -E2BIG when a limit is exceeded (the sentence names it). */
int shell_lex_parse(const char *src, size_t len, shell_script **out, char *err, size_t errlen);

/* Frees a script and everything it holds; NULL is allowed. */
void shell_script_free(shell_script *s);

/* Returns 1 when w holds no expansion: its text is exactly what the program will see. */
int shell_word_is_literal(const shell_word *w);

/* Returns 1 when w is an unquoted, unexpanded `NAME=value` (or NAME+=value) word: a
 * variable assignment when it comes before the program. *name_len gets NAME's length. */
int shell_word_is_assignment(const shell_word *w, size_t *name_len);

#endif
