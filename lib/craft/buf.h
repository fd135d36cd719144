/* buf.h - a growable byte buffer with a hard maximum size.
 *
 * Appends that would take the buffer past `max` fail with CRAFT_ETOOBIG and
 * leave the contents unchanged. The data is always NUL-terminated (the
 * terminator is not counted in len nor in the maximum).
 */
#ifndef CRAFT_BUF_H
#define CRAFT_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct craft_buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;
} craft_buf;

/* Start an empty buffer that never grows past `max` bytes. */
void craft_buf_init(craft_buf *buf, size_t max);

/* Free the memory; the buffer may be reused after craft_buf_init(). */
void craft_buf_cleanup(craft_buf *buf);

/* Empty the buffer, keeping its memory (craft_buf_truncate() to 0; the tests
 * reuse buffers with it). */
void craft_buf_reset(craft_buf *buf);

/* Cut the content back to its first `len` bytes (what it held before a
 * failed series of appends); a larger len changes nothing. */
void craft_buf_truncate(craft_buf *buf, size_t len);

/* Append bytes; 0 or CRAFT_ETOOBIG. */
int craft_buf_append(craft_buf *buf, const void *data, size_t len);
int craft_buf_append_str(craft_buf *buf, const char *s);
int craft_buf_printf(craft_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int craft_buf_vprintf(craft_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Take ownership of the data (malloc'd, NUL-terminated, never NULL); the
 * buffer is left empty. Free the result with free(). */
char *craft_buf_steal(craft_buf *buf, size_t *len_out);

#endif
