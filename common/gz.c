/* gz.c: gzip compression in process, with zlib: what gzip -n writes (no
 * file name, time 0, Unix), as a stream read like any other */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ddb.h"

struct gz {
	FILE *in;
	int close_in;
	int end;		/* 1: in is read to its end, 2: trailer written */
	z_stream zs;
	unsigned char ibuf[1 << 16];
};

static ssize_t
gz_read(void *cookie, char *buf, size_t n)
{
	struct gz *g = cookie;
	int r;

	if (g->end == 2 || n == 0)
		return 0;
	if (n > UINT_MAX)
		n = UINT_MAX;
	g->zs.next_out = (unsigned char *)buf;
	g->zs.avail_out = (unsigned)n;
	while (g->zs.avail_out > 0) {
		if (g->zs.avail_in == 0 && g->end == 0) {
			size_t got = fread(g->ibuf, 1, sizeof g->ibuf, g->in);

			if (ferror(g->in))
				return -1;	/* errno: the read's */
			if (got < sizeof g->ibuf)
				g->end = 1;
			g->zs.next_in = g->ibuf;
			g->zs.avail_in = (unsigned)got;
		}
		r = deflate(&g->zs, g->end ? Z_FINISH : Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			g->end = 2;
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)(n - g->zs.avail_out);
}

static int
gz_close(void *cookie)
{
	struct gz *g = cookie;
	int rc = 0;

	deflateEnd(&g->zs);
	if (g->close_in && fclose(g->in) != 0)
		rc = -1;
	free(g);
	return rc;
}

/*
 * A stream of in's bytes, gzip-compressed as they are read (level 6, as
 * gzip's default); closing it closes in too if close_in.  NULL (errno
 * set) if it cannot be made.
 */
FILE *
ddb_gzip_open(FILE *in, int close_in)
{
	static const cookie_io_functions_t io = { gz_read, NULL, NULL,
	    gz_close };
	struct gz *g = calloc(1, sizeof *g);
	FILE *fp;

	if (g == NULL)
		return NULL;
	g->in = in;
	g->close_in = close_in;
	/* 15 + 16: a gzip wrapper; zlib's header is gzip -n's: no name,
	 * time 0, OS Unix */
	if (deflateInit2(&g->zs, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	if ((fp = fopencookie(g, "r", io)) == NULL) {
		deflateEnd(&g->zs);
		free(g);
	}
	return fp;
}
