#include "arena.h"

#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN         16u
#define DEFAULT_BLOCK 8192u

struct block {
	struct block *next;
	size_t size; /* usable bytes in data */
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *data);
	void *data;
};

struct craft_arena {
	struct block *blocks;
	struct cleanup *cleanups;
	size_t block_size;
	size_t total;
};

static struct block *block_new(size_t size)
{
	struct block *b = craft_xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

craft_arena *craft_arena_new(size_t block_size)
{
	craft_arena *a = craft_xcalloc(1, sizeof(*a));
	a->block_size = block_size ? block_size : DEFAULT_BLOCK;
	return a;
}

void craft_arena_free(craft_arena *arena)
{
	if (!arena)
		return;
	for (struct cleanup *c = arena->cleanups; c; c = c->next)
		c->fn(c->data);
	struct block *b = arena->blocks;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(arena);
}

void *craft_arena_alloc(craft_arena *arena, size_t size)
{
	if (size > SIZE_MAX - ALIGN)
		craft_oom(size);
	size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need == 0)
		need = ALIGN;
	struct block *b = arena->blocks;
	if (!b || b->size - b->used < need) {
		if (need > arena->block_size / 2) {
			/* Large object: its own block, behind the current one so the
			 * current block keeps serving small allocations. */
			struct block *big = block_new(need);
			big->used = need;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				arena->blocks = big;
			}
			arena->total += need;
			return big->data;
		}
		b = block_new(arena->block_size);
		b->next = arena->blocks;
		arena->blocks = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	arena->total += need;
	return p;
}

void *craft_arena_calloc(craft_arena *arena, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		craft_oom(SIZE_MAX);
	void *p = craft_arena_alloc(arena, count * size);
	memset(p, 0, count * size);
	return p;
}

char *craft_arena_strndup(craft_arena *arena, const char *s, size_t len)
{
	char *p = craft_arena_alloc(arena, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *craft_arena_strdup(craft_arena *arena, const char *s)
{
	return craft_arena_strndup(arena, s, strlen(s));
}

char *craft_arena_vsprintf(craft_arena *arena, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return craft_arena_strdup(arena, "");
	char *p = craft_arena_alloc(arena, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *craft_arena_sprintf(craft_arena *arena, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = craft_arena_vsprintf(arena, fmt, ap);
	va_end(ap);
	return p;
}

void craft_arena_cleanup_add(craft_arena *arena, void (*fn)(void *data), void *data)
{
	struct cleanup *c = craft_arena_alloc(arena, sizeof(*c));
	c->fn = fn;
	c->data = data;
	c->next = arena->cleanups;
	arena->cleanups = c;
}

size_t craft_arena_used(const craft_arena *arena)
{
	return arena->total;
}
