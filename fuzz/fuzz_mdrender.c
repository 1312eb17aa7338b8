/* libFuzzer target for src/cli/mdrender.c, which lays out text from the daemon (and so from a
 * knowledge base or an LLM) for the terminal: arbitrary bytes must give lines that are valid
 * UTF-8, hold no control character, report their real display width, and carry spans inside
 * the line. The first two bytes choose the width, the flags and the indent. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mdrender.h"
#include "output.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct md_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct md_line *l = &d->lines[i];
        if (strlen(l->text) != l->len || !str_is_utf8(l->text, l->len) ||
            str_has_control(l->text, l->len))
            __builtin_trap();
        if (text_width(l->text) != l->width) __builtin_trap();
        for (size_t s = 0; s < l->nspans; s++)
            if (l->spans[s].end > l->len || l->spans[s].start >= l->spans[s].end) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int width = data[0] % 90;
    unsigned flags = data[1] & 1;
    int indent = (data[1] >> 1) % 20;
    const char *text = (const char *)data + 2;
    struct md_doc d;
    md_doc_init(&d);
    md_render(&d, text, size - 2, width, indent, flags);
    md_add_text(&d, text, size - 2, MD_CODE, width, indent, (enum md_wrap)(data[1] % 3));
    check(&d);
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        md_print(&d, f, 1);
        fclose(f);
    }
    md_doc_free(&d);
    return 0;
}
