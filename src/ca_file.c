/*
 * ca_file: the files of the ca module. Every file is written as FILE.tmp,
 * synced and renamed, and the directory synced, so a crash leaves the old
 * file or the new one, never half of one. Files are read whole, bounded,
 * into buffers sized once (a key is never left behind by a realloc). The
 * system trust store that bundle.pem and truststore.jks are made from is
 * found here too.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ca_local.h"
#include "log.h"
#include "xmalloc.h"

#define CA_STORE_FILE_MAX	(16 * 1024 * 1024)

/* Where systems keep their trust store, most common first. */
static const char *const ca_system_stores[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Arch */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/ssl/cert.pem",			/* macOS, OpenBSD, Alpine */
};

/*
 * Read the regular file open on fd (at most max bytes) into a new
 * NUL-terminated buffer. The buffer is sized once from fstat, so a key is
 * never left behind in memory by a realloc.
 */
int
ca_read_fd(int fd, const char *path, size_t max, char **data, size_t *len,
    char **cause)
{
	struct stat	 st;
	char		*buf;
	size_t		 size, off = 0;
	ssize_t		 n;

	*data = NULL;
	*len = 0;
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s is not a regular file", path);
		return -1;
	}
	if ((uintmax_t)st.st_size > max) {
		*cause = xasprintf("%s is too large (%jd bytes, at most %zu)",
		    path, (intmax_t)st.st_size, max);
		return -1;
	}
	size = (size_t)st.st_size;
	buf = xmalloc(size + 1);
	while (off < size) {
		n = read(fd, buf + off, size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("cannot read %s: %s", path,
			    strerror(errno));
			OPENSSL_cleanse(buf, size + 1);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

/* The path of the temporary file that becomes path (caller frees). */
static char *
ca_tmp_path(const char *path)
{
	return xasprintf("%s.tmp", path);
}

/*
 * Write data to path.tmp with exactly mode (O_EXCL, then fchmod: the umask
 * has no say) and sync it; ca_commit renames it over path.
 */
int
ca_write_tmp(const char *path, const void *data, size_t len, mode_t mode,
    char **cause)
{
	const char	*p = data;
	char		*tmp;
	ssize_t		 n;
	int		 fd, rc = -1;

	tmp = ca_tmp_path(path);
	/* A crash may have left one; the directory is ours and locked. */
	if (unlink(tmp) == -1 && errno != ENOENT) {
		*cause = xasprintf("cannot remove %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1) {
		*cause = xasprintf("cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto out;
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto out;
	rc = 0;

out:
	if (rc == -1)
		*cause = xasprintf("cannot write %s: %s", tmp,
		    strerror(errno));
	if (close(fd) == -1 && rc == 0) {
		*cause = xasprintf("cannot write %s: %s", tmp,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Rename path.tmp over path. */
int
ca_commit(const char *path, char **cause)
{
	char	*tmp;
	int	 rc = 0;

	tmp = ca_tmp_path(path);
	if (rename(tmp, path) == -1) {
		*cause = xasprintf("cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		rc = -1;
	}
	free(tmp);
	return rc;
}

/* Sync the directory so that renames in it survive a crash. */
void
ca_sync_dir(const char *dir)
{
	int	fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fsync(fd) == -1)
		log_debug("fsync %s: %s", dir, strerror(errno));
	close(fd);
}

/* Write data to path atomically with mode. */
int
ca_write_file(const char *dir, const char *path, const void *data,
    size_t len, mode_t mode, char **cause)
{
	if (ca_write_tmp(path, data, len, mode, cause) == -1 ||
	    ca_commit(path, cause) == -1)
		return -1;
	ca_sync_dir(dir);
	return 0;
}

/* Remove path.tmp, if any. */
void
ca_unlink_tmp(const char *path)
{
	char	*tmp;

	tmp = ca_tmp_path(path);
	unlink(tmp);
	free(tmp);
}

/* Read the first system trust store found. */
const char *
ca_system_store(char **data, size_t *len)
{
	char	*cause = NULL;
	size_t	 i;
	int	 fd, r;

	*data = NULL;
	*len = 0;
	for (i = 0; i < CA_NITEMS(ca_system_stores); i++) {
		fd = open(ca_system_stores[i], O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			continue;
		r = ca_read_fd(fd, ca_system_stores[i], CA_STORE_FILE_MAX,
		    data, len, &cause);
		close(fd);
		if (r == 0)
			return ca_system_stores[i];
		log_warnx("skipping trust store: %s", cause);
		free(cause);
		cause = NULL;
	}
	return NULL;
}
