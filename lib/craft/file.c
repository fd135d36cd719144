#include "file.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int craft_file_read(int dir_fd, const char *path, size_t max, char **data, size_t *len)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CRAFT_EIO;
	char *buf = craft_xmalloc(max + 2);
	size_t used = 0;
	int rc = CRAFT_OK;
	while (used <= max) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = CRAFT_EIO;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	if (rc == CRAFT_OK && used > max)
		rc = CRAFT_ETOOBIG;
	if (rc != CRAFT_OK) {
		free(buf);
		return rc;
	}
	buf[used] = '\0';
	*data = craft_xrealloc(buf, used + 1);
	*len = used;
	return CRAFT_OK;
}
