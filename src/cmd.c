/*
 * cmd: what the command files share: the usage-error line, reading a
 * whole file (a cassette) into memory, and replacing one crash-safely.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "xmalloc.h"

#define CMD_MAX_FILE	((size_t)4 << 30)	/* 4 GiB */

/* One line on stderr naming the cause; return 2. */
int
cmd_usage_error(const char *cmd, const char *cause)
{
	fprintf(stderr, "patchscope: %s (see 'patchscope %s%s--help')\n",
	    cause, cmd != NULL ? cmd : "", cmd != NULL ? " " : "");
	return 2;
}

/* Map (or read) a whole file; -1 with *cause set. */
int
cmd_file_open(const char *path, struct cmd_file *f, char **cause)
{
	struct stat	 st;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	memset(f, 0, sizeof *f);
	f->data = "";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0) {
		*cause = xasprintf("cannot read %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CMD_MAX_FILE) {
		*cause = xasprintf("%s is larger than 4 GiB", path);
		close(fd);
		return -1;
	}
	/* Mapped, the file costs no copy (a 200 MB cassette, 200 MB less). */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		f->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (f->map != MAP_FAILED) {
			f->data = f->map;
			f->len = (size_t)st.st_size;
			close(fd);
			return 0;
		}
		f->map = NULL;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || f->copy.len + (size_t)n > CMD_MAX_FILE) {
			*cause = n < 0 ? xasprintf("cannot read %s: %s", path,
			    strerror(errno)) : xasprintf("%s is larger than 4 "
			    "GiB", path);
			buf_free(&f->copy);
			close(fd);
			return -1;
		}
		buf_add(&f->copy, chunk, (size_t)n);
	}
	close(fd);
	f->data = f->copy.data != NULL ? f->copy.data : "";
	f->len = f->copy.len;
	return 0;
}

/* Release a file opened by cmd_file_open; safe on a zeroed one. */
void
cmd_file_close(struct cmd_file *f)
{
	if (f->map != NULL)
		munmap(f->map, f->len);
	buf_free(&f->copy);
	memset(f, 0, sizeof *f);
}

/* Write all of len bytes to fd; -1 with errno set. */
static int
cmd_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
cmd_file_replace(const char *target, const char *shown, const char *tag,
    mode_t mode, const char *data, size_t len, char **cause)
{
	char	*dir_copy = xstrdup(target), *base_copy = xstrdup(target);
	char	*dir = dirname(dir_copy), *tmp;
	int	 fd, rc = -1;

	tmp = xasprintf("%s/.%s.%s-XXXXXX", dir, basename(base_copy), tag);
	fd = mkstemp(tmp);
	if (fd == -1) {
		*cause = xasprintf("cannot write %s: %s", shown,
		    strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || cmd_write_all(fd, data != NULL ? data :
	    "", len) != 0 || fsync(fd) != 0) {
		*cause = xasprintf("cannot write %s: %s", shown,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, target) != 0) {
		*cause = xasprintf("cannot write %s: %s", shown,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	free(tmp);
	free(dir_copy);
	free(base_copy);
	return rc;
}
