#include "static.h"

#include "craft/common.h"
#include "craft/file.h"
#include "craft/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

static const struct {
	const char *ext;
	const char *type;
	bool compress;
} TYPES[] = {
    {".html", "text/html; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".json", "application/json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".webmanifest", "application/manifest+json", true},
    {".png", "image/png", false},
    {".jpg", "image/jpeg", false},
    {".jpeg", "image/jpeg", false},
    {".gif", "image/gif", false},
    {".webp", "image/webp", false},
    {".ico", "image/x-icon", false},
    {".woff2", "font/woff2", false},
};

static int type_index(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return -1;
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(TYPES); i++)
		if (strcasecmp(dot, TYPES[i].ext) == 0)
			return (int)i;
	return -1;
}

const char *static_content_type(const char *name)
{
	int i = type_index(name);
	return i < 0 ? "application/octet-stream" : TYPES[i].type;
}

/* gzip `f` if that saves at least a tenth. */
static void compress_file(struct static_file *f)
{
	uLong bound = compressBound((uLong)f->len) + 32;
	unsigned char *out = craft_xmalloc(bound);
	z_stream z = {0};
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return;
	}
	z.next_in = f->data;
	z.avail_in = (uInt)f->len;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	size_t n = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END || n >= f->len - f->len / 10) {
		free(out);
		return;
	}
	f->gz = out;
	f->gz_len = n;
}

/* The file's `size` bytes (its size when listed): a file that changed size
 * since is an error. */
static int read_file(const char *path, size_t size, unsigned char **out)
{
	char *data = NULL;
	size_t len = 0;
	if (craft_file_read(AT_FDCWD, path, size, &data, &len) != CRAFT_OK)
		return CRAFT_EIO;
	if (len != size) {
		free(data);
		return CRAFT_EIO;
	}
	*out = (unsigned char *)data;
	return CRAFT_OK;
}

struct loader {
	struct static_files *set;
	size_t cap;
	char *err;
	size_t err_len;
};

static int add_file(struct loader *l, const char *full, const char *rel, size_t size)
{
	struct static_files *s = l->set;
	if (size > STATIC_MAX_FILE || s->total_bytes + size > STATIC_MAX_TOTAL ||
	    s->count == STATIC_MAX_FILES) {
		snprintf(l->err, l->err_len, "static files too large or too many at %s", rel);
		return CRAFT_ETOOBIG;
	}
	if (s->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		s->files = craft_xrealloc(s->files, l->cap * sizeof(*s->files));
	}
	struct static_file *f = &s->files[s->count];
	memset(f, 0, sizeof(*f));
	if (read_file(full, size, &f->data) != CRAFT_OK) {
		snprintf(l->err, l->err_len, "cannot read %s: %s", full, strerror(errno));
		return CRAFT_EIO;
	}
	f->path = craft_xstrdup(rel);
	f->len = size;
	f->content_type = static_content_type(rel);
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256(f->data, f->len, d);
	char *e = f->etag;
	*e++ = '"';
	craft_hex_encode(d, 16, e);
	e += 32;
	*e++ = '"';
	*e = '\0';
	int t = type_index(rel);
	if (t >= 0 && TYPES[t].compress && f->len > 256)
		compress_file(f);
	s->count++;
	s->total_bytes += size;
	return CRAFT_OK;
}

static int walk(struct loader *l, const char *dir, const char *rel, int depth)
{
	if (depth > 16)
		return CRAFT_OK;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(l->err, l->err_len, "cannot open static directory %s: %s", dir,
			 strerror(errno));
		return CRAFT_EIO;
	}
	int rc = CRAFT_OK;
	struct dirent *e;
	while (rc == CRAFT_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* hidden files and . / .. */
		char full[4096], sub[2048];
		snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		struct stat st;
		if (lstat(full, &st) != 0 || S_ISLNK(st.st_mode))
			continue; /* symbolic links are never followed */
		if (S_ISDIR(st.st_mode))
			rc = walk(l, full, sub, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = add_file(l, full, sub, (size_t)st.st_size);
	}
	closedir(d);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

int static_load(const char *dir, struct static_files *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	struct loader l = {.set = out, .err = err, .err_len = err_len};
	int rc = walk(&l, dir, "", 0);
	if (rc) {
		static_free(out);
		return rc;
	}
	qsort(out->files, out->count, sizeof(*out->files), by_path);
	return CRAFT_OK;
}

void static_free(struct static_files *files)
{
	for (size_t i = 0; i < files->count; i++) {
		free(files->files[i].path);
		free(files->files[i].data);
		free(files->files[i].gz);
	}
	free(files->files);
	memset(files, 0, sizeof(*files));
}

static bool safe_path(const char *p)
{
	if (!*p || strstr(p, "..") || strstr(p, "//") || strchr(p, '\\') || strchr(p, '%') ||
	    p[0] == '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			return false;
	return true;
}

/* `s` past `prefix`, or NULL when it does not start with it. */
static const char *after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

const struct static_file *static_lookup(const struct static_files *files, const char *path)
{
	const char *rel = after(path, "/static/");
	if (!rel)
		rel = path[0] == '/' ? path + 1 : path;
	if (!safe_path(rel))
		return NULL;
	struct static_file key = {.path = (char *)(uintptr_t)rel};
	return bsearch(&key, files->files, files->count, sizeof(*files->files), by_path);
}

/* Does an Accept-Encoding header allow gzip (and not with q=0)? */
static bool accepts_gzip(const char *ae)
{
	if (!ae)
		return false;
	const char *g = strcasestr(ae, "gzip");
	if (!g)
		return false;
	const char *q = g + strlen("gzip");
	while (*q == ' ')
		q++;
	if (*q == ';') {
		const char *qv = strstr(q, "q=");
		qv = qv ? after(qv, "q=") : NULL;
		if (qv && (after(qv, "0,") || strcmp(qv, "0") == 0 || after(qv, "0.0")))
			return false;
	}
	return true;
}

static bool etag_matches(const char *inm, const char *etag)
{
	if (!inm)
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	return strstr(inm, etag) != NULL;
}

void static_reply(craft_req *req, const struct static_file *f)
{
	bool fingerprinted = after(f->path, "images/") != NULL;
	craft_reply_header(req, "ETag", f->etag);
	craft_reply_header(req, "Cache-Control",
			   fingerprinted ? "public, max-age=86400"
					 : "public, max-age=300, must-revalidate");
	if (f->gz)
		craft_reply_header(req, "Vary", "Accept-Encoding");
	if (etag_matches(craft_req_header(req, "If-None-Match"), f->etag)) {
		craft_reply(req, 304, NULL, "", 0);
		return;
	}
	if (f->gz && accepts_gzip(craft_req_header(req, "Accept-Encoding"))) {
		craft_reply_header(req, "Content-Encoding", "gzip");
		craft_reply_static(req, 200, f->content_type, f->gz, f->gz_len);
		return;
	}
	craft_reply_static(req, 200, f->content_type, f->data, f->len);
}
