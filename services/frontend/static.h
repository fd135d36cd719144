/* static.h - the frontend's static files, loaded into memory at start.
 *
 * Every regular file under the static directory is read once (bounded sizes),
 * given a content type from its extension, a strong ETag (SHA-256 prefix) and,
 * when it compresses well, a gzip variant. Requests are answered from this map
 * only: a path that is not exactly one of the loaded files is a 404, so no
 * request can reach outside the directory, encoded or not.
 */
#ifndef FRONTEND_STATIC_H
#define FRONTEND_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "craft/http.h"

#define STATIC_MAX_FILE  (4u * 1024u * 1024u)
#define STATIC_MAX_TOTAL (64u * 1024u * 1024u)
#define STATIC_MAX_FILES 4096u

struct static_file {
	char *path; /* relative, "css/app.css" */
	const char *content_type;
	char etag[40]; /* "\"<32 hex>\"" */
	unsigned char *data;
	size_t len;
	unsigned char *gz; /* NULL when not worth it */
	size_t gz_len;
};

struct static_files {
	struct static_file *files; /* sorted by path */
	size_t count;
	size_t total_bytes;
};

/* Load `dir`. Returns 0, or CRAFT_EIO / CRAFT_ETOOBIG with the reason in err. */
int static_load(const char *dir, struct static_files *out, char *err, size_t err_len);
void static_free(struct static_files *files);

/* The file for a request path ("/static/css/app.css" or "/css/app.css"),
 * or NULL. Paths with "..", "//", a backslash, a '%' (left by a second level of
 * encoding) or a control character never match. */
const struct static_file *static_lookup(const struct static_files *files, const char *path);

/* Reply with the file: 304 for a matching If-None-Match, gzip when accepted,
 * ETag, Cache-Control and Vary headers. */
void static_reply(craft_req *req, const struct static_file *f);

/* The content type for a file name. */
const char *static_content_type(const char *name);

#endif
