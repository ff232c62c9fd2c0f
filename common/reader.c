/*
 * reader.c: split a byte stream into JSON values and parse each losslessly.
 * This is the plain path, the one to read first:
 *
 *	bytes (fread, or gz.c's gunzip in front for gzip input)
 *	-> scan_value: one value's raw text into val, its nesting checked
 *	-> pyrepr.c: Python repr converted to JSON, if the scan saw any
 *	-> reader-split.c: an event's records one at a time (DDB_READ_SPLIT)
 *	-> reader_parse_text: the tree
 *
 * Two fast paths sit behind ddb_reader_next() and give what this one
 * gives, or leave the value to it: reader-fast.c parses a value that the
 * input buffer holds whole where it lies, reader-map.c reads a regular
 * file's events through a mapping (DDB_READ_SPEC: record by record, before
 * the whole event is scanned).  tests/reader-diff.c checks the rule they
 * keep: same records, same errors as this path alone (DDB_READ_PLAIN).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "reader-int.h"
#include "simd.h"

/* what a scan learned about a value's text */
#define DDB_SCAN_STACK 256
/* scan_value: the value is an event that reader-map.c reads */
#define SCAN_MAPPED 3

struct scan {
	int py;			/* looks like Python repr */
};

struct ddb_reader *
ddb_reader_open(const char *path, int depth, int flags)
{
	struct ddb_reader *r = xreallocarray(NULL, 1, sizeof *r);
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
	 * a file's size is about the largest value it can hold: val gets that
	 * size once, not by doubling (fewer fresh pages); a file of events
	 * to split is read through a mapping instead (reader-map.c)
	 */
	r->in = r->inbuf;
	if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && (flags & DDB_READ_SPLIT) &&
	    !(flags & DDB_READ_PLAIN) &&
	    (unsigned long long)st.st_size <= SIZE_MAX / 2)
		r->mapok = 1;
	else if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0) {
		r->val.cap = st.st_size < (1 << 26) ? (size_t)st.st_size + 1 :
		    (size_t)1 << 26;
		r->val.p = xreallocarray(NULL, r->val.cap, 1);
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
	ddb_gunzip_free(r->gz);
	if (r->in != r->inbuf)
		munmap(r->in, r->maplen);
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

/* after DDB_NEXT_FATAL: nonzero if reading failed (exit 3, not 1) */
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

/*
 * More input at r->in[r->inpos..inend): 1; 0 at the end of input; -1 a
 * read error or bad gzip data (reported).  The first bytes read tell gzip
 * input (its magic): from then on gz.c inflates it in front of the reader.
 */
int
reader_fill(struct ddb_reader *r)
{
	const char *why;
	long n;

	if (r->inpos < r->inend)
		return 1;
	if (r->in != r->inbuf)
		return reader_map_fill(r);
	if (r->eof)
		return 0;
	if (r->gz != NULL) {
		r->inpos = r->inend = 0;
		n = ddb_gunzip_read(r->gz, r->fp, r->in, sizeof r->inbuf, &why);
		if (n > 0) {
			r->inend = (size_t)n;
			return 1;
		}
		r->eof = 1;
		if (n == 0)
			return 0;
		if (why == NULL)
			ddb_errat(r->name, r->line, "read error: %s",
			    strerror(errno));
		else
			ddb_errat(r->name, r->line, "%s", why);
		return -1;
	}
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
	if (!r->sniffed) {
		r->sniffed = 1;
		/* a short first read of a pipe could split the magic */
		if (r->inend == 1 && !feof(r->fp)) {
			size_t m = fread(r->in + 1, 1, sizeof r->inbuf - 1,
			    r->fp);
			r->inend += m;
		}
		if (r->inend >= 2 && (unsigned char)r->in[0] == 0x1f &&
		    (unsigned char)r->in[1] == 0x8b) {
			if ((r->gz = ddb_gunzip_new(r->in, r->inend)) == NULL) {
				r->eof = 1;
				r->inpos = r->inend = 0;
				ddb_errat(r->name, r->line,
				    "gzip: zlib cannot start");
				return -1;
			}
			r->inpos = r->inend;
			return reader_fill(r);
		}
	}
	return 1;
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

/*
 * Read the next value's raw text into r->val: a container up to its
 * closing bracket, a string, or a bare token.  Strings may use either
 * quote, for Python repr.  DDB_NEXT_VALUE, END, BAD (reported; the
 * stream goes on after it), FATAL (reported), or SCAN_MAPPED: an event
 * that reader-map.c reads.
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

		if ((f = reader_fill(r)) < 0)
			return DDB_NEXT_FATAL;
		if (f == 0)
			break;
		if (!started) {
			if (!reader_skip_blank(r))
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
			/* the door to reader-map.c's fast path */
			if (c == '{' && !(r->flags & DDB_READ_PLAIN) &&
			    reader_map_event(r))
				return SCAN_MAPPED;
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
				return DDB_NEXT_FATAL;
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
			return DDB_NEXT_BAD;
		}
		if (bad != NULL) {
			ddb_errat(r->name, badline, "%s", bad);
			return DDB_NEXT_BAD;
		}
		return DDB_NEXT_VALUE;
	}
	if (!started)
		return DDB_NEXT_END;
	if (bare && !quote)
		return DDB_NEXT_VALUE;
	ddb_errat(r->name, r->line,
	    "input ends inside the value that starts on line %ld", r->vline);
	return DDB_NEXT_FATAL;
}

