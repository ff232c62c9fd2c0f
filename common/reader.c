/* reader.c: split a byte stream into JSON values and parse each losslessly */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <zlib.h>

#include "ddb.h"
#include "simd.h"

struct ddb_reader {
	FILE *fp;
	int own;
	const char *name;
	int depth, flags;
	char *in;		/* inbuf, or the file's mapping */
	char inbuf[65536];
	size_t inpos, inend;
	int eof;
	long line;		/* line of in[inpos] */
	struct ddb_buf val;	/* raw text of the value being read, NUL after */
	const char *vp;		/* the value's text: val.p, or in the mapping */
	size_t vn;
	/* a regular file is read through a mapping from its first event on */
	int mapok;		/* a regular file that can be mapped */
	size_t maplen, mapfree;	/* its size; pages below mapfree given back */
	/*
	 * DDB_READ_SPEC: a mapped event's records parsed where they lie, one
	 * by one, without a scan of the whole event first.  While all of it
	 * is sound JSON of the usual shape, what comes out is what the scan
	 * and split would give; at the first doubt, it is read again from its
	 * start the usual way (nothing of it has been said yet).
	 */
	int specev;		/* the event being read is read so */
	int speclast;		/* the record returned is its last */
	int nospec;		/* the event at in[inpos] is read the usual way */
	size_t evstart, specpos;	/* the event's offset; the next record's */
	long evline;		/* the event's line */
	long vline;		/* line the value starts on */
	struct ddb_arena arena;	/* the value returned, and what tools add */
	struct ddb_json_stack st;
	struct jv v;
	/* DDB_READ_SPLIT: the records of the event in val, one at a time */
	struct part {
		size_t off, len;	/* in evtext */
	} *parts;
	size_t nparts, capparts, nextpart;
	char *evtext, *evconv;	/* evtext is val, or evconv from Python repr */
	long part;		/* index of the record returned, or -1 */
	/* gzip input (found by its magic bytes): raw bytes inflated into in */
	int gz;			/* 0 not yet known, 1 plain, 2 gzip */
	z_stream z;
	int zend;		/* the member being read has ended */
	unsigned char *raw;
	size_t rawcap;
	/* ddb_reader_take */
	size_t (*take)(void *, const char *, size_t);
	void *takectx;
};

/* what a scan learned about a value's text */
#define DDB_SCAN_STACK 256

struct scan {
	int py;			/* looks like Python repr */
};

struct ddb_reader *
ddb_reader_open(const char *path, int depth, int flags)
{
	struct ddb_reader *r = ddb_reallocarray(NULL, 1, sizeof *r);
	struct stat st;

	memset(r, 0, sizeof *r);
	if (path == NULL || strcmp(path, "-") == 0) {
		r->fp = stdin;
		r->name = "<stdin>";
	} else {
		r->fp = fopen(path, "rb");
		r->own = 1;
		r->name = path;
		if (r->fp == NULL) {
			int e = errno;
			free(r);
			errno = e;
			return NULL;
		}
	}
	/*
	 * a file's size is about the largest value it can hold: that size,
	 * once (ddb_buf's power-of-two growth made a 15 MB event cost 1367
	 * page faults instead of 617)
	 */
	r->in = r->inbuf;
	if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && (flags & DDB_READ_SPLIT) &&
	    (unsigned long long)st.st_size <= SIZE_MAX / 2)
		r->mapok = 1;
	else if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0) {
		r->val.cap = st.st_size < (1 << 26) ? (size_t)st.st_size + 1 :
		    (size_t)1 << 26;
		r->val.p = ddb_reallocarray(NULL, r->val.cap, 1);
		ddb_hugepages(r->val.p, r->val.cap);
	}
	r->depth = depth;
	r->flags = flags;
	r->part = -1;
	r->line = 1;
	return r;
}

