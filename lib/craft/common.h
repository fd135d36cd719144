/* common.h - result codes and allocation helpers shared by every module.
 *
 * Result convention for the whole tree: 0 (CRAFT_OK) is success, a negative
 * CRAFT_E* value names the kind of failure. Out of memory is not a result:
 * the x* allocators abort the process with a message.
 */
#ifndef CRAFT_COMMON_H
#define CRAFT_COMMON_H

#include <stddef.h>

enum craft_result {
	CRAFT_OK = 0,
	CRAFT_EINVAL = -1,    /* bad input (caller's fault) */
	CRAFT_ENOTFOUND = -2, /* no such thing */
	CRAFT_ETOOBIG = -3,   /* a bound was exceeded */
	CRAFT_ETIMEOUT = -4,  /* a deadline passed */
	CRAFT_EUNAVAIL = -5,  /* a dependency is down or exhausted */
	CRAFT_ECONFLICT = -6, /* a uniqueness or state conflict */
	CRAFT_EIO = -7,       /* an I/O or protocol error */
	CRAFT_EINTERNAL = -8, /* a bug or an unexpected state */
};

/* A short static description of a result code; never NULL. */
const char *craft_strerror(int result);

/* Report an allocation failure of `size` bytes on stderr and abort. */
_Noreturn void craft_oom(size_t size);

/* malloc/calloc/realloc/strdup that abort on failure instead of returning NULL. */
void *craft_xmalloc(size_t size);
void *craft_xcalloc(size_t count, size_t size);
void *craft_xrealloc(void *ptr, size_t size);
char *craft_xstrdup(const char *s);

/* Write the `n` bytes at `in` as 2n lowercase hex digits and a NUL into out
 * (2n + 1 bytes). */
void craft_hex_encode(const void *in, size_t n, char *out);

/* The value of one hex digit (either case), or -1. */
int craft_hex_digit(char c);

#define CRAFT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