/*
 * Parse text[0..tlen), which is at offset off in val (or in converted
 * Python repr if conv).  DDB_NEXT_VALUE and *out, or DDB_NEXT_BAD
 * (reported).
 */
int
reader_parse_text(struct ddb_reader *r, const char *text, size_t tlen, size_t off,
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
		return DDB_NEXT_VALUE;
	}
	line = conv || e == DDB_JSON_DUP || e == DDB_JSON_NULKEY ? r->vline :
	    line_at(r, off + erroff);
	if (e == DDB_JSON_DEPTH)
		ddb_errat(r->name, line, "nesting deeper than %d levels",
		    r->depth);
	else
		ddb_errat(r->name, line, "%s", e < 0 ? "invalid JSON: no value" :
		    ddb_json_strerror(e));
	return DDB_NEXT_BAD;
}

/*
 * pyrepr.c in front of the parse: a value whose scan saw Python repr (a
 * quote ' or T, F, N outside strings) converted to JSON.  DDB_NEXT_VALUE,
 * *text and *tlen its JSON and *conv the converted text to free (NULL if
 * the value is JSON as it is), or DDB_NEXT_BAD (reported).
 */
static int
from_pyrepr(struct ddb_reader *r, const struct scan *sc, char **text,
    size_t *tlen, char **conv)
{
	size_t errpos = 0;
	const char *msg = "invalid value";

	*conv = NULL;
	*text = (char *)r->vp;
	*tlen = r->vn;
	if (!sc->py || !(r->flags & DDB_READ_PYREPR))
		return DDB_NEXT_VALUE;
	if (ddb_pyrepr_to_json(r->vp, r->vn, conv, tlen, &errpos, &msg) < 0) {
		ddb_errat(r->name, line_at(r, errpos), "%s", msg);
		return DDB_NEXT_BAD;
	}
	*text = *conv;
	return DDB_NEXT_VALUE;
}

/*
 * The next value (ddb.h's enum ddb_next).  With DDB_READ_SPLIT, the
 * records of a {"Records":[...]} event come one by one (ddb_reader_part).
 * *out and everything in ddb_reader_arena() live until the next call.
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
		if (!r->speclast && reader_spec_next(r, out))
			return DDB_NEXT_VALUE;
		/* the event's end, or it is read again the plain way */
		r->specev = r->speclast = 0;
	}
	if (r->nextpart < r->nparts)
		return reader_next_part(r, out);
	free(r->evconv);
	r->evconv = NULL;
again:
	r->part = -1;
	r->nparts = r->nextpart = 0;
	reader_map_release(r);
	/* the door to reader-fast.c's fast path */
	if (!(r->flags & DDB_READ_PLAIN) &&
	    (rc = reader_fast_value(r, out)) != DDB_NEXT_END)
		return rc;
	if ((rc = scan_value(r, &sc)) == SCAN_MAPPED) {
		if (reader_spec_next(r, out))
			return DDB_NEXT_VALUE;
		goto again;
	}
	if (rc != DDB_NEXT_VALUE)
		return rc;
	if ((rc = from_pyrepr(r, &sc, &text, &tlen, &conv)) != DDB_NEXT_VALUE)
		return rc;
	if ((r->flags & DDB_READ_SPLIT) && reader_split(r, text, tlen) == 0) {
		r->evtext = text;
		r->evconv = conv;
		if (r->nparts > 0)
			return reader_next_part(r, out);
		free(conv);
		r->evconv = NULL;
		goto again;
	}
	r->nparts = 0;
	/* the value's strings are copied: the converted text can go now */
	rc = reader_parse_text(r, text, tlen, 0, conv != NULL, out);
	free(conv);
	return rc;
}