int
ddb_reader_close(struct ddb_reader *r)
{
	int rc = 0;

	if (r == NULL)
		return 0;
	if (r->own && r->fp != NULL)
		rc = fclose(r->fp);
	if (r->gz == 2)
		inflateEnd(&r->z);
	if (r->in != r->inbuf)
		munmap(r->in, r->maplen);
	free(r->raw);
	ddb_arena_free(&r->arena);
	ddb_json_stack_free(&r->st);
	free(r->val.p);
	free(r->parts);
	free(r->evconv);
	free(r);
	return rc;
}

struct ddb_arena *
ddb_reader_arena(struct ddb_reader *r)
{
	return &r->arena;
}

const char *
ddb_reader_name(const struct ddb_reader *r)
{
	return r->name;
}

void
ddb_reader_take(struct ddb_reader *r,
    size_t (*fn)(void *ctx, const char *s, size_t n), void *ctx)
{
	r->take = fn;
	r->takectx = ctx;
}

long
ddb_reader_line(const struct ddb_reader *r)
{
	return r->vline;
}

long
ddb_reader_part(const struct ddb_reader *r)
{
	return r->part;
}

/* the bytes of the value last read: with DDB_READ_SPLIT, the whole event */
size_t
ddb_reader_size(const struct ddb_reader *r)
{
	return r->vn;
}

int
ddb_reader_part_last(const struct ddb_reader *r)
{
	return r->part >= 0 && (r->speclast ||
	    (size_t)r->part + 1 == r->nparts);
}

/* DDB_READ_SPEC: nonzero if the event of the record returned is not yet
   known to be sound */
int
ddb_reader_unchecked(const struct ddb_reader *r)
{
	return r->specev;
}

/*
 * DDB_READ_SPEC: the event of the record returned is to be read again from
 * its start the usual way (its records again from part 0, or the event
 * refused whole).  The caller forgets what it did with the event's records
 * so far, and has said nothing of them.
 */
void
ddb_reader_recheck(struct ddb_reader *r)
{
	if (!r->specev)
		return;
	r->specev = r->speclast = 0;
	r->nospec = 1;
	r->inpos = r->evstart;
	r->line = r->evline;
	r->part = -1;
}

/* after -2 from ddb_reader_next: nonzero if reading failed (exit 3, not 1) */
int
ddb_reader_ioerror(const struct ddb_reader *r)
{
	return ferror(r->fp) != 0;
}

/* a byte a string's scan can pass over: not a quote, backslash or control */
static inline int
plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\'' && c != '\\';
}

/* the bytes scan_value looks at inside a container, outside strings */
static const unsigned char scan_stop[256] = {
	['\0'] = 1, ['\n'] = 1, ['"'] = 1, ['\''] = 1, ['{'] = 1, ['['] = 1,
	['}'] = 1, [']'] = 1, ['T'] = 1, ['F'] = 1, ['N'] = 1
};

/* -1 and a message: gzip input that cannot go on */
static int
gz_bad(struct ddb_reader *r, const char *what)
{
	r->eof = 1;
	r->inpos = r->inend = 0;
	ddb_errat(r->name, r->line, "%s", what);
	return -1;
}

/* raw gzip bytes in: as many inflated bytes as there are into r->in */
static int
gz_fill(struct ddb_reader *r)
{
	int zr;

	r->inpos = r->inend = 0;
	while (r->inend == 0) {
		if (r->z.avail_in == 0) {
			size_t n = fread(r->raw, 1, r->rawcap, r->fp);
			if (n == 0) {
				if (ferror(r->fp)) {
					r->eof = 1;
					ddb_errat(r->name, r->line,
					    "read error: %s", strerror(errno));
					return -1;
				}
				r->eof = 1;
				if (!r->zend)
					return gz_bad(r, "gzip input ends inside "
					    "a member (truncated)");
				return 0;
			}
			r->z.next_in = r->raw;
			r->z.avail_in = (uInt)n;
		}
		if (r->zend) {
			/* another member follows (gzip -c a b), or nothing may */
			if (r->z.avail_in >= 1 && r->z.next_in[0] != 0x1f)
				return gz_bad(r, "gzip input has bytes after "
				    "its last member");
			if (inflateReset(&r->z) != Z_OK)
				return gz_bad(r, "gzip: cannot restart");
			r->zend = 0;
		}
		r->z.next_out = (unsigned char *)r->in;
		r->z.avail_out = sizeof r->inbuf;
		zr = inflate(&r->z, Z_NO_FLUSH);
		r->inend = sizeof r->inbuf - r->z.avail_out;
		if (zr == Z_STREAM_END)
			r->zend = 1;
		else if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT)
			return gz_bad(r, "gzip data is corrupt");
		else if (zr == Z_MEM_ERROR)
			return gz_bad(r, "out of memory");
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return gz_bad(r, "gzip data is corrupt");
	}
	return 1;
}

