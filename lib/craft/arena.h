/* arena.h - per-request memory: allocate freely, free everything at once.
 *
 * An arena hands out memory from large blocks and releases it all in
 * craft_arena_free(). Foreign objects whose lifetime is the request's
 * (PGresult, redisReply, json_t) are tied to it with craft_arena_cleanup_add():
 * cleanups run in reverse order of registration before the memory goes.
 * An arena is not thread-safe: one request, one thread at a time.
 */
#ifndef CRAFT_ARENA_H
#define CRAFT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct craft_arena craft_arena;

/* A new arena whose blocks are at least `block_size` bytes (0 = 8 KiB).
 * Aborts on out of memory; never returns NULL. Free with craft_arena_free(). */
craft_arena *craft_arena_new(size_t block_size);

/* Run the cleanups (last registered first), then free all memory.
 * craft_arena_free(NULL) does nothing. */
void craft_arena_free(craft_arena *arena);

/* `size` bytes aligned for any type, valid until the arena is freed.
 * Aborts on out of memory. */
void *craft_arena_alloc(craft_arena *arena, size_t size);

/* Like craft_arena_alloc() but zeroed; `count * size` is overflow-checked. */
void *craft_arena_calloc(craft_arena *arena, size_t count, size_t size);

/* Copies of a string (or its first `len` bytes, NUL-terminated) in the arena. */
char *craft_arena_strdup(craft_arena *arena, const char *s);
char *craft_arena_strndup(craft_arena *arena, const char *s, size_t len);

/* printf into arena memory. */
char *craft_arena_sprintf(craft_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *craft_arena_vsprintf(craft_arena *arena, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Call fn(data) when the arena is freed. */
void craft_arena_cleanup_add(craft_arena *arena, void (*fn)(void *data), void *data);

/* Bytes handed out so far. No production caller: the unit tests check the
 * accounting with it, and it is the measure a future per-request bound needs. */
size_t craft_arena_used(const craft_arena *arena);

#endif
