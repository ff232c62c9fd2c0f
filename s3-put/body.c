/* body.c: reading the body (compressed, with -z), into a kept copy or a spool file */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3put.h"
#include "sigv4.h"

/* up to n bytes of the body; fewer only at its end; -1 on error */
ssize_t
body_read(struct body *b, char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, b->in);

	if (ferror(b->in)) {
		warn("%s", b->name);
		return -1;
	}
	if (got > 0 && b->teeing) {
		if (ddb_write_all(b->keepfd, buf, got) == -1) {
			warn("%s", b->part);
			return -1;
		}
		EVP_DigestUpdate(b->md, buf, got);
		b->kept_size += (off_t)got;
	}
	if (got < n)
		b->teeing = 0;	/* the copy is whole */
	b->size += (off_t)got;
	return (ssize_t)got;
}

/*
 * The copy is written to a private temp name (never uploaded by anything)
 * until it is whole; see keep_body.
 */
int
open_keep(struct body *b, const char *dir)
{
	char *path = xasprintf("%s/.s3-put.XXXXXX.part", dir);

	if ((b->keepfd = mkostemps(path, 5, O_CLOEXEC)) == -1) {
		warn("%s", dir);
		free(path);
		return -1;
	}
	if ((b->md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(b->md, EVP_sha256(), NULL))
		ddb_nomem();
	b->keepdir = xstrdup(dir);
	b->part = path;
	b->teeing = 1;
	return 0;
}

/* write a file whole under a temp name, then give it its name */
static int
write_atomic(const char *dir, const char *path, const char *s)
{
	char *tmp = xasprintf("%s/.s3-put.XXXXXX.part", dir);
	int fd = mkostemps(tmp, 5, O_CLOEXEC), rc = -1;

	if (fd != -1 && ddb_write_all(fd, s, strlen(s)) == 0 && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0 && ddb_sync_dir(dir) == 0)
			rc = 0;
	}
	if (rc == -1) {
		int e = errno;
		if (fd != -1)
			close(fd);
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

/*
 * A failed upload leaves the body, complete and verified, for a later
 * retry (s3-put -R): the rest of the input is read into the copy first,
 * which is synced and renamed to keep-dir/s3-put.XXXXXX; only then is its
 * sidecar written (atomically), with the URI, the size and the SHA-256.
 * 0 if kept; -1 (after a message) if not, the copy removed.
 */
int
keep_body(struct body *b, char *buf, const char *uri)
{
	unsigned char md[32];
	char sha[SIGV4_SHA256_HEX], *final = NULL, *side = NULL, *text;
	ssize_t n;
	int fd;

	if (b->part == NULL) {
		warnx("the body was not kept (no --keep-dir)");
		return -1;
	}
	while (b->teeing && (n = body_read(b, buf, b->bufsize)) > 0)
		;
	if (b->teeing) {
		warnx("the body was not kept: it could not be read to its end");
		goto fail;
	}
	EVP_DigestFinal_ex(b->md, md, NULL);
	ddb_hex(md, 32, sha);
	if (fsync(b->keepfd) == -1 || close(b->keepfd) == -1) {
		b->keepfd = -1;
		warn("%s", b->part);
		goto fail;
	}
	b->keepfd = -1;
	final = xasprintf("%s/s3-put.XXXXXX", b->keepdir);
	if ((fd = mkostemp(final, O_CLOEXEC)) == -1 || close(fd) == -1 ||
	    rename(b->part, final) == -1 || ddb_sync_dir(b->keepdir) == -1) {
		warn("%s", final);
		if (fd != -1)
			unlink(final);
		goto fail;
	}
	free(b->part);
	b->part = NULL;
	side = xasprintf("%s.uri", final);
	text = xasprintf("%s\nsize %lld\nsha256 %s\n", uri,
	    (long long)b->kept_size, sha);
	if (write_atomic(b->keepdir, side, text) == -1) {
		warn("%s", side);
		warnx("the body was not kept");
		unlink(final);
		free(text);
		free(side);
		free(final);
		return -1;
	}
	warnx("body kept in %s (URI in %s)", final, side);
	free(text);
	free(side);
	free(final);
	return 0;
fail:
	free(final);
	keep_discard(b);
	return -1;
}

/* the copy is not needed (uploaded, empty) or not whole: remove it */
void
keep_discard(struct body *b)
{
	if (b->keepfd >= 0)
		close(b->keepfd);
	b->keepfd = -1;
	b->teeing = 0;
	if (b->part) {
		unlink(b->part);
		free(b->part);
		b->part = NULL;
	}
	if (b->md)
		EVP_MD_CTX_free(b->md);
	b->md = NULL;
	free(b->keepdir);
	b->keepdir = NULL;
}

/*
 * Read the whole body into fd while hashing it, for {sha256}; then read
 * the body from there.  fd may be the kept copy's: it then fills as it is
 * read, and is whole after this.
 */
int
spool(struct body *b, int fd, char *buf, char sha[SIGV4_SHA256_HEX])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	ssize_t n;
	int own = !(b->teeing && fd == b->keepfd);

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = body_read(b, buf, b->bufsize)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (own && ddb_write_all(fd, buf, (size_t)n) == -1) {
			warn("spool file");
			n = -1;
			break;
		}
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	ddb_hex(md, 32, sha);
	if (n < 0)
		return -1;
	if (b->in != stdin)
		fclose(b->in);
	b->in = NULL;
	if (!own && (fd = dup(fd)) == -1) {
		warn("spool file");
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) == -1 || (b->in = fdopen(fd, "r")) == NULL) {
		warn("spool file");
		return -1;
	}
	b->size = 0;
	return 0;
}