/* the first bytes read: gzip's magic makes the rest go through zlib */
static int
gz_detect(struct ddb_reader *r)
{
	r->gz = 1;
	if (r->inend < 2 || (unsigned char)r->in[0] != 0x1f ||
	    (unsigned char)r->in[1] != 0x8b)
		return 1;
	r->rawcap = sizeof r->inbuf;
	if ((r->raw = malloc(r->rawcap)) == NULL)
		return gz_bad(r, "out of memory");
	memcpy(r->raw, r->in, r->inend);
	memset(&r->z, 0, sizeof r->z);
	if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
		free(r->raw);
		r->raw = NULL;
		return gz_bad(r, "gzip: zlib cannot start");
	}
	r->gz = 2;
	r->z.next_in = r->raw;
	r->z.avail_in = (uInt)r->inend;
	return gz_fill(r);
}

/* the mapping's next window: the bytes a scan may look at without a fault */
#define DDB_MAP_WINDOW ((size_t)4 << 20)

/* 1: more input in r->in; 0: end of input; -1: read error or bad gzip */
static int
fill(struct ddb_reader *r)
{
	if (r->inpos < r->inend)
		return 1;
	if (r->in != r->inbuf) {
		size_t from = r->inend & ~(size_t)4095;
		if (r->inend == r->maplen)
			return 0;
		r->inend = r->maplen - r->inend > DDB_MAP_WINDOW ?
		    r->inend + DDB_MAP_WINDOW : r->maplen;
#ifdef MADV_POPULATE_READ
		(void)madvise(r->in + from, r->inend - from,
		    MADV_POPULATE_READ);
#endif
		return 1;
	}
	if (r->eof)
		return 0;
	if (r->gz == 2)
		return gz_fill(r);
	r->inpos = 0;
	r->inend = fread(r->in, 1, sizeof r->inbuf, r->fp);
	if (r->inend == 0) {
		r->eof = 1;
		if (ferror(r->fp)) {
			ddb_errat(r->name, r->line, "read error: %s",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (r->gz == 0) {
		/* a short first read of a pipe could split the magic */
		if (r->inend == 1 && !feof(r->fp)) {
			size_t m = fread(r->in + 1, 1, sizeof r->inbuf - 1,
			    r->fp);
			r->inend += m;
		}
		return gz_detect(r);
	}
	return 1;
}

static size_t skip_ws(const char *s, size_t n, size_t i);

/* s[0..n) starts {"Records" (a stream of records is never mapped) */
static int
is_event(const char *s, size_t n)
{
	size_t i = skip_ws(s, n, 1);

	return n - i >= 9 && memcmp(s + i, "\"Records\"", 9) == 0;
}

/*
 * From here on, read a regular file through a mapping of it (no copy of an
 * event into val, no fresh pages for it): r->in[r->inpos] stays the same
 * byte.  Nothing changes if the file cannot be mapped.
 */
static void
map_file(struct ddb_reader *r)
{
	struct stat st;
	off_t pos;
	void *p;

	r->mapok = 0;
	if (r->gz != 1 || fstat(fileno(r->fp), &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (pos = ftello(r->fp)) < 0 || pos > st.st_size ||
	    (size_t)pos < r->inend - r->inpos)
		return;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE, fileno(r->fp), 0);
	if (p == MAP_FAILED)
		return;
	r->in = p;
	r->maplen = (size_t)st.st_size;
	r->inpos = r->inend = (size_t)pos - (r->inend - r->inpos);
	r->mapfree = r->inpos & ~(size_t)4095;
	r->eof = 1;
	(void)fill(r);
}

/* a mapped file's pages before the value that starts at r->in[r->inpos] */
static void
map_release(struct ddb_reader *r)
{
	size_t to = r->inpos & ~(size_t)4095;

	if (r->in != r->inbuf && to - r->mapfree >= DDB_MAP_WINDOW) {
		(void)madvise(r->in + r->mapfree, to - r->mapfree,
		    MADV_DONTNEED);
		r->mapfree = to;
	}
}

static void
append(struct ddb_reader *r, const char *p, size_t n)
{
	if (r->in != r->inbuf) {
		/* the mapping holds the value whole, where it lies */
		if (r->vn == 0)
			r->vp = p;
		r->vn += n;
		return;
	}
	ddb_buf_reserve(&r->val, n + 1);
	ddb_buf_put(&r->val, p, n);
	r->val.p[r->val.n] = '\0';
	r->vp = r->val.p;
	r->vn = r->val.n;
}

static long
line_at(const struct ddb_reader *r, size_t off)
{
	long line = r->vline;
	size_t i;

	for (i = 0; i < off && i < r->vn; i++)
		if (r->vp[i] == '\n')
			line++;
	return line;
}

/* past blanks at r->in[r->inpos], counting lines; 0 at the buffer's end */
static int
skip_blank(struct ddb_reader *r)
{
	int c;

	while (r->inpos < r->inend) {
		c = (unsigned char)r->in[r->inpos];
		if (c == '\n')
			r->line++;
		else if (c != ' ' && c != '\t' && c != '\r')
			return 1;
		r->inpos++;
	}
	return 0;
}

static size_t skip_ws(const char *s, size_t n, size_t i);

/*
 * DDB_READ_SPEC: the mapped value at in[inpos] starts {"Records":[{ ...: 1
 * and its first record is at specpos.  Anything else is read as always.
 */
static int
spec_begin(struct ddb_reader *r)
{
	const char *s = r->in;
	size_t n = r->maplen, i;

	if (!(r->flags & DDB_READ_SPEC) || r->in == r->inbuf || r->depth < 3)
		return 0;
	i = skip_ws(s, n, r->inpos + 1);
	if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) != 0)
		return 0;
	i = skip_ws(s, n, i + 9);
	if (i >= n || s[i] != ':')
		return 0;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return 0;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '{')
		return 0;
	r->evstart = r->inpos;
	r->evline = r->line;
	r->specpos = i;
	r->vn = n - r->inpos;	/* at most */
	r->specev = 1;
	r->speclast = 0;
	r->nparts = r->nextpart = 0;
	return 1;
}

