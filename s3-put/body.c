/* body.c: reading the body, through gzip, into a kept copy or a spool file */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3put.h"
#include "sigv4.h"

static int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* gzip -n as a child, reading fd, with no environment of ours */
FILE *
spawn_gzip(int fd, pid_t *pid)
{
	static char *const argv[] = { "gzip", "-n", "-c", NULL };
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	int p[2];

	if (pipe(p) == -1 || (*pid = fork()) == -1) {
		fprintf(stderr, "s3-put: gzip: %s\n", strerror(errno));
		return NULL;
	}
	if (*pid == 0) {
		if (dup2(fd, 0) == -1 || dup2(p[1], 1) == -1)
			_exit(126);
		close(p[0]);
		close(p[1]);
		execve("/bin/gzip", argv, envp);
		fprintf(stderr, "s3-put: /bin/gzip: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	return fdopen(p[0], "r");
}

/* at the end of the body: did gzip, if any, succeed? */
int
gzip_done(struct body *b)
{
	int st = 0;

	if (b->gzip <= 0)
		return 0;
	while (waitpid(b->gzip, &st, 0) == -1 && errno == EINTR)
		;
	b->gzip = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "s3-put: gzip failed\n");
		return -1;
	}
	return 0;
}

/* up to n bytes of the body; fewer only at its end; -1 on error */
ssize_t
body_read(struct body *b, char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, b->in);

	if (ferror(b->in)) {
		fprintf(stderr, "s3-put: %s: %s\n", b->name, strerror(errno));
		return -1;
	}
	if (got < n && gzip_done(b) == -1)
		return -1;
	if (got > 0 && b->tee >= 0 && write_all(b->tee, buf, got) == -1) {
		fprintf(stderr, "s3-put: %s: %s\n", b->keep, strerror(errno));
		return -1;
	}
	b->size += (off_t)got;
	return (ssize_t)got;
}

/* a failed upload leaves the body, and the URI it was for, on disk */
void
keep_body(struct body *b, char *buf, int rc)
{
	ssize_t n;

	if (b->keep == NULL) {
		fprintf(stderr, "s3-put: the body was not kept "
		    "(no --keep-dir)\n");
		return;
	}
	if (b->tee >= 0) {
		while (rc != DDB_EXIT_IO &&
		    (n = body_read(b, buf, b->bufsize)) > 0)
			;
		if (fsync(b->tee) == -1 || close(b->tee) == -1)
			fprintf(stderr, "s3-put: %s: %s\n", b->keep,
			    strerror(errno));
		b->tee = -1;
	}
	fprintf(stderr, "s3-put: body kept in %s (URI in %s)\n", b->keep,
	    b->side);
}

int
open_keep(struct body *b, const char *dir)
{
	char *path = xasprintf("%s/s3-put.XXXXXX", dir);

	if ((b->tee = mkstemp(path)) == -1) {
		fprintf(stderr, "s3-put: %s: %s\n", dir, strerror(errno));
		free(path);
		return -1;
	}
	b->keep = path;
	b->side = xasprintf("%s.uri", path);
	return 0;
}

int
write_sidecar(struct body *b, const char *uri)
{
	int fd = open(b->side, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || write_all(fd, uri, strlen(uri)) == -1 ||
	    write_all(fd, "\n", 1) == -1 || close(fd) == -1) {
		fprintf(stderr, "s3-put: %s: %s\n", b->side, strerror(errno));
		return -1;
	}
	return 0;
}

/* read the whole body into fd while hashing it, for {sha256} */
int
spool(struct body *b, int fd, char *buf, char sha[SIGV4_SHA256_HEX])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	ssize_t n;
	int tee = b->tee;

	b->tee = -1;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = body_read(b, buf, b->bufsize)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (write_all(fd, buf, (size_t)n) == -1) {
			fprintf(stderr, "s3-put: spool file: %s\n",
			    strerror(errno));
			n = -1;
			break;
		}
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	sigv4_hex(md, 32, sha);
	b->tee = tee;
	if (n < 0)
		return -1;
	if (b->in != stdin)
		fclose(b->in);
	if (lseek(fd, 0, SEEK_SET) == -1 || (b->in = fdopen(fd, "r")) == NULL) {
		fprintf(stderr, "s3-put: spool file: %s\n", strerror(errno));
		return -1;
	}
	b->size = 0;
	return 0;
}
