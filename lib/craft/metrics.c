#include "metrics.h"

#include "common.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REQUESTS_NAME "craft_http_requests_total"
#define DURATION_NAME "craft_http_request_duration_seconds"

/* Histogram upper bounds in seconds, as numbers and as `le` label values. */
static const double bucket_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				       0.25,  0.5,    1,     2.5,  5,     10};
static const char *const bucket_labels[] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
					    "0.05",  "0.1",    "0.25",  "0.5",  "1",
					    "2.5",   "5",      "10"};
#define FINITE_BUCKETS CRAFT_ARRAY_LEN(bucket_bounds)
#define BUCKETS        (FINITE_BUCKETS + 1) /* the last one is +Inf */

static const char *const methods[] = {"GET",   "HEAD",    "POST",    "PUT",   "DELETE",
				      "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER"};
#define METHOD_OTHER ((int)CRAFT_ARRAY_LEN(methods) - 1)

#define TOTAL_SERIES (CRAFT_METRICS_MAX_SERIES + CRAFT_METRICS_MAX_OTHER + 1)
#define TABLE_SIZE   2048 /* power of two, well above TOTAL_SERIES: probes stay short */
#define LABELS_MAX   (2 * CRAFT_METRICS_ROUTE_MAX + 64)

/* What identifies a series. */
struct key {
	int method;
	int status;
	const char *route;
	size_t route_len;
	uint64_t hash;
};

/* One (method, route, status) combination. Written once before it is published,
 * then only its counters change. Bucket counts are per bucket (not cumulative);
 * the request count is their sum, so _count and the +Inf bucket always agree. */
struct series {
	int method;
	int status;
	uint64_t hash;
	char route[CRAFT_METRICS_ROUTE_MAX];
	char labels[LABELS_MAX]; /* escaped: method="GET",route="/x",status="200" */
	atomic_uint_fast64_t buckets[BUCKETS];
	atomic_uint_fast64_t sum_ns;
};

enum custom_kind { CUSTOM_GAUGE, CUSTOM_COUNTER };

struct collector {
	craft_metrics_collect collect;
	void *ctx;
};

/* A callback figure reads its value alone (read) or as field `field` of a
 * collector's snapshot (col). */
struct custom {
	enum custom_kind kind;
	char name[CRAFT_METRICS_NAME_MAX + 1];
	char *help;
	craft_metric_read read;
	void *ctx;
	const struct collector *col;
	size_t field;
};

struct craft_metrics {
	char *service;
	double start_time;    /* unix seconds */
	pthread_mutex_t lock; /* taken to create a series or register a metric */
	_Atomic(struct series *) table[TABLE_SIZE]; /* open addressing, linear probing */
	struct series *all[TOTAL_SERIES];           /* in creation order */
	atomic_size_t nseries;                      /* published entries of all[] */
	size_t route_series;                        /* under lock */
	size_t other_series;                        /* under lock */
	atomic_bool routes_full;
	atomic_bool others_full;
	struct custom custom[CRAFT_METRICS_MAX_CUSTOM];
	atomic_size_t ncustom; /* published entries of custom[] */
	struct collector collectors[CRAFT_METRICS_MAX_CUSTOM];
	size_t ncollectors; /* under lock */
};

/* ---- series keys and the lock-free table ---- */

static int method_index(const char *method)
{
	for (int i = 0; method && i < METHOD_OTHER; i++)
		if (strcmp(method, methods[i]) == 0)
			return i;
	return METHOD_OTHER;
}

static void key_hash(struct key *k)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < k->route_len; i++)
		h = (h ^ (unsigned char)k->route[i]) * 1099511628211ull;
	h = (h ^ (uint64_t)k->method) * 1099511628211ull;
	h = (h ^ (uint64_t)(unsigned)k->status) * 1099511628211ull;
	k->hash = h;
}

static void key_set(struct key *k, int method, const char *route, int status)
{
	k->method = method;
	k->status = status;
	k->route = route;
	k->route_len = strlen(route);
	key_hash(k);
}