/* the newlines in s[0..n) */
static long
newlines(const char *s, size_t n)
{
	const char *q, *end = s + n;
	long k = 0;

	for (q = s; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		k++;
	return k;
}

/*
 * DDB_READ_SPEC: the next record of the event, parsed where it lies.  1 and
 * *out; 0 if the event is to be read again the usual way (ddb_reader_recheck
 * done): a record that is no sound JSON object, nesting that the event's
 * own two levels make too deep, or anything but white space, commas and
 * the closing ]} between and after them.
 */
static int
spec_next(struct ddb_reader *r, struct jv **out)
{
	const char *s = r->in;
	size_t n = r->maplen, i = r->specpos, used, j;
	long nl;

	/* the bytes ahead are mapped in; those well behind are given back */
	if (r->inend < n && i + DDB_MAP_WINDOW / 2 > r->inend) {
		size_t from = r->inend & ~(size_t)4095;
		r->inend = n - i > DDB_MAP_WINDOW ? i + DDB_MAP_WINDOW : n;
#ifdef MADV_POPULATE_READ
		(void)madvise(r->in + from, r->inend - from,
		    MADV_POPULATE_READ);
#endif
	}
	if ((i & ~(size_t)4095) - r->mapfree >= DDB_MAP_WINDOW) {
		(void)madvise(r->in + r->mapfree, (i & ~(size_t)4095) -
		    r->mapfree, MADV_DONTNEED);
		r->mapfree = i & ~(size_t)4095;
	}
	if (i >= n || s[i] != '{')
		goto again;
	ddb_arena_reset(&r->arena);
	if (ddb_json_parse_prefix(&r->arena, &r->st, s + i, n - i,
	    r->depth - 2, &r->v, &used) != 0)
		goto again;
	j = i + used;
	nl = newlines(s + i, used);
	for (; j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' ||
	    s[j] == '\r'); j++)
		nl += s[j] == '\n';
	if (j < n && s[j] == ',') {
		for (j++; j < n && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\n' || s[j] == '\r'); j++)
			nl += s[j] == '\n';
		r->specpos = j;
	} else if (j < n && s[j] == ']') {
		for (j++; j < n && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\n' || s[j] == '\r'); j++)
			nl += s[j] == '\n';
		if (j >= n || s[j] != '}')
			goto again;
		r->specpos = j + 1;
		r->speclast = 1;
	} else
		goto again;
	r->line += nl;
	r->part = r->part < 0 ? 0 : r->part + 1;
	if (r->speclast) {
		r->inpos = r->specpos;
		if (r->inend < r->inpos)	/* a record longer than a window */
			r->inend = r->inpos;
	}
	*out = &r->v;
	return 1;
again:
	ddb_reader_recheck(r);
	return 0;
}

/*
 * Read the next value's raw text into r->val: a container up to its
 * closing bracket, a string, or a bare token.  Strings may use either
 * quote, for Python repr.  Returns 1, 0 at the end, -1 bad data (reported;
 * the stream goes on after it), -2 an error the stream cannot go on after,
 * 2 an event to read with spec_next.
 */
static int
scan_value(struct ddb_reader *r, struct scan *sc)
{
	int depth = 0, quote = 0, esc = 0, bare = 0, started = 0, toodeep = 0;
	const char *bad = NULL;
	char stack[DDB_SCAN_STACK];
	int c, f;
	long badline = 0;

	memset(sc, 0, sizeof *sc);
	r->val.n = 0;
	r->vp = "";
	r->vn = 0;
	for (;;) {
		size_t i, start;

		if ((f = fill(r)) < 0)
			return -2;
		if (f == 0)
			break;
		if (!started) {
			if (!skip_blank(r))
				continue;
			/* a UTF-8 byte order mark at the start of a file */
			if (r->line == 1 && r->inend - r->inpos >= 3 &&
			    memcmp(r->in + r->inpos, "\xef\xbb\xbf", 3) == 0) {
				r->inpos += 3;
				continue;
			}
			started = 1;
			r->vline = r->line;
			c = (unsigned char)r->in[r->inpos];
			if (c == '{' && r->mapok && is_event(r->in + r->inpos,
			    r->inend - r->inpos))
				map_file(r);
			if (c == '{' && r->nospec)
				r->nospec = 0;
			else if (c == '{' && spec_begin(r))
				return 2;
			bare = !(c == '{' || c == '[' || c == '"' || c == '\'');
		}
		start = r->inpos;
		for (i = r->inpos; i < r->inend; i++) {
			if (quote && !esc) {
#ifdef DDB_SWAR
				while (r->inend - i >= 8) {
					unsigned long long x, t;
					x = ddb_load8(r->in + i);
					t = ddb_eq8(x, '"') | ddb_eq8(x, '\'') |
					    ddb_eq8(x, '\\') | ddb_lt8(x, 0x20);
					if (t != 0) {
						i += ddb_first8(t);
						break;
					}
					i += 8;
				}
#endif
				while (i < r->inend &&
				    plain((unsigned char)r->in[i]))
					i++;
				if (i == r->inend)
					break;
			} else if (!quote && !bare) {
				/* inside a container, between strings */
				while (i < r->inend &&
				    !scan_stop[(unsigned char)r->in[i]])
					i++;
				if (i == r->inend)
					break;
			}
			c = (unsigned char)r->in[i];
			if (c == '\n')
				r->line++;
			if (c == '\0') {
				r->inpos = i + 1;
				ddb_errat(r->name, r->line, "NUL byte in input");
				return -2;
			}
			if (quote) {
				if (c < 0x20 && bad == NULL) {
					bad = "control character in a string";
					badline = r->line;
				}
				if (esc)
					esc = 0;
				else if (c == '\\')
					esc = 1;
				else if (c == quote) {
					quote = 0;
					if (depth == 0) {
						i++;
						goto done;
					}
				}
				continue;
			}
			if (bare && (c == ' ' || c == '\t' || c == '\n' ||
			    c == '\r' || c == '{' || c == '}' || c == '[' ||
			    c == ']' || c == ',' || c == ':' || c == '"' ||
			    c == '\'')) {
				if (c == '\n')
					r->line--;
				if (i > start)
					goto done;
				if (i == r->inpos && r->vn == 0) {
					/* a lone structural character */
					i++;
					goto done;
				}
				goto done;
			}
			switch (c) {
			case '"':
			case '\'':
				quote = c;
				if (c == '\'')
					sc->py = 1;
				break;
			case '{':
			case '[':
				if (depth < DDB_SCAN_STACK)
					stack[depth] = c == '{' ? '}' : ']';
				if (++depth > r->depth)
					toodeep = 1;
				break;
			case '}':
			case ']':
				/* a mismatched bracket ends the value: the
				   parser says why */
				if (--depth <= 0 || (depth < DDB_SCAN_STACK &&
				    stack[depth] != c)) {
					i++;
					goto done;
				}
				break;
			case 'T':
			case 'F':
			case 'N':
				sc->py = 1;
				break;
			}
		}
		if (!toodeep)
			append(r, r->in + start, i - start);
		r->inpos = i;
		continue;
done:
		if (!toodeep)
			append(r, r->in + start, i - start);
		r->inpos = i;
		if (toodeep) {
			ddb_errat(r->name, r->vline,
			    "nesting deeper than %d levels", r->depth);
			return -1;
		}
		if (bad != NULL) {
			ddb_errat(r->name, badline, "%s", bad);
			return -1;
		}
		return 1;
	}
	if (!started)
		return 0;
	if (bare && !quote)
		return 1;
	ddb_errat(r->name, r->line,
	    "input ends inside the value that starts on line %ld", r->vline);
	return -2;
}

/*
 * The common case: a JSON object or array that r->in holds whole (or does
 * once what is left of the buffer moves to its front), parsed where it
 * lies, without scan_value's pass and copy (or given to r->take first:
 * 2 if it took the value).  1 and *out; 0 for anything
 * else (gzip, bare values, an event to split, a value longer than the
 * buffer, bad data), which scan_value and parse_text then read as always.
 * A value that parses here scans to the same end, is not Python repr (T,
 * F, N and ' outside a string are not JSON) and parses to the same tree.
 */
static size_t skip_ws(const char *s, size_t n, size_t i);

static int
fast_value(struct ddb_reader *r, struct jv **out)
{
	const char *s, *q;
	size_t i, n, m, used;
	int e, retried = 0, took = 0;

	if (r->gz != 1)
		return 0;
	for (;;) {
		if (!skip_blank(r))
			return 0;
		s = r->in + r->inpos;
		n = r->inend - r->inpos;
		if (*s != '{' && *s != '[')
			return 0;
		if ((r->flags & DDB_READ_SPLIT) && *s == '{') {
			i = skip_ws(s, n, 1);
			if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) == 0)
				return 0;
		}
		if (r->take != NULL) {
			r->vline = r->line;
			if ((used = r->take(r->takectx, s, n)) > 0) {
				took = 1;
				break;
			}
		}
		ddb_arena_reset(&r->arena);
		e = ddb_json_parse_prefix(&r->arena, &r->st, s, n, r->depth,
		    &r->v, &used);
		if (e == 0)
			break;
		if (e != DDB_JSON_EOF || retried || r->eof || r->inpos == 0 ||
		    r->in != r->inbuf)
			return 0;
		/* what is left to the front, more read after it */
		memmove(r->in, s, n);
		r->inpos = 0;
		r->inend = n;
		m = fread(r->in + n, 1, sizeof r->inbuf - n, r->fp);
		if (m == 0)
			return 0;
		r->inend += m;
		retried = 1;
	}
	r->vline = r->line;
	for (q = s; (q = memchr(q, '\n', (size_t)(s + used - q))) != NULL; q++)
		r->line++;
	r->inpos += used;
	r->val.n = 0;
	r->vn = 0;
	if (took)
		return 2;
	*out = &r->v;
	return 1;
}

