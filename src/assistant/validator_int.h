/* Internals shared by validator.c (the walk over commands), validator_policy.c (the policy
 * file compiled into these structures) and validator_checks.c (the per-program analyses).
 * Not part of the module's interface. */
#ifndef CLOUDYA_VALIDATOR_INT_H
#define CLOUDYA_VALIDATOR_INT_H
#include "shell_lex.h"
#include "validator.h"

#include <stddef.h>

#define VPATH_MAX 1024   /* a normalized path */
#define VNAME_MAX 64     /* an option name, a program name */
#define VITEMS_MAX 16384 /* options and operands of one command (clusters split) */
#define VDOWNLOADS_MAX 8 /* files an action downloads that are remembered */
#define VBRACE_MAX 64    /* words a brace list of paths is expanded into */
#define VARGV_NEST_MAX 16 /* wrappers inside wrappers (env nice timeout xargs ...) */

/* Alternatives of glob patterns (* and ?): "delete-*|terminate-*". n == 0: absent. */
typedef struct vpat {
    char **alt;
    size_t n;
} vpat;

/* One subcommand rule: every condition given must hold; the first matching rule wins. */
typedef struct vrule {
    vpat *sub;          /* operand i must match sub[i] */
    size_t nsub;
    vpat flags;         /* one of these options is present */
    vpat all_flags;     /* every one of these options is present */
    vpat args;          /* some word (option or operand, as written) matches */
    vpat pos_any;       /* some operand matches */
    vpat optval_name;   /* an option named so ... */
    vpat optval_value;  /* ... has a value matching this */
    int max_pos;        /* at most this many operands; -1: any */
    risk_level level;
    char *reason;
} vrule;

typedef enum vcheck {
    VCHECK_NONE,
    VCHECK_DELETE,    /* operands are deleted */
    VCHECK_WRITE,     /* operands are written */
    VCHECK_COPY,      /* the last operand (or -t DIR) is written */
    VCHECK_MOVE,      /* sources are removed from where they are, the last is written */
    VCHECK_CHMOD,
    VCHECK_CHOWN,
    VCHECK_DD,
    VCHECK_FIND,
    VCHECK_SED,
    VCHECK_AWK,
    VCHECK_KILL,
    VCHECK_DOCKER,
    VCHECK_TAR,
    VCHECK_SOURCE,    /* runs a script in the current shell */
    VCHECK_ALIAS,     /* NAME=command strings */
    VCHECK_ASSIGNING, /* export/declare/local: operands are assignments */
    VCHECK_CD,        /* changes the directory later relative paths are resolved in */
    VCHECK_DOWNLOAD,  /* remembers the files it saves (running them later is forbidden) */
} vcheck;

typedef struct vprogram {
    char *name;
    risk_level level;     /* when no rule matches */
    char *reason;
    vpat value_options;   /* options that take the next word as their value */
    int clusters;         /* -abc is -a -b -c (getopt style) */
    vpat output_options;  /* their values are files the program writes */
    vpat command_options; /* their values are command strings the program runs */
    int command_operand;  /* this operand is a command string; -1: none */
    int command_from;     /* operands from here on, joined, are a command; -1: none */
    int argv_after_dashdash; /* the words after -- are a command it runs */
    vcheck check;
    vrule *rules;
    size_t nrules;
} vprogram;

typedef struct vwrapper {
    char *name;
    risk_level level;     /* with nothing to run */
    char *reason;
    vpat value_options;
    vpat describe;        /* with one of these it runs nothing (command -v) */
    vpat command_options; /* value is a command string (env -S, flock -c) */
    vpat output_options;  /* value is a file it writes (time -o) */
    int skip_operands;    /* operands before the command (timeout DURATION) */
    int assignments;      /* NAME=value words before the command (env) */
    int stdin_args;       /* appends words read from its input (xargs) */
    char *default_program; /* run when nothing is named (xargs: echo) */
} vwrapper;