static bool key_matches(const struct series *s, const struct key *k)
{
	return s->hash == k->hash && s->method == k->method && s->status == k->status &&
	       strncmp(s->route, k->route, k->route_len) == 0 && s->route[k->route_len] == '\0';
}

static struct series *find(craft_metrics *m, const struct key *k)
{
	for (size_t i = k->hash & (TABLE_SIZE - 1);; i = (i + 1) & (TABLE_SIZE - 1)) {
		struct series *s = atomic_load_explicit(&m->table[i], memory_order_acquire);
		if (!s || key_matches(s, k))
			return s;
	}
}

static int append_label_value(craft_buf *out, const char *s, size_t len)
{
	int rc = CRAFT_OK;
	for (size_t i = 0; i < len && !rc; i++) {
		switch (s[i]) {
		case '\\': rc = craft_buf_append(out, "\\\\", 2); break;
		case '"': rc = craft_buf_append(out, "\\\"", 2); break;
		case '\n': rc = craft_buf_append(out, "\\n", 2); break;
		default: rc = craft_buf_append(out, &s[i], 1); break;
		}
	}
	return rc;
}

static void format_labels(struct series *s)
{
	craft_buf b;
	craft_buf_init(&b, sizeof(s->labels) - 1);
	craft_buf_printf(&b, "method=\"%s\",route=\"", methods[s->method]);
	append_label_value(&b, s->route, strlen(s->route));
	craft_buf_printf(&b, "\",status=\"%d\"", s->status);
	/* Cannot overflow: the route is shorter than CRAFT_METRICS_ROUTE_MAX and each
	 * byte escapes to at most two. */
	memcpy(s->labels, b.data, b.len + 1);
	craft_buf_cleanup(&b);
}

/* Create and publish the series for `k`; the caller holds the lock and has
 * checked that it does not exist yet. */
static struct series *insert_locked(craft_metrics *m, const struct key *k)
{
	struct series *s = craft_xcalloc(1, sizeof(*s));
	s->method = k->method;
	s->status = k->status;
	s->hash = k->hash;
	memcpy(s->route, k->route, k->route_len);
	format_labels(s);
	size_t n = atomic_load_explicit(&m->nseries, memory_order_relaxed);
	m->all[n] = s;
	atomic_store_explicit(&m->nseries, n + 1, memory_order_release);
	size_t i = k->hash & (TABLE_SIZE - 1);
	while (atomic_load_explicit(&m->table[i], memory_order_relaxed))
		i = (i + 1) & (TABLE_SIZE - 1);
	atomic_store_explicit(&m->table[i], s, memory_order_release);
	return s;
}

/* Find or create under the lock, falling back to the overflow keys when the
 * bounds are reached. */