/*
 * Parse text[0..tlen), which is at offset off in val (or in converted
 * Python repr if conv).  1 and *out, or -1 (reported).
 */
static int
parse_text(struct ddb_reader *r, const char *text, size_t tlen, size_t off,
    int conv, struct jv **out)
{
	size_t erroff = 0;
	long line;
	int e;

	*out = NULL;
	ddb_arena_reset(&r->arena);
	e = ddb_json_parse(&r->arena, &r->st, text, tlen, r->depth, &r->v,
	    &erroff);
	if (e == 0 && r->v.type == JV_NULL)
		e = -1;		/* a bare null is no value to work on */
	if (e == 0) {
		*out = &r->v;
		return 1;
	}
	line = conv || e == DDB_JSON_DUP || e == DDB_JSON_NULKEY ? r->vline :
	    line_at(r, off + erroff);
	if (e == DDB_JSON_DEPTH)
		ddb_errat(r->name, line, "nesting deeper than %d levels",
		    r->depth);
	else
		ddb_errat(r->name, line, "%s", e < 0 ? "invalid JSON: no value" :
		    ddb_json_strerror(e));
	return -1;
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* the closing quote of the string whose opening quote is s[i], or n */
static size_t
string_end(const char *s, size_t n, size_t i)
{
	const char *q;
	size_t k;

	for (i++; i < n; i = (size_t)(q - s) + 1) {
		if ((q = memchr(s + i, '"', n - i)) == NULL)
			return n;
		/* escaped if an odd number of backslashes come before it */
		for (k = 0; q - k > s + i && q[-(ptrdiff_t)k - 1] == '\\'; k++)
			;
		if (k % 2 == 0)
			return (size_t)(q - s);
	}
	return n;
}

/* the end of the JSON value at s[i], or 0 if none */
static size_t
value_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		switch (s[i]) {
		case '"':
			i = string_end(s, n, i);
			if (i >= n)
				return 0;
			if (depth == 0)
				return i + 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth-- == 0)
				return i;	/* a bare token ends */
			if (depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return i;
			break;
		}
	}
	return depth == 0 ? n : 0;
}

