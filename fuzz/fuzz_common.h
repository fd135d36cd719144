/* fuzz_common.h - what every libFuzzer target shares.
 *
 * Targets are built with NDEBUG in release-like types, so invariants are
 * checked with fuzz_require() rather than assert(): a broken invariant prints
 * what was expected and aborts, which libFuzzer reports as a crash and saves
 * the input.
 */
#ifndef CRAFT_FUZZ_COMMON_H
#define CRAFT_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The libFuzzer entry points (defined by each target; Initialize is optional). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with `what` on stderr unless `ok` holds. */
static inline void fuzz_require(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz invariant broken: %s\n", what);
	abort();
}

/* A malloc'd copy of `size` bytes with a NUL after them (embedded NULs stay).
 * Exactly size + 1 bytes, so AddressSanitizer sees any read past the end. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