static struct series *add_series(craft_metrics *m, struct key *k)
{
	pthread_mutex_lock(&m->lock);
	struct series *s = find(m, k);
	if (!s && m->route_series < CRAFT_METRICS_MAX_SERIES) {
		s = insert_locked(m, k);
		if (++m->route_series == CRAFT_METRICS_MAX_SERIES)
			atomic_store(&m->routes_full, true);
	}
	if (!s) {
		key_set(k, k->method, "other", k->status);
		s = find(m, k);
	}
	if (!s && m->other_series < CRAFT_METRICS_MAX_OTHER) {
		s = insert_locked(m, k);
		if (++m->other_series == CRAFT_METRICS_MAX_OTHER)
			atomic_store(&m->others_full, true);
	}
	if (!s) {
		key_set(k, METHOD_OTHER, "other", 0);
		s = find(m, k);
		if (!s)
			s = insert_locked(m, k);
	}
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* The series to record into: found without locking whenever it exists. */
static struct series *get_series(craft_metrics *m, const char *method, const char *route,
				 int status)
{
	struct key k;
	if (!route)
		route = "unmatched";
	if (strlen(route) >= CRAFT_METRICS_ROUTE_MAX)
		route = "other";
	key_set(&k, method_index(method), route, status);
	struct series *s = find(m, &k);
	if (s)
		return s;
	/* Past the bounds, go straight to the overflow series so that unseen routes
	 * do not take the lock on every request. */
	if (atomic_load_explicit(&m->routes_full, memory_order_relaxed)) {
		key_set(&k, k.method, "other", status);
		if ((s = find(m, &k)) != NULL)
			return s;
	}
	if (atomic_load_explicit(&m->others_full, memory_order_relaxed)) {
		key_set(&k, METHOD_OTHER, "other", 0);
		if ((s = find(m, &k)) != NULL)
			return s;
	}
	return add_series(m, &k);
}

void craft_metrics_observe_request(craft_metrics *m, const char *method, const char *route,
				   int status, double seconds)
{
	struct series *s = get_series(m, method, route, status);
	if (!(seconds >= 0)) /* negative or NaN */
		seconds = 0;
	if (seconds > 1e9)
		seconds = 1e9;
	size_t b = 0;
	while (b < FINITE_BUCKETS && seconds > bucket_bounds[b])
		b++;
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_ns, (uint_fast64_t)(seconds * 1e9 + 0.5),
				  memory_order_relaxed);
}

/* ---- lifecycle and registration ---- */

static bool read_boot_time(unsigned long long *btime)
{
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return false;
	char line[256];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		/* NOLINTNEXTLINE(cert-err34-c): a number the kernel wrote */
		found = sscanf(line, "btime %llu", btime) == 1;
	fclose(f);
	return found;
}

/* Field 22 of /proc/self/stat: when the process started, in clock ticks after boot.
 * The second field (the command) may hold spaces, so counting starts after its ')'. */
static bool read_start_ticks(unsigned long long *ticks)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	for (int field = 3; p && field <= 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return false;
	/* p is at the space before field 22 */
	char *end;
	*ticks = strtoull(p + 1, &end, 10);
	return end != p + 1;
}

static double process_start_time(void)
{
	unsigned long long btime, ticks;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz > 0 && read_boot_time(&btime) && read_start_ticks(&ticks))
		return (double)btime + (double)ticks / (double)hz;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

craft_metrics *craft_metrics_new(const char *service_name)
{
	craft_metrics *m = craft_xcalloc(1, sizeof(*m));
	m->service = craft_xstrdup(service_name ? service_name : "craft");
	m->start_time = process_start_time();
	pthread_mutex_init(&m->lock, NULL);
	for (size_t i = 0; i < TABLE_SIZE; i++)
		atomic_init(&m->table[i], NULL);
	atomic_init(&m->nseries, 0);
	atomic_init(&m->ncustom, 0);
	atomic_init(&m->routes_full, false);
	atomic_init(&m->others_full, false);
	return m;
}

void craft_metrics_free(craft_metrics *m)
{
	if (!m)
		return;
	size_t n = atomic_load(&m->nseries);
	for (size_t i = 0; i < n; i++)
		free(m->all[i]);
	n = atomic_load(&m->ncustom);
	for (size_t i = 0; i < n; i++)
		free(m->custom[i].help);
	pthread_mutex_destroy(&m->lock);
	free(m->service);
	free(m);
}

