/* The full-screen views of `cloudya monitor` (curses, inside term.c's screen mode): the host
 * (CPU total and per core, load, memory and swap, disks, I/O, network, top processes) and a
 * service (its processes, ports, restarts, uptime and recent log lines). Both are drawn
 * from the JSON objects that `--output json` prints, so the screen and the scripts always
 * show the same figures. */
#ifndef CLOUDYA_CLI_MONITOR_SCREEN_H
#define CLOUDYA_CLI_MONITOR_SCREEN_H
#include <jansson.h>

enum mscreen_sort { MSORT_CPU, MSORT_MEM };

struct mscreen {
    int color;              /* curses colours are on */
    double interval;        /* seconds between two samples, for the header */
    enum mscreen_sort sort; /* how the process lists are ordered */
    int scroll;             /* first process row shown */
    char note[256];         /* a line for the footer (e.g. the history cannot be written) */
};

/* Sets up the colour pairs when s->color is set and the terminal has colours (clears
 * s->color otherwise). Call once after term_screen_begin. */
void mscreen_init(struct mscreen *s);

/* Draws the host view of sample (host_sample_json's object); sample NULL draws the header
 * and "sampling..." only. */
void mscreen_draw_host(struct mscreen *s, const json_t *sample);

/* Draws the service view of info (service_info_json's object, with "restarts_seen" added by
 * the caller). */
void mscreen_draw_service(struct mscreen *s, const json_t *info);

/* Handles a key: returns 1 to quit, 0 otherwise (sort keys and scrolling change s). */
int mscreen_key(struct mscreen *s, int key);

#endif
