/* file.h - read a whole small file, bounded. */
#ifndef CRAFT_FILE_H
#define CRAFT_FILE_H

#include <stddef.h>

/* Read the file `path` (relative to the directory open as dir_fd, or to the
 * working directory with AT_FDCWD) into a malloc'd buffer with a NUL after
 * its `*len` bytes. Returns 0; CRAFT_EIO when it cannot be opened or read
 * (errno tells why); CRAFT_ETOOBIG when it holds more than `max` bytes.
 * *data is set only on success; free it with free(). */
int craft_file_read(int dir_fd, const char *path, size_t max, char **data, size_t *len);

#endif
