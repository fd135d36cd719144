/* craft-healthcheck - probe the service in this container, for HEALTHCHECK.
 *
 *   craft-healthcheck [PATH]            (default /health)
 *   craft-healthcheck --pause SECONDS   (1 to 60)
 *
 * GETs http://127.0.0.1:$PORT/PATH with a 2 s deadline (connect 1 s) and
 * exits 0 when the answer is 200, 1 otherwise (any other status, no answer,
 * PORT unset or not a port, bad usage); the reason goes to stderr, which
 * Docker keeps in the container's health log. No proxy is ever used.
 *
 * --pause waits SECONDS and exits 0: the images hold no shell and no sleep,
 * and a Kubernetes preStop hook uses it to let the endpoint removal reach
 * every proxy before the service gets SIGTERM.
 */
#include <curl/curl.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEADLINE_MS  2000L
#define CONNECT_MS   1000L
#define PATH_MAX_LEN 512
#define URL_MAX      (PATH_MAX_LEN + 64)
#define PAUSE_MAX_S  60L

/* The body is not needed: take it and drop it. */
static size_t discard(char *data, size_t size, size_t count, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * count;
}

/* PORT as a TCP port number, or 0 when unset or malformed. */
static long port_from_env(void)
{
	const char *text = getenv("PORT");
	if (!text || !*text)
		return 0;
	char *end;
	errno = 0;
	long port = strtol(text, &end, 10);
	if (errno || *end != '\0' || port < 1 || port > 65535)
		return 0;
	return port;
}

/* A path we can put in a URL as it is: starts with '/', printable, no blanks. */
static bool plain_path(const char *path)
{
	if (path[0] != '/' || strlen(path) > PATH_MAX_LEN)
		return false;
	for (const char *p = path; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	}
	return true;
}

/* GET url; 0 when it answered 200, else 1 (reported). */
static int probe(const char *url)
{
	CURL *curl = curl_easy_init();
	if (!curl) {
		fprintf(stderr, "craft-healthcheck: libcurl cannot start\n");
		return 1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, DEADLINE_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "craft-healthcheck");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	int result = 1;
	CURLcode rc = curl_easy_perform(curl);
	long status = 0;
	if (rc != CURLE_OK) {
		fprintf(stderr, "craft-healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
	} else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
		   status != 200) {
		fprintf(stderr, "craft-healthcheck: %s answered %ld\n", url, status);
	} else {
		result = 0;
	}
	curl_easy_cleanup(curl);
	return result;
}

/* --pause SECONDS: sleep that long (whole seconds, 1..PAUSE_MAX_S); 0, else 1. */
static int pause_for(const char *text)
{
	char *end;
	errno = 0;
	long seconds = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || seconds < 1 || seconds > PAUSE_MAX_S) {
		fprintf(stderr, "craft-healthcheck: --pause takes whole seconds from 1 to %ld\n",
			PAUSE_MAX_S);
		return 1;
	}
	struct timespec left = {.tv_sec = seconds};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--pause") == 0)
		return pause_for(argv[2]);
	const char *path = argc == 2 ? argv[1] : "/health";
	if (argc > 2 || !plain_path(path)) {
		fprintf(stderr, "usage: craft-healthcheck [PATH]   (PATH starts with '/', "
				"default /health; the port is $PORT)\n"
				"       craft-healthcheck --pause SECONDS\n");
		return 1;
	}
	long port = port_from_env();
	if (!port) {
		fprintf(stderr, "craft-healthcheck: PORT must be set to the service's port\n");
		return 1;
	}
	char url[URL_MAX];
	snprintf(url, sizeof(url), "http://127.0.0.1:%ld%s", port, path);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "craft-healthcheck: libcurl cannot initialise\n");
		return 1;
	}
	int result = probe(url);
	curl_global_cleanup();
	return result;
}
