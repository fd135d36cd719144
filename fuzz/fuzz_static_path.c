/* fuzz_static_path - the frontend's static file lookup (services/frontend/static.h).
 *
 * static_lookup() answers only paths that are exactly one of the loaded files.
 * The table built here holds ordinary files and decoys whose names a real
 * directory walk could never produce ("..", "//", '%', a backslash, a control
 * character, a leading '/'), so a lookup that returns a decoy has let an unsafe
 * path through. Invariants: a found file is in the table, its name is safe and
 * equals the request path without its "/static/" or "/" prefix.
 */
#include "fuzz_common.h"

#include "static.h"

static const char *const names[] = {
    "css/app.css",
    "js/app.js",
    "images/crane.svg",
    "images/frog.webp",
    "favicon.ico",
    "index.html",
    "static/nested.txt",
    "with space.txt",
    /* decoys: never reachable */
    "..",
    "../secret",
    "css/../secret",
    "css/..",
    "a//b",
    "%2e%2e/secret",
    "css%2fapp.css",
    "back\\slash",
    "ctl\x01.txt",
    "del\x7f.txt",
    "/etc/passwd",
};

/* Built once before the first input, read-only afterwards. */
static struct static_files table;

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->path, ((const struct static_file *)b)->path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t n = sizeof(names) / sizeof(names[0]);

	(void)argc;
	(void)argv;
	table.files = calloc(n, sizeof(*table.files));
	if (!table.files)
		abort();
	for (size_t i = 0; i < n; i++) {
		table.files[i].path = strdup(names[i]);
		if (!table.files[i].path)
			abort();
		table.files[i].content_type = "application/octet-stream";
	}
	table.count = n;
	qsort(table.files, n, sizeof(*table.files), by_path);
	return 0;
}

static bool safe_name(const char *p)
{
	if (!*p || p[0] == '/' || strstr(p, "..") || strstr(p, "//") || strpbrk(p, "\\%"))
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_strndup(data, size);
	const struct static_file *f = static_lookup(&table, path);

	if (f) {
		const char *rel = path;
		if (strncmp(rel, "/static/", 8) == 0)
			rel += 8;
		else if (rel[0] == '/')
			rel += 1;
		fuzz_require(f >= table.files && f < table.files + table.count,
			     "found file is in the table");
		fuzz_require(safe_name(f->path), "found file has a safe name (no decoy)");
		fuzz_require(strcmp(f->path, rel) == 0, "found file is exactly the request path");
	}
	free(path);
	return 0;
}