static bool valid_metric_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > CRAFT_METRICS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alpha =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* Names the registry writes itself (histogram series names included). */
static bool builtin_name(const char *name)
{
	static const char *const names[] = {
	    REQUESTS_NAME,
	    DURATION_NAME,
	    DURATION_NAME "_bucket",
	    DURATION_NAME "_sum",
	    DURATION_NAME "_count",
	    "craft_service_info",
	    "process_cpu_seconds_total",
	    "process_resident_memory_bytes",
	    "process_virtual_memory_bytes",
	    "process_start_time_seconds",
	    "process_open_fds",
	    "process_max_fds",
	};
	for (size_t i = 0; i < CRAFT_ARRAY_LEN(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool name_taken(const craft_metrics *m, size_t n, const char *name)
{
	if (builtin_name(name))
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m->custom[i].name, name) == 0)
			return true;
	return false;
}

/* Fill the next free entry (published by the caller). */
static void fill_custom(struct custom *c, enum custom_kind kind, const char *name, const char *help)
{
	c->kind = kind;
	memcpy(c->name, name, strlen(name) + 1);
	c->help = craft_xstrdup(help ? help : "");
	c->read = NULL;
	c->ctx = NULL;
	c->col = NULL;
	c->field = 0;
}

static bool valid_help(const char *help)
{
	return !help || strlen(help) <= CRAFT_METRICS_HELP_MAX;
}

static int add_custom(craft_metrics *m, enum custom_kind kind, const char *name, const char *help,
		      craft_metric_read read, void *ctx)
{
	if (!valid_metric_name(name) || !read || !valid_help(help))
		return CRAFT_EINVAL;
	pthread_mutex_lock(&m->lock);
	size_t n = atomic_load_explicit(&m->ncustom, memory_order_relaxed);
	int rc = name_taken(m, n, name)          ? CRAFT_ECONFLICT
		 : n == CRAFT_METRICS_MAX_CUSTOM ? CRAFT_ETOOBIG
						 : CRAFT_OK;
	if (rc == CRAFT_OK) {
		fill_custom(&m->custom[n], kind, name, help);
		m->custom[n].read = read;
		m->custom[n].ctx = ctx;
		atomic_store_explicit(&m->ncustom, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Whether the collector's names are all valid, new and distinct. */
static int check_collector_locked(const craft_metrics *m, size_t n,
				  const struct craft_metric_desc *descs, size_t count)
{
	if (n + count > CRAFT_METRICS_MAX_CUSTOM || m->ncollectors == CRAFT_METRICS_MAX_CUSTOM)
		return CRAFT_ETOOBIG;
	for (size_t i = 0; i < count; i++) {
		if (name_taken(m, n, descs[i].name))
			return CRAFT_ECONFLICT;
		for (size_t j = 0; j < i; j++)
			if (strcmp(descs[i].name, descs[j].name) == 0)
				return CRAFT_ECONFLICT;
	}
	return CRAFT_OK;
}

int craft_metrics_add_collector(craft_metrics *m, const struct craft_metric_desc *descs, size_t n,
				craft_metrics_collect collect, void *ctx)
{
	if (!collect || !descs || n == 0)
		return CRAFT_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!valid_metric_name(descs[i].name) || !valid_help(descs[i].help))
			return CRAFT_EINVAL;
	pthread_mutex_lock(&m->lock);
	size_t have = atomic_load_explicit(&m->ncustom, memory_order_relaxed);
	int rc = check_collector_locked(m, have, descs, n);
	if (rc == CRAFT_OK) {
		struct collector *col = &m->collectors[m->ncollectors++];
		col->collect = collect;
		col->ctx = ctx;
		for (size_t i = 0; i < n; i++) {
			struct custom *c = &m->custom[have + i];
			fill_custom(
			    c, descs[i].kind == CRAFT_METRIC_GAUGE ? CUSTOM_GAUGE : CUSTOM_COUNTER,
			    descs[i].name, descs[i].help);
			c->col = col;
			c->field = i;
		}
		atomic_store_explicit(&m->ncustom, have + n, memory_order_release);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int craft_metrics_add_gauge(craft_metrics *m, const char *name, const char *help,
			    craft_metric_read read, void *ctx)
{
	return add_custom(m, CUSTOM_GAUGE, name, help, read, ctx);
}

int craft_metrics_add_counter(craft_metrics *m, const char *name, const char *help,
			      craft_metric_read read, void *ctx)
{
	return add_custom(m, CUSTOM_COUNTER, name, help, read, ctx);
}

/* ---- rendering ---- */

/* A sample value: NaN, +Inf, -Inf, an integer when exact, else the shortest
 * %g that reads back as the same double. */
static int append_value(craft_buf *out, double v)
{
	if (isnan(v))
		return craft_buf_append_str(out, "NaN");
	if (isinf(v))
		return craft_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		return craft_buf_printf(out, "%" PRId64, (int64_t)v);
	char num[64];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, v);
		if (strtod(num, NULL) == v)
			break;
	}
	return craft_buf_append_str(out, num);
}

/* Nanoseconds as exact decimal seconds without trailing zeros ("1.5", "2"). */
static int append_seconds(craft_buf *out, uint64_t ns)
{
	uint64_t whole = ns / 1000000000u;
	unsigned frac = (unsigned)(ns % 1000000000u);
	if (frac == 0)
		return craft_buf_printf(out, "%" PRIu64, whole);
	int digits = 9;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	return craft_buf_printf(out, "%" PRIu64 ".%0*u", whole, digits, frac);
}

static int append_help_text(craft_buf *out, const char *s)
{
	int rc = CRAFT_OK;
	for (; *s && !rc; s++) {
		if (*s == '\\')
			rc = craft_buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			rc = craft_buf_append(out, "\\n", 2);
		else
			rc = craft_buf_append(out, s, 1);
	}
	return rc;
}

static int append_header(craft_buf *out, const char *name, const char *type, const char *help)
{
	int rc = craft_buf_printf(out, "# HELP %s ", name);
	if (!rc)
		rc = append_help_text(out, help);
	if (!rc)
		rc = craft_buf_printf(out, "\n# TYPE %s %s\n", name, type);
	return rc;
}

/* The counter line goes to `out`, the histogram lines to `hist`, both from one
 * snapshot of the series so that they agree. */
static int render_series(const struct series *s, craft_buf *out, craft_buf *hist)
{
	uint64_t counts[BUCKETS];
	uint64_t total = 0;
	for (size_t b = 0; b < BUCKETS; b++) {
		counts[b] = atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
		total += counts[b];
	}
	uint64_t sum_ns = atomic_load_explicit(&s->sum_ns, memory_order_relaxed);
	int rc = craft_buf_printf(out, REQUESTS_NAME "{%s} %" PRIu64 "\n", s->labels, total);
	uint64_t cumulative = 0;
	for (size_t b = 0; b < BUCKETS && !rc; b++) {
		cumulative += counts[b];
		rc = craft_buf_printf(hist, DURATION_NAME "_bucket{%s,le=\"%s\"} %" PRIu64 "\n",
				      s->labels, b < FINITE_BUCKETS ? bucket_labels[b] : "+Inf",
				      cumulative);
	}
	if (!rc)
		rc = craft_buf_printf(hist, DURATION_NAME "_sum{%s} ", s->labels);
	if (!rc)
		rc = append_seconds(hist, sum_ns);
	if (!rc)
		rc = craft_buf_printf(hist, "\n" DURATION_NAME "_count{%s} %" PRIu64 "\n",
				      s->labels, total);
	return rc;
}

static int render_requests(craft_metrics *m, craft_buf *out)
{
	craft_buf hist;
	craft_buf_init(&hist, out->max);
	int rc = append_header(out, REQUESTS_NAME, "counter",
			       "HTTP requests handled, by method, route pattern and status code.");
	if (!rc)
		rc = append_header(&hist, DURATION_NAME, "histogram",
				   "HTTP request latency in seconds, by method, route pattern and "
				   "status code.");
	size_t n = atomic_load_explicit(&m->nseries, memory_order_acquire);
	for (size_t i = 0; i < n && !rc; i++)
		rc = render_series(m->all[i], out, &hist);
	if (!rc)
		rc = craft_buf_append(out, hist.data, hist.len);
	craft_buf_cleanup(&hist);
	return rc;
}

static int render_custom(craft_metrics *m, craft_buf *out)
{
	int rc = CRAFT_OK;
	size_t n = atomic_load_explicit(&m->ncustom, memory_order_acquire);
	double values[CRAFT_METRICS_MAX_CUSTOM];
	const struct collector *read_col = NULL; /* whose snapshot values[] holds */
	for (size_t i = 0; i < n && !rc; i++) {
		const struct custom *c = &m->custom[i];
		if (c->col && c->col != read_col) {
			c->col->collect(c->col->ctx, values);
			read_col = c->col;
		}
		rc = append_header(out, c->name, c->kind == CUSTOM_GAUGE ? "gauge" : "counter",
				   c->help);
		if (!rc)
			rc = craft_buf_printf(out, "%s ", c->name);
		if (!rc)
			rc = append_value(out, c->col ? values[c->field] : c->read(c->ctx));
		if (!rc)
			rc = craft_buf_append(out, "\n", 1);
	}
	return rc;
}

/* One unlabelled sample with its HELP and TYPE lines. */
static int append_sample(craft_buf *out, const char *name, const char *type, const char *help,
			 double value)
{
	int rc = append_header(out, name, type, help);
	if (!rc)
		rc = craft_buf_printf(out, "%s ", name);
	if (!rc)
		rc = append_value(out, value);
	if (!rc)
		rc = craft_buf_append(out, "\n", 1);
	return rc;
}

static int render_service_info(const craft_metrics *m, craft_buf *out)
{
	int rc = append_header(out, "craft_service_info", "gauge", "The service, always 1.");
	if (!rc)
		rc = craft_buf_append_str(out, "craft_service_info{service=\"");
	if (!rc)
		rc = append_label_value(out, m->service, strlen(m->service));
	if (!rc)
		rc = craft_buf_append_str(out, "\"} 1\n");
	return rc;
}

/* ---- process metrics (values that cannot be read are left out) ---- */

static bool read_statm(double *vsize, double *rss)
{
	FILE *f = fopen("/proc/self/statm", "re");
	if (!f)
		return false;
	unsigned long long size = 0, resident = 0;
	/* NOLINTNEXTLINE(cert-err34-c): numbers the kernel wrote */
	bool ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
	fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	if (!ok || page <= 0)
		return false;
	*vsize = (double)size * (double)page;
	*rss = (double)resident * (double)page;
	return true;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return NAN;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not counting the descriptor used to list them */
}

static int render_process(const craft_metrics *m, craft_buf *out)
{
	int rc = CRAFT_OK;
	double vsize, rss;
	double cpu = cpu_seconds();
	long fds = open_fds();
	struct rlimit lim;
	if (!isnan(cpu))
		rc = append_sample(out, "process_cpu_seconds_total", "counter",
				   "Total user and system CPU time spent in seconds.", cpu);
	if (!rc && read_statm(&vsize, &rss)) {
		rc = append_sample(out, "process_resident_memory_bytes", "gauge",
				   "Resident memory size in bytes.", rss);
		if (!rc)
			rc = append_sample(out, "process_virtual_memory_bytes", "gauge",
					   "Virtual memory size in bytes.", vsize);
	}
	if (!rc)
		rc = append_sample(out, "process_start_time_seconds", "gauge",
				   "Start time of the process since unix epoch in seconds.",
				   m->start_time);
	if (!rc && fds >= 0)
		rc = append_sample(out, "process_open_fds", "gauge",
				   "Number of open file descriptors.", (double)fds);
	if (!rc && getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
		rc =
		    append_sample(out, "process_max_fds", "gauge",
				  "Maximum number of open file descriptors.", (double)lim.rlim_cur);
	return rc;
}

int craft_metrics_render(craft_metrics *m, craft_buf *out)
{
	size_t start_len = out->len;
	int rc = render_requests(m, out);
	if (!rc)
		rc = render_custom(m, out);
	if (!rc)
		rc = render_service_info(m, out);
	if (!rc)
		rc = render_process(m, out);
	if (rc)
		craft_buf_truncate(out, start_len);
	return rc;
}
