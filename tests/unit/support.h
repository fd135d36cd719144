/* support.h - small helpers shared by unit tests (included after cmocka.h):
 * a port nothing listens on, and the test stack's services from the
 * environment that scripts/test.sh sets. */
#ifndef CRAFT_TEST_SUPPORT_H
#define CRAFT_TEST_SUPPORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A port nothing listens on (bound on loopback, then closed). */
static inline unsigned support_closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* The test stack's Redis port (CRAFT_TEST_REDIS_PORT), or 0 when unset. */
static inline unsigned support_redis_port(void)
{
	const char *p = getenv("CRAFT_TEST_REDIS_PORT");
	long port = p && *p ? strtol(p, NULL, 10) : 0;
	return port > 0 && port < 65536 ? (unsigned)port : 0;
}

/* The test stack's database (CRAFT_TEST_DATABASE_URL), or NULL when unset. */
static inline const char *support_database_url(void)
{
	const char *url = getenv("CRAFT_TEST_DATABASE_URL");
	return url && *url ? url : NULL;
}

#endif
