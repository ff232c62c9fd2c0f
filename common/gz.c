/* gz.c: gzip in process, with zlib: compression (what gzip -n writes: no
 * file name, time 0, Unix) as a stream read like any other, and the
 * reader's gzip input inflated in front of it */
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
	struct gz *g = xcalloc(1, sizeof *g);
	FILE *fp;

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

/* gzip input: one member after another (gzip -c a b), nothing after them */
struct ddb_gunzip {
	z_stream z;
	int zend;		/* the member being read has ended */
	unsigned char raw[1 << 16];
};

/* NULL if zlib cannot start */
struct ddb_gunzip *
ddb_gunzip_new(const void *head, size_t n)
{
	struct ddb_gunzip *g = xcalloc(1, sizeof *g);

	if (n > sizeof g->raw)
		n = sizeof g->raw;
	memcpy(g->raw, head, n);
	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		return NULL;
	}
	g->z.next_in = g->raw;
	g->z.avail_in = (uInt)n;
	return g;
}

void
ddb_gunzip_free(struct ddb_gunzip *g)
{
	if (g == NULL)
		return;
	inflateEnd(&g->z);
	free(g);
}

long
ddb_gunzip_read(struct ddb_gunzip *g, FILE *fp, char *buf, size_t cap,
    const char **why)
{
	size_t got = 0;
	int zr;

	*why = NULL;
	if (cap > UINT_MAX)
		cap = UINT_MAX;
	while (got == 0) {
		if (g->z.avail_in == 0) {
			size_t n = fread(g->raw, 1, sizeof g->raw, fp);
			if (n == 0) {
				if (ferror(fp))
					return -1;
				if (!g->zend) {
					*why = "gzip input ends inside a member "
					    "(truncated)";
					return -1;
				}
				return 0;
			}
			g->z.next_in = g->raw;
			g->z.avail_in = (uInt)n;
		}
		if (g->zend) {
			/* another member follows, or nothing may */
			if (g->z.avail_in >= 1 && g->z.next_in[0] != 0x1f) {
				*why = "gzip input has bytes after its last "
				    "member";
				return -1;
			}
			if (inflateReset(&g->z) != Z_OK) {
				*why = "gzip: cannot restart";
				return -1;
			}
			g->zend = 0;
		}
		g->z.next_out = (unsigned char *)buf;
		g->z.avail_out = (uInt)cap;
		zr = inflate(&g->z, Z_NO_FLUSH);
		got = cap - g->z.avail_out;
		if (zr == Z_STREAM_END)
			g->zend = 1;
		else if (zr == Z_MEM_ERROR) {
			*why = "out of memory";
			return -1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			*why = "gzip data is corrupt";
			return -1;
		}
	}
	return (long)got;
}