/*
 * If the value text is a {"Records":[...]} event whose shape is sound, list
 * where its records lie and return 0; else -1 and the value is parsed whole
 * (the parser then says what is wrong).  Members after Records (get-records'
 * NextShardIterator) are checked here.
 */
static int
split_records(struct ddb_reader *r, char *s, size_t n)
{
	size_t i, e, tail;

	r->nparts = r->nextpart = 0;
	i = skip_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) != 0)
		return -1;
	i = skip_ws(s, n, i + 9);
	if (i >= n || s[i] != ':')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return -1;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		goto tail;
	for (;;) {
		if ((e = value_end(s, n, i)) <= i)
			return -1;
		if (r->nparts == r->capparts) {
			size_t cap = r->capparts ? r->capparts * 2 : 256;
			r->parts = ddb_reallocarray(r->parts, cap,
			    sizeof *r->parts);
			r->capparts = cap;
		}
		r->parts[r->nparts].off = i;
		r->parts[r->nparts].len = e - i;
		r->nparts++;
		i = skip_ws(s, n, e);
		if (i < n && s[i] == ']')
			break;
		if (i >= n || s[i] != ',')
			return -1;
		i = skip_ws(s, n, i + 1);
	}
tail:
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ',') {
		/* more members: quietly, they must make an object without Records */
		struct jv o;
		size_t erroff;
		int ok;
		char c;
		tail = i;
		for (e = n; e > tail && s[e - 1] != '}'; e--)
			;
		if (e <= tail + 1 || skip_ws(s, n, e) != n)
			return -1;
		c = s[tail];
		s[tail] = '{';
		ddb_arena_reset(&r->arena);
		ok = ddb_json_parse(&r->arena, &r->st, s + tail, e - tail,
		    r->depth, &o, &erroff) == 0 && o.type == JV_OBJECT &&
		    jv_get(&o, "Records") == NULL;
		s[tail] = c;
		if (!ok)
			r->nparts = 0;
		return ok ? 0 : -1;
	}
	if (i >= n || s[i] != '}' || skip_ws(s, n, i + 1) != n)
		return -1;
	return 0;
}