typedef struct vinterp {
    vpat names;
    char *lang;
    vpat inline_opts;   /* the value is code */
    vpat module_opts;   /* the value names a module to run */
    vpat value_options;
} vinterp;

typedef struct vnamed {
    vpat name;
    vpat value;    /* assignments: the value must match (absent: any) */
    vpat except;   /* assignments: not before these programs */
    risk_level level;
    char *reason;
} vnamed;

typedef struct vpathrule {
    char *path;    /* normalized; components may be globs */
    char *why;
} vpathrule;

struct validator {
    vpathrule *protected_paths;
    size_t nprotected;
    char **writable; /* exceptions inside protected trees (/dev/null) */
    size_t nwritable;
    char **scratch;  /* writing under these is not worth a warning */
    size_t nscratch;
    char **roots;    /* deleting these, or everything directly in them, is forbidden */
    size_t nroots;
    vpat shells, downloaders, decoders;
    vinterp *interps;
    size_t ninterps;
    vnamed *denied;
    size_t ndenied;
    vnamed *assigns;
    size_t nassigns;
    vwrapper *wrappers; /* sorted by name */
    size_t nwrappers;
    vprogram *programs; /* sorted by name */
    size_t nprograms;
};

/* ---- validator_policy.c ----------------------------------------------------------------- */

/* 1 when s matches one of p's alternatives (glob: * any run, ? one byte), else 0. */
int vpat_match(const vpat *p, const char *s);

/* Normalizes a path pattern or path text (see vpath_norm) for the policy. */
const vprogram *validator_program_find(const validator *v, const char *name);
const vwrapper *validator_wrapper_find(const validator *v, const char *name);

/* ---- validator.c: the walk ---------------------------------------------------------------- */

/* One classification in progress (all of it on the caller's stack). */
struct vrun {
    const validator *v;
    risk_level level;
    char reason[VALIDATOR_REASON_MAX];
    char part[VALIDATOR_PART_MAX];
    size_t nparts;
    int depth;              /* command strings followed */
    int argv_depth;         /* wrapped commands followed */
    char cwd[VPATH_MAX];    /* normalized: "" the starting directory, "/x" or "~/x", a path
                               relative to the start, or "?" after cd $X */
    char downloads[VDOWNLOADS_MAX][VPATH_MAX]; /* normalized paths saved by downloaders */
    size_t ndownloads;
    const shell_script *script; /* the script of the command being checked */
    const shell_cmd *cmd;       /* the command being checked */
    const char *fallback;       /* quoted when there is no command (the whole text) */
};

