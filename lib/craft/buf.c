#include "buf.h"

#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void craft_buf_init(craft_buf *buf, size_t max)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max;
}

void craft_buf_cleanup(craft_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

void craft_buf_reset(craft_buf *buf)
{
	craft_buf_truncate(buf, 0);
}

void craft_buf_truncate(craft_buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	buf->len = len;
	buf->data[len] = '\0';
}

static int ensure(craft_buf *buf, size_t extra)
{
	if (extra > buf->max - buf->len || buf->len > buf->max)
		return CRAFT_ETOOBIG;
	size_t need = buf->len + extra + 1;
	if (need <= buf->cap)
		return CRAFT_OK;
	size_t cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap = cap > (SIZE_MAX / 2) ? need : cap * 2;
	if (cap > buf->max + 1)
		cap = buf->max + 1;
	buf->data = craft_xrealloc(buf->data, cap);
	buf->cap = cap;
	return CRAFT_OK;
}

int craft_buf_append(craft_buf *buf, const void *data, size_t len)
{
	int rc = ensure(buf, len);
	if (rc)
		return rc;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return CRAFT_OK;
}

int craft_buf_append_str(craft_buf *buf, const char *s)
{
	return craft_buf_append(buf, s, strlen(s));
}

int craft_buf_vprintf(craft_buf *buf, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return CRAFT_EINVAL;
	int rc = ensure(buf, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return CRAFT_OK;
}

int craft_buf_printf(craft_buf *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = craft_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

char *craft_buf_steal(craft_buf *buf, size_t *len_out)
{
	char *p = buf->data ? buf->data : craft_xstrdup("");
	if (len_out)
		*len_out = buf->len;
	buf->data = NULL;
	buf->len = buf->cap = 0;
	return p;
}