/* the next record of a split event */
static int
next_part(struct ddb_reader *r, struct jv **out)
{
	struct part *p = &r->parts[r->nextpart];
	int rc;

	r->part = (long)r->nextpart++;
	rc = parse_text(r, r->evtext + p->off, p->len, p->off,
	    r->evconv != NULL, out);
	if (r->nextpart == r->nparts) {
		free(r->evconv);
		r->evconv = NULL;
	}
	return rc;
}

/*
 * The next value: 1 and *out set, 0 at the end of input, -1 bad data
 * (reported; the next call goes on after it), -2 a read error or input the
 * stream cannot go on after (reported).  With DDB_READ_SPLIT, the records
 * of a {"Records":[...]} event come one by one (ddb_reader_part).  *out and
 * everything in ddb_reader_arena() live until the next call.
 */
int
ddb_reader_next(struct ddb_reader *r, struct jv **out)
{
	struct scan sc;
	char *text, *conv;
	size_t tlen;
	int rc;

	*out = NULL;
	if (r->specev) {
		if (!r->speclast && spec_next(r, out))
			return 1;
		/* the event's end, or it is read again the usual way */
		r->specev = r->speclast = 0;
	}
	if (r->nextpart < r->nparts)
		return next_part(r, out);
	free(r->evconv);
	r->evconv = NULL;
again:
	r->part = -1;
	r->nparts = r->nextpart = 0;
	conv = NULL;
	map_release(r);
	if ((rc = fast_value(r, out)) != 0)
		return rc;
	if ((rc = scan_value(r, &sc)) <= 0)
		return rc;
	if (rc == 2) {
		if (spec_next(r, out))
			return 1;
		goto again;
	}
	text = (char *)r->vp;
	tlen = r->vn;
	if (sc.py && (r->flags & DDB_READ_PYREPR)) {
		size_t errpos = 0;
		const char *msg = "invalid value";
		if (ddb_pyrepr_to_json(r->vp, r->vn, &conv, &tlen, &errpos,
		    &msg) < 0) {
			ddb_errat(r->name, line_at(r, errpos), "%s", msg);
			return -1;
		}
		text = conv;
	}
	if ((r->flags & DDB_READ_SPLIT) &&
	    split_records(r, text, tlen) == 0) {
		r->evtext = text;
		r->evconv = conv;
		if (r->nparts > 0)
			return next_part(r, out);
		free(conv);
		r->evconv = NULL;
		goto again;
	}
	r->nparts = 0;
	/* the value's strings are copied: the converted text can go now */
	rc = parse_text(r, text, tlen, 0, conv != NULL, out);
	free(conv);
	return rc;
}
