/* bcrypt.c - ceiling-bcrypt: how many bcrypt password checks one core does per
 * second at a given cost, the way auth checks a login (crypt_rn of the password
 * against a stored $2b$ hash). Prints one line:
 *
 *   cost=<cost> hashes=<n> seconds=<s> rate=<hashes per second>
 *
 *   ceiling-bcrypt [COST [SECONDS]]   (or $BCRYPT_COST; defaults 12 and 5)
 *
 * The login ceiling is this rate times the number of cores.
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COST_MIN    4
#define COST_MAX    31
#define SECONDS_MAX 600
#define MIN_HASHES  2

static const char PASSWORD[] = "bench-password-1";

static long parse_long(const char *text, long lo, long hi, const char *what)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi) {
		fprintf(stderr, "ceiling-bcrypt: %s must be %ld..%ld (got %s)\n", what, lo, hi,
			text);
		exit(2);
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Check PASSWORD against `stored` for at least `seconds` and MIN_HASHES runs;
 * the number of runs in *count and the time taken in *took. 0, or -1 when
 * crypt_rn fails. */
static int measure(const char *stored, double seconds, long *count, double *took)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	int result = -1;
	if (!data) {
		fprintf(stderr, "ceiling-bcrypt: out of memory\n");
		return -1;
	}
	double start = now_s();
	long n = 0;
	do {
		const char *h = crypt_rn(PASSWORD, stored, data, (int)sizeof(*data));
		if (!h || strcmp(h, stored) != 0) {
			fprintf(stderr, "ceiling-bcrypt: crypt_rn failed\n");
			goto out;
		}
		n++;
	} while (n < MIN_HASHES || now_s() - start < seconds);
	*took = now_s() - start;
	*count = n;
	result = 0;
out:
	free(data);
	return result;
}

int main(int argc, char **argv)
{
	const char *cost_text = argc > 1 ? argv[1] : getenv("BCRYPT_COST");
	long cost =
	    parse_long(cost_text && cost_text[0] ? cost_text : "12", COST_MIN, COST_MAX, "COST");
	long seconds = parse_long(argc > 2 ? argv[2] : "5", 1, SECONDS_MAX, "SECONDS");
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof(setting))) {
		fprintf(stderr, "ceiling-bcrypt: crypt_gensalt_rn failed\n");
		return EXIT_FAILURE;
	}
	struct crypt_data *data = calloc(1, sizeof(*data));
	if (!data)
		return EXIT_FAILURE;
	const char *hash = crypt_rn(PASSWORD, setting, data, (int)sizeof(*data));
	char stored[CRYPT_OUTPUT_SIZE];
	int ok = hash && hash[0] != '*' && snprintf(stored, sizeof(stored), "%s", hash) > 0;
	free(data);
	if (!ok) {
		fprintf(stderr, "ceiling-bcrypt: cannot hash at cost %ld\n", cost);
		return EXIT_FAILURE;
	}
	long count = 0;
	double took = 0;
	if (measure(stored, (double)seconds, &count, &took) != 0)
		return EXIT_FAILURE;
	printf("cost=%ld hashes=%ld seconds=%.3f rate=%.3f\n", cost, count, took,
	       (double)count / took);
	return EXIT_SUCCESS;
}
