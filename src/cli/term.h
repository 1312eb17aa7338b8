/* The one module that owns the terminal. Everything that changes the terminal's state
 * (echo off for a password, curses' full screen for `top`, the spinner's hidden cursor)
 * goes through here, and this module puts the terminal back on every exit path: a normal
 * return, exit(), SIGINT/SIGTERM/SIGHUP/SIGQUIT, and a crash (SIGSEGV, SIGBUS, SIGABRT,
 * SIGFPE, SIGILL), using only async-signal-safe calls in the handlers. */
#ifndef CLOUDYA_CLI_TERM_H
#define CLOUDYA_CLI_TERM_H
#include <stddef.h>

/* Installs the signal handlers and the atexit hook. Call once, first thing in main(). */
void term_init(void);

/* Prints prompt on standard error and reads one line from the terminal (/dev/tty when
 * standard input is not one, so `echo x | cloudya ...` can still prompt) into out
 * (without the newline). echo 0 turns echo off (passwords) and prints the newline the
 * user typed. Returns 0, -ENOENT at end of input or when there is no terminal to ask,
 * -ENOSPC when the line is longer than cap - 1 (the rest is discarded), -EINTR on Ctrl+C
 * (the terminal is restored first). */
int term_prompt(const char *prompt, int echo, char *out, size_t cap);

/* Reads all of standard input (for --password-stdin) up to cap - 1 bytes, dropping one
 * trailing "\n" or "\r\n". Returns 0, -ENOSPC when longer, -EIO on a read error. */
int term_read_stdin(char *out, size_t cap);

/* A spinner on standard error for work that may take a while: nothing shows if stop comes
 * within 300 ms, or when standard error is not a terminal. The label is redrawn by a
 * thread every 100 ms; stop erases the line. Only one spinner at a time. */
void spinner_start(const char *label, int enabled);
void spinner_stop(void);

/* Full-screen mode (ncursesw) for `top`: enters curses with the cursor hidden, keypad on,
 * no echo, cbreak and getch timing out after timeout_ms. Returns 0, or -ENOTTY when
 * standard input or output is not a terminal. term_screen_end leaves it (safe to call
 * twice, and called by the exit and signal paths). */
int term_screen_begin(int timeout_ms);
void term_screen_end(void);
/* 1 after SIGWINCH since the last call (the screen should be resized and redrawn). */
int term_resized(void);
/* 1 when SIGINT or SIGTERM arrived while in full-screen mode (the caller leaves cleanly). */
int term_interrupted(void);

/* Catching Ctrl+C for the plain chat: while on, SIGINT only raises a flag (the chat cancels
 * the line being typed or the request being waited for) instead of ending the process;
 * the other terminal signals keep their effect. term_sigint_taken returns 1 once per
 * SIGINT received while on (and clears it), else 0. */
void term_catch_sigint(int on);
int term_sigint_taken(void);

/* In full-screen mode: reports the mouse wheel to curses (KEY_MOUSE, buttons 4 and 5) and
 * records the escapes that turn mouse reporting off again for the signal paths, which
 * leave the screen without curses. Returns 0, or -ENOTTY outside full-screen mode or when
 * the terminal has no mouse. */
int term_screen_mouse(void);

#endif
