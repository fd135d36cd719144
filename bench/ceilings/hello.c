/* hello.c - ceiling-hello: a fixed small JSON body, no work per request.
 *
 *   ceiling-hello [PORT]      (or $PORT)
 */
#include "ceiling.h"

#include <stdlib.h>

static const char BODY[] = "{\"message\":\"hello\",\"service\":\"ceiling\"}";

static enum MHD_Result hello(void *ctx, struct MHD_Connection *conn)
{
	(void)ctx;
	return ceiling_reply(conn, MHD_HTTP_OK, BODY, sizeof(BODY) - 1);
}

int main(int argc, char **argv)
{
	unsigned port = ceiling_parse_port(ceiling_arg(argc, argv, 1, "PORT", NULL), "PORT");
	int status = ceiling_serve("ceiling-hello", port, hello, NULL);
	return status == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
