/* utf8.h - keep text that is not valid UTF-8 instead of losing it.
 *
 * JSON (log lines, span attributes) must be valid UTF-8; request lines are
 * bytes chosen by the client. Rather than dropping a field that holds an
 * invalid byte, such bytes are written as the four characters \xNN, so the
 * line keeps every field and still shows what was sent. */
#ifndef CRAFT_UTF8_H
#define CRAFT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "arena.h"

/* True when the n bytes of s are valid UTF-8 (a NUL byte counts as valid). */
bool craft_utf8_valid(const char *s, size_t n);

/* s itself when it is valid UTF-8 (or NULL), else a copy from the arena in
 * which each invalid byte is the text \xNN (upper-case hex). */
const char *craft_utf8_escape(craft_arena *arena, const char *s);

/* NULL when s is valid UTF-8, else a malloc'd copy in which each invalid
 * byte is U+FFFD (the replacement character): for text whose bytes need not
 * be kept, such as span names and attributes sent to a collector. */
char *craft_utf8_repair(const char *s);

/* A JSON string of s (NULL: ""), repaired as above when s is not valid
 * UTF-8, so the text is never lost. A new reference; NULL only when out of
 * memory. */
json_t *craft_utf8_json_string(const char *s);

#endif