/* Records a finding: the worst one (the first of equals) is kept. */
void vrun_note(struct vrun *r, risk_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Classifies a command given as its words (program first). */
void vrun_argv(struct vrun *r, const shell_word *const *argv, size_t n);

/* Classifies a command string the program will hand to a shell (sh -c, trap, ssh...). */
void vrun_string(struct vrun *r, const char *text, size_t len, const char *what);

/* Classifies a word that a program will run as a command string: it must be literal. */
void vrun_string_word(struct vrun *r, const shell_word *w, const char *what);

/* What a word names as a path. */
typedef struct vpath {
    char path[VPATH_MAX]; /* normalized: "/x", "~/x", "x", "..", "." (literal part only) */
    int literal;          /* the whole word is known */
    int unknown;          /* starts with an expansion: could be anywhere */
} vpath;

void vpath_of_word(const struct vrun *r, const shell_word *w, vpath *out);

/* Normalizes text (n bytes) against cwd ("" = unknown) into out (VPATH_MAX). */
void vpath_norm(const char *text, size_t n, const char *cwd, char *out);

/* 1 when path is pattern or under it (exact: only pattern itself). */
int vpath_match(const char *pattern, const char *path, int exact);

/* Write and delete analyses shared by the checks; part of the reason comes from verb. */
void vrun_write(struct vrun *r, const shell_word *w, const char *verb);
void vrun_delete(struct vrun *r, const shell_word *w, const char *verb);

/* 1 when the normalized path is the root, a home, a parent, a root directory or protected
 * (writable exceptions aside), with a phrase naming it in why (cap bytes); else 0. */
int vpath_vital(const validator *v, const char *path, char *why, size_t cap);

/* Remembers a file a downloader saves (a literal word), and asks whether a word names one. */
void vrun_downloaded(struct vrun *r, const shell_word *w);
int vrun_is_download(const struct vrun *r, const shell_word *w);

/* Checks NAME=value text (export, declare, env) against the assignment rules. */
void vrun_assign_text(struct vrun *r, const char *text);

/* A shell or interpreter reading its program from its input: here-document, here-string,
 * redirected file, pipe or terminal decide. lang is "shell" or the language. */
void vrun_stdin_program(struct vrun *r, const char *lang);

/* ---- options and operands ----------------------------------------------------------------- */

enum { VITEM_OPT, VITEM_OPERAND };

typedef struct vitem {
    int kind;
    char name[VNAME_MAX];     /* options: "-r", "--force", "-delete" */
    const shell_word *word;   /* the word it came from */
    const char *value;        /* an option's value (NULL: none) */
    size_t value_len;
    const shell_word *value_word; /* the value's own word when it is the next one */
    size_t index;             /* the word's index in argv */
} vitem;

typedef struct vitems {
    vitem *v;
    size_t n, cap;
    size_t nops;        /* operands */
    size_t dashdash;    /* argv index after "--", or 0 */
    int overflow;       /* more than VITEMS_MAX items: the rest was dropped */
} vitems;

/* Splits argv[1..n) into options and operands. value_opts take a value; clusters: -abc is
 * -a -b -c; stop: the first operand ends the options (wrappers, shells). Free with
 * vitems_free. */
void vitems_parse(vitems *it, const shell_word *const *argv, size_t n, const vpat *value_opts,
                  int clusters, int stop);
void vitems_free(vitems *it);

/* The operand number k (0-based) or NULL. */
const vitem *vitems_operand(const vitems *it, size_t k);

/* 1 when an option matching one of p's alternatives is present (abbrev: a GNU long option
 * abbreviation counts). */
int vitems_has(const vitems *it, const vpat *p, int abbrev);
int vitems_has_name(const vitems *it, const char *name, int abbrev);

/* The first option matching name (alternatives with |), or NULL. */
const vitem *vitems_opt(const vitems *it, const char *names);

/* ---- validator_checks.c --------------------------------------------------------------------- */

/* Runs the analysis p->check names over the parsed command. */
void vcheck_run(struct vrun *r, const vprogram *p, const shell_word *const *argv, size_t n,
                const vitems *it);

/* Shells and interpreters (validator_shell.c) are classified by what they would run: a -c
 * string is checked recursively, input from a pipe is forbidden, inline code is dangerous,
 * a script file is a warning (forbidden when the action downloads it). */
void vcheck_shell(struct vrun *r, const shell_word *const *argv, size_t n);
void vcheck_interp(struct vrun *r, const vinterp *ip, const shell_word *const *argv, size_t n);

/* The basename of a program word (the text after the last '/'). */
const char *vbasename(const char *text);

/* A word for part of another word's text (dd of=..., sed's w file): it shares the flags,
 * so a value inside an expanded word stays unknown. text must outlive tmp. */
void vword_sub(shell_word *tmp, const shell_word *from, const char *text, size_t len);

/* ---- validator_shell.c ---------------------------------------------------------------------- */

/* source FILE and . FILE: a script run in the current shell. */
void vcheck_source(struct vrun *r, const vitems *it);

/* curl and wget: remembers the files they save (vrun_downloaded). */
void vcheck_download(struct vrun *r, const vprogram *p, const vitems *it);

#endif
