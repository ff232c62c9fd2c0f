/* csv-emit.c: write rows (flat JSON objects, one per line) as RFC 4180 CSV */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv-emit.h"
#include "simd.h"

enum { X_UNSET, X_FAIL, X_DROP, X_GATHER };

static int dflag = ',';			/* -d: the delimiter byte */
static const char *Nflag = "";		/* -N: text for null and missing */
static int Hflag;			/* -H: no header line */
static int zflag;			/* -z: gzip the output */
static const char *cflag;		/* -c: fixed column list */
static int xflag = X_UNSET;		/* -x: what to do with other attributes */
static const char *gname = "extra";	/* -x gather=NAME */
static const char *lflag;		/* -l: lineage columns, with -c */
static const char *tflag;		/* -t: the table's column list */
static const char *oflag;		/* -o: the list, as written, to here */
static const char *Eflag = "EventType";	/* -E */
static const char *Cflag = "created_at";	/* -C */
static const char *xarg;		/* -x as given */

/*
 * The options that decide the columns, and their help: csv-emit's, and
 * parquet-emit's, which compiles this file in (column_option, columns_begin
 * and columns_end below are its way in), so both give the same columns
 */
#define COLUMN_OPTSTRING "c:C:E:l:o:t:x:"
#define COLUMN_LONGOPTS \
	{ "columns", required_argument, NULL, 'c' }, \
	{ "columns-out", required_argument, NULL, 'o' }, \
	{ "lineage-columns", required_argument, NULL, 'l' }, \
	{ "table-columns", required_argument, NULL, 't' }, \
	{ "created-at-column", required_argument, NULL, 'C' }, \
	{ "event-type-column", required_argument, NULL, 'E' }, \
	{ "extra", required_argument, NULL, 'x' }
#define COLUMN_HELP \
	"  -t, --table-columns FILE    the table's column list: the header begins\n" \
	"                              with it, new columns appended\n" \
	"  -o, --columns-out FILE      write the header's list there, as -t reads it\n" \
	"  -c, --columns LIST          fixed columns, comma-separated; streams\n" \
	"  -x, --extra ACTION          other attributes with -c: gather=NAME\n" \
	"                              (one JSON object column; default\n" \
	"                              gather=extra), drop, fail\n" \
	"  -l, --lineage-columns LIST  with -c: ddb-expand's lineage columns,\n" \
	"                              put before the event type column\n" \
	"  -E, --event-type-column NAME  (default EventType)\n" \
	"  -C, --created-at-column NAME  (default created_at)\n"

static unsigned char special[256];	/* bytes that make a cell quoted */

/*
 * Every name seen, with an id in first-seen order: the columns, and with
 * -c the attributes outside the list too (ids >= nfixed), counted for -x
 * drop and fail.
 */
static struct names nm;
static size_t nfixed;		/* -c: ids below this are columns */
static size_t gid;		/* -x gather: the id of its column */
static size_t *order;		/* ids in header order */
static size_t norder;

/*
 * -t: the table's list is ids 0 .. nlist - 1, in its order, and the
 * header begins with it; a name first seen here goes after it, in
 * first-seen order ("tail" order: the event type and created-at columns
 * are listed already, or come as new names).  The list's other members,
 * as JSON text, go back out unchanged with -o.
 */
static size_t nlist;
static struct ddb_buf others;

/* one row, rendered: cells as [struct cell][quoted bytes], in row order */
struct cell {
	uint32_t col, len;
};
static struct ddb_buf row;

/* where each column's cell lies in row.p; valid where gen == curgen */
static size_t *slotoff, *slotlen;
static unsigned long *slotgen, curgen;
static size_t nslots;

static char *nullq;		/* -N text, quoted as a cell */
static size_t nullqlen;

static _Noreturn void
usage(FILE *fp, int status)
{
	fputs("usage: csv-emit [-Hz] [-f csv|jsonl] [-d C] [-N TEXT] [-E NAME] [-C NAME] [-t FILE] [-o FILE]\n"
	    "                [-c LIST [-x fail|drop|gather=NAME] [-l LIST]] [file ...]\n",
	    fp);
	if (fp == stdout)
		fputs(COLUMN_HELP
		    "  -f, --format FORMAT         csv (default), or jsonl: the same cells\n"
		    "                              as JSON lines, one object a row by\n"
		    "                              column name\n"
		    "  -d, --delimiter C           one byte, or \\t for TAB (default ,)\n"
		    "  -N, --null TEXT             cell text for null and missing values\n"
		    "  -H, --no-header             leave out the header line\n"
		    "  -z, --gzip                  gzip the output (as gzip -n); none\n"
		    "                              at all without rows\n"
		    "  -h, --help                  this text\n"
		    "  -V, --version               print the version\n", fp);
	ddb_usage_exit(fp, status);
}

/*
 * -z: the CSV is written (by stdio and sendfile alike) to a temp file on
 * fd 1, then compressed to the real standard output, which gz_begin keeps
 * as fd; nothing is written if the CSV is empty.  In process: no gzip
 * child for each object.
 */
static int
gz_begin(void)
{
	FILE *tmp = tmpfile();
	int fd = dup(STDOUT_FILENO);

	if (tmp == NULL || fd == -1 || dup2(fileno(tmp), STDOUT_FILENO) == -1)
		err(DDB_EXIT_IO, "temp file");
	fclose(tmp);	/* fd 1 holds it */
	return fd;
}

static void
gz_end(int fd)
{
	FILE *csv, *z, *out;
	char buf[1 << 16];
	size_t n;

	if (fflush(stdout) != 0 || ferror(stdout))
		err(DDB_EXIT_IO, "temp file");
	if ((csv = fdopen(dup(STDOUT_FILENO), "rb")) == NULL ||
	    fseeko(csv, 0, SEEK_SET) != 0)
		err(DDB_EXIT_IO, "temp file");
	if ((out = fdopen(fd, "wb")) == NULL)
		err(DDB_EXIT_IO, "stdout");
	if ((n = fread(buf, 1, 1, csv)) == 1) {
		rewind(csv);
		if ((z = ddb_gzip_open(csv, 0)) == NULL)
			err(DDB_EXIT_IO, "gzip");
		while ((n = fread(buf, 1, sizeof buf, z)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				err(DDB_EXIT_IO, "stdout");
		if (ferror(z))
			err(DDB_EXIT_IO, "temp file");
		fclose(z);
	} else if (ferror(csv)) {
		err(DDB_EXIT_IO, "temp file");
	}
	fclose(csv);
	if (fflush(out) != 0 || ferror(out) || fclose(out) != 0)
		err(DDB_EXIT_IO, "stdout");
}

/* the id of name s, added when add is set; -1 if absent */
static long
find_name(const char *s, int add)
{
	return names_find(&nm, s, add);
}

/* the length of s as a cell: n, or with quotes and doubled '"' */
static size_t
quoted_len(const char *s, size_t n)
{
	size_t i, q = 0;

	for (i = 0; i < n && !special[(unsigned char)s[i]]; i++)
		;
	if (i == n)
		return n;
	for (; i < n; i++)
		q += s[i] == '"';
	return n + q + 2;
}

/*
 * s as a cell into dst, which has room for 2 * n + 10 bytes (some bytes
 * past the cell are written too); the cell's length.  One pass: to the
 * first byte that needs quotes, then eight bytes at a time to each '"'.
 */
static size_t
quote_to(char *dst, const char *s, size_t n)
{
	size_t i = 0;
	char *d;

#ifdef CSV_EMIT_NO_QUOTES
	/* a tool that takes the cells' text as it is (parquet-emit) */
	memcpy(dst, s, n);
	return n;
#endif
#ifdef DDB_SWAR
	/* most cells need no quotes */
	for (; n - i >= 8; i += 8) {
		unsigned long long x = ddb_load8(s + i);
		if ((ddb_eq8(x, '"') | ddb_eq8(x, '\r') | ddb_eq8(x, '\n') |
		    ddb_eq8(x, dflag)) != 0)
			break;
	}
#endif
	for (; i < n; i++)
		if (special[(unsigned char)s[i]])
			break;
	if (i == n) {
		memcpy(dst, s, n);
		return n;
	}
	dst[0] = '"';
	memcpy(dst + 1, s, i);
	d = dst + 1 + i;
#ifdef DDB_SWAR
	while (n - i >= 8) {
		unsigned long long m = ddb_eq8x(ddb_load8(s + i), '"');
		memcpy(d, s + i, 8);
		if (m == 0) {
			d += 8;
			i += 8;
		} else {
			/* up to the '"', then the '"' once more */
			size_t k = ddb_first8(m) + 1;
			d += k;
			*d++ = '"';
			i += k;
		}
	}
#endif
	for (; i < n; i++) {
		/* no branch on the byte: JSON cells are full of '"' */
		*d++ = s[i];
		*d = '"';
		d += s[i] == '"';
	}
	*d++ = '"';
	return (size_t)(d - dst);
}

static int
add_cell(const char *name, long line, size_t col, const char *s, size_t n)
{
	struct cell c;
	size_t len;

	/* a cell that could pass 4 GB: its length first */
	if (n > (UINT32_MAX - 10) / 2 && quoted_len(s, n) > UINT32_MAX) {
		ddb_errat(name, line, "a cell longer than 4 GB");
		return -1;
	}
	ddb_buf_reserve(&row, sizeof c + 2 * n + 10);
	len = quote_to(row.p + row.n + sizeof c, s, n);
	c.col = (uint32_t)col;
	c.len = (uint32_t)len;
	memcpy(row.p + row.n, &c, sizeof c);
	row.n += sizeof c + len;
	return 0;
}

/*
 * a cell of text that has no '"', CR or LF (a string without escapes, a
 * number, true or false): quoted only if it holds the delimiter; -1 if it
 * could pass 4 GB (the parser's path says so)
 */
static int
add_plain(size_t col, const char *s, size_t n)
{
	struct cell c;
	int q;

	if (n > UINT32_MAX - 2)
		return -1;
#ifdef CSV_EMIT_NO_QUOTES
	q = 0;
#else
	q = n > 0 && memchr(s, dflag, n) != NULL;
#endif
	ddb_buf_reserve(&row, sizeof c + n + 2);
	c.col = (uint32_t)col;
	c.len = (uint32_t)(n + 2 * q);
	memcpy(row.p + row.n, &c, sizeof c);
	row.n += sizeof c;
	if (q)
		row.p[row.n++] = '"';
	memcpy(row.p + row.n, s, n);
	row.n += n;
	if (q)
		row.p[row.n++] = '"';
	return 0;
}

/*
 * A tool that compiles this file in (parquet-emit) is told the kind of
 * each cell's value, as the first byte of its JSON text (CSV_EMIT_KIND) or
 * as the parsed value (CSV_EMIT_KIND_JV), and takes each rendered row in
 * place of put_row's CSV (CSV_EMIT_ROW)
 */
#ifndef CSV_EMIT_KIND
#define CSV_EMIT_KIND(col, c) ((void)0)
#define CSV_EMIT_KIND_JV(col, v) ((void)0)
#endif

/* a value's cell text: strings as they are, everything else as JSON */
static struct ddb_buf tmp;	/* JSON text of a cell or a name */

static int
add_value(const char *name, long line, size_t col, const struct jv *v)
{
	CSV_EMIT_KIND_JV(col, v);
	switch (v->type) {
	case JV_NULL:
		return 0;	/* written like a missing cell */
	case JV_STRING:
	case JV_NUMBER:		/* numbers keep their exact text */
		return add_cell(name, line, col, v->u.s, v->n);
	case JV_BOOL:
		return v->n ? add_cell(name, line, col, "true", 4) :
		    add_cell(name, line, col, "false", 5);
	default:
		/* maps and lists: compact JSON */
		tmp.n = 0;
		ddb_json_write(&tmp, v);
		return add_cell(name, line, col, tmp.p, tmp.n);
	}
}

static void
write_failed(void)
{
	err(DDB_EXIT_IO, "stdout");
}

static void
write_header(void)
{
	const char *p;
	size_t k, n;

	if (Hflag)
		return;
	for (k = 0; k < norder; k++) {
		if (k > 0)
			putc(dflag, stdout);
		p = nm.name[order[k]];
		n = strlen(p);
		tmp.n = 0;
		ddb_buf_reserve(&tmp, 2 * n + 10);
		fwrite(tmp.p, 1, quote_to(tmp.p, p, n), stdout);
	}
	putc('\n', stdout);
	if (ferror(stdout))
		write_failed();
}

/*
 * the row in row.p as a CSV line, its cells put in header order, appended
 * to out in one piece (one copy a line, not a stdio call a cell: this is
 * the hot loop); where in out the cells of later
 * columns go: where the cell of the event type column, the last but one,
 * begins, or in tail order (-t) the line's end
 */
static size_t
line_to(struct ddb_buf *out)
{
	struct cell c;
	size_t pos = 0, k, id, len, head = 0;
	const char *s;
	char *d, *start;

	curgen++;
	while (pos < row.n) {
		memcpy(&c, row.p + pos, sizeof c);
		pos += sizeof c;
		if (c.col >= nslots || c.len > row.n - pos)
			errx(DDB_EXIT_IO, "internal error: a cell of no column");
		slotoff[c.col] = pos;
		slotlen[c.col] = c.len;
		slotgen[c.col] = curgen;
		pos += c.len;
	}
	/* at most the row's cells, the -N text for each column, delimiters */
	ddb_buf_reserve(out, row.n + norder * (nullqlen + 1) + 1);
	d = start = out->p + out->n;
	for (k = 0; k < norder; k++) {
		id = order[k];
		if (slotgen[id] == curgen) {
			s = row.p + slotoff[id];
			len = slotlen[id];
		} else {
			s = nullq;
			len = nullqlen;
		}
		if (k + 2 == norder)
			head = out->n + (size_t)(d - start);
		memcpy(d, s, len);
		d += len;
		*d++ = (char)dflag;
	}
	if (norder > 0)
		d--;
	if (nlist > 0)
		head = out->n + (size_t)(d - start);	/* tail order */
	*d++ = '\n';
	out->n += (size_t)(d - start);
	return head;
}

/* the row in row.p, to stdout */
static struct ddb_buf outline;

static void
emit_row(void)
{
	outline.n = 0;
	line_to(&outline);
	if (fwrite_unlocked(outline.p, 1, outline.n, stdout) != outline.n ||
	    ferror_unlocked(stdout))
		write_failed();
}

/* slots for every name; those of new names are free */
static void
alloc_slots(void)
{
	slotoff = xreallocarray(slotoff, nm.n, sizeof *slotoff);
	slotlen = xreallocarray(slotlen, nm.n, sizeof *slotlen);
	slotgen = xreallocarray(slotgen, nm.n, sizeof *slotgen);
	memset(slotgen + nslots, 0, (nm.n - nslots) * sizeof *slotgen);
	nslots = nm.n;
}

/* print name as a JSON string, so any byte in it is readable */
static const char *
show_name(const char *s)
{
	tmp.n = 0;
	ddb_json_str(&tmp, s, strlen(s));
	ddb_buf_putc(&tmp, '\0');
	return tmp.p;
}

/*
 * Rows mostly repeat the keys of the row before, in its order: after[i] is
 * the id + 1 of the key that last followed the key of id i - 1 (after[0]:
 * a row's first key), 0 none yet; both row paths look a key up here first
 */
static size_t *after, nafter;

/* 1 if name id is k[0..klen) */
static int
name_is(size_t id, const char *k, size_t klen)
{
	return nm.len[id] == klen && memcmp(nm.name[id], k, klen) == 0;
}

/* key_id's look-up in the names, where after[] did not know the key */
static long
key_lookup(size_t prev, const char *k, size_t klen, int add)
{
	static struct ddb_buf key;
	long id;

	key.n = 0;
	ddb_buf_put(&key, k, klen);
	ddb_buf_putc(&key, '\0');
	if ((id = find_name(key.p, add)) < 0)
		return -1;
	if (nafter < nm.n + 1) {
		/* grown by doubling, not by one: a copy per new name */
		size_t n = nafter * 2 > nm.n + 1 ? nafter * 2 : nm.n + 1;

		after = xreallocarray(after, n, sizeof *after);
		memset(after + nafter, 0, (n - nafter) * sizeof *after);
		nafter = n;
	}
	after[prev] = (size_t)id + 1;
	return id;
}

/*
 * the id of the key k[0..klen) that follows a key of id prev - 1 (prev 0:
 * the first key); with add a name not seen yet is added, else it is -1
 */
static inline long
key_id(size_t prev, const char *k, size_t klen, int add)
{
	if (prev < nafter && after[prev] > 0 && name_is(after[prev] - 1, k,
	    klen))
		return (long)after[prev] - 1;
	return key_lookup(prev, k, klen, add);
}

static unsigned long nfailed, nfailtold;	/* -x fail: rows refused, and named */

/* render one row object into row.p; -1 bad (reported) */
static int
render_row(const char *name, long line, const struct jv *o)
{
	static struct ddb_buf g;	/* -x gather: the gathered members */
	size_t j, prev = 0;
	long id;
	int rc = 0, refused = 0, told = 0;

	row.n = 0;
	g.n = 0;
	for (j = 0; j < o->n; j++) {
		const char *k = o->u.m[j].k;
		const struct jv *v = &o->u.m[j].v;
		id = key_id(prev, k, o->u.m[j].klen, 1);
		prev = (size_t)id + 1;
		/* an attribute named like the gather column is gathered too */
		if (cflag == NULL || ((size_t)id < nfixed &&
		    !(xflag == X_GATHER && (size_t)id == gid))) {
			if (add_value(name, line, (size_t)id, v) < 0)
				rc = -1;
		} else if (xflag == X_DROP)
			nm.count[id]++;
		else if (xflag == X_GATHER) {
			ddb_buf_putc(&g, g.n == 0 ? '{' : ',');
			ddb_json_str(&g, k, o->u.m[j].klen);
			ddb_buf_putc(&g, ':');
			ddb_json_write(&g, v);
		} else {
			/* each attribute once, or a wrong list floods stderr */
			if (nm.count[id]++ == 0) {
				ddb_errat(name, line, "attribute %s is not in "
				    "--columns (see --extra)", show_name(k));
				told = 1;
			}
			refused = 1;
		}
	}
	if (refused) {
		nfailed++;
		nfailtold += told;
		return -1;
	}
	if (g.n > 0) {
		ddb_buf_putc(&g, '}');
		if (add_cell(name, line, gid, g.p, g.n) < 0)
			rc = -1;
	}
	return rc;
}

/*
 * Without -c the header needs every row first: rows wait, as CSV lines with
 * the columns seen so far, in a private temporary file, so memory holds only
 * the column names.  The columns are in first-seen order with the event
 * type and created-at last, so a column first seen later is a run of empty
 * cells before a line's last two.
 */
static struct spool spool;
static struct run {
	unsigned long row;	/* the first line spooled with */
	size_t n;		/* this many names */
	uint64_t off;		/* at this offset */
} *runs;
static size_t nruns, runcap;

static unsigned long nrows;	/* rows written or spooled */
static int bad;			/* a row was bad: exit 1, and no spool output */

/* the header order without -c: first seen, then ids 0 and 1; or tail order */
static void
spool_order(void)
{
	size_t k;

	if (norder == nm.n)
		return;
	order = xreallocarray(order, nm.n, sizeof *order);
	if (nlist > 0)
		for (k = 0; k < nm.n; k++)
			order[k] = k;
	else {
		for (k = 2; k < nm.n; k++)
			order[k - 2] = k;
		order[nm.n - 2] = 0;
		order[nm.n - 1] = 1;
	}
	norder = nm.n;
	alloc_slots();
	if (nruns == runcap) {
		runcap = runcap ? 2 * runcap : 16;
		runs = xreallocarray(runs, runcap, sizeof *runs);
	}
	runs[nruns].row = nrows;
	runs[nruns].n = nm.n;
	runs[nruns].off = spool_tell(&spool);
	nruns++;
}

static void
spool_replay(void)
{
	const struct run *r = runs;
	unsigned long k;
	size_t head, more, j;
	int out = fileno(stdout);

	spool_rewind(&spool);
	for (k = 0; k < nrows; k++) {
		/* the lines after the last new column are what is written */
		if (out >= 0 && k == runs[nruns - 1].row)
			break;
		while (r + 1 < runs + nruns && r[1].row <= k)
			r++;
		if (spool_get(&spool, &outline, &head) == 0)
			errx(DDB_EXIT_IO, "temporary file: short read");
		more = nm.n - r->n;
		if (fwrite_unlocked(outline.p, 1, more > 0 ? head : outline.n,
		    stdout) != (more > 0 ? head : outline.n))
			write_failed();
		if (more > 0) {
			for (j = 0; j < more; j++) {
				if (nlist > 0)
					putc_unlocked(dflag, stdout);
				fwrite_unlocked(nullq, 1, nullqlen, stdout);
				if (nlist == 0)
					putc_unlocked(dflag, stdout);
			}
			fwrite_unlocked(outline.p + head, 1, outline.n - head,
			    stdout);
		}
		if (ferror_unlocked(stdout))
			write_failed();
	}
	if (k < nrows) {
		if (fflush(stdout) != 0)
			write_failed();
		spool_copy(&spool, runs[nruns - 1].off, out, write_failed);
	}
	spool_close(&spool);
}

/* the row rendered in row.p: written, or spooled */
static void
put_row(const char *name, long line)
{
	size_t start, head;

#ifdef CSV_EMIT_ROW
	CSV_EMIT_ROW(name, line);
	return;
#endif
	if (cflag != NULL) {
		if (nrows++ == 0)
			write_header();
		emit_row();
	} else if (!bad) {
		if (spool.ix == NULL)
			spool_open(&spool);
		spool_order();
		start = spool.buf.n;
		head = line_to(&spool.buf);
		if (spool_add(&spool, start, head) < 0) {
			ddb_errat(name, line, "a row longer than 4 GB");
			bad = 1;
		} else
			nrows++;
	}
}

static void
do_row(const char *name, long line, const struct jv *o)
{
	if (o->type != JV_OBJECT) {
		ddb_errat(name, line, "a row must be a JSON object, not %s",
		    jv_type_name(o));
		bad = 1;
		return;
	}
	if (render_row(name, line, o) < 0) {
		bad = 1;
		return;
	}
	put_row(name, line);
}

/* the fast row path, take_row, in its own file */
#include "take.c"

/* 0, or the status to stop with at once */
static int
read_file(const char *path)
{
	struct ddb_reader *r = ddb_reader_open(path, DDB_READ_DEPTH, 0);
	struct jv *o;
	int rc;

	if (r == NULL) {
		ddb_errat(path, 0, "%s", strerror(errno));
		return DDB_EXIT_IO;
	}
	ddb_reader_take(r, take_row, r);
	for (;;) {
		rc = ddb_reader_next(r, &o);
		if (rc == DDB_NEXT_END)
			break;
		if (rc == DDB_NEXT_TAKEN)
			continue;	/* take_row's */
		if (rc == DDB_NEXT_BAD) {
			bad = 1;
			continue;
		}
		if (rc == DDB_NEXT_FATAL) {
			rc = ddb_reader_ioerror(r) ? DDB_EXIT_IO : DDB_EXIT_DATA;
			ddb_reader_close(r);
			return rc;
		}
		do_row(ddb_reader_name(r), ddb_reader_line(r), o);
	}
	ddb_reader_close(r);
	return 0;
}

/* a tool that compiles this file in (parquet-emit) shows its own usage */
#ifndef CSV_EMIT_USAGE
#define CSV_EMIT_USAGE usage
#endif

/*
 * -c LIST: after the table's list (-t), the names of LIST, the gather
 * column, the lineage columns (-l), EventType and created_at, each unless
 * listed already; with no list, exactly these in this order.  The names of
 * LIST and -l are checked among themselves, not against the table's list,
 * which may hold any of them from an earlier run.
 */
static void
set_columns(void)
{
	struct names given = { 0 };
	const char *lists[2] = { cflag, lflag };
	char *list, *p, *q;
	size_t k, nc = 0;
	int i;

	for (i = 0; i < 2; i++) {
		if (lists[i] == NULL)
			continue;
		list = xstrndup(lists[i], strlen(lists[i]));
		for (p = list;; p = q + 1) {
			if ((q = strchr(p, ',')) != NULL)
				*q = '\0';
			if (*p == '\0')
				ddb_usage_error(CSV_EMIT_USAGE, "%s: an empty "
				    "column name in %s", i == 0 ? "--columns" :
				    "--lineage-columns", lists[i]);
			if (i == 1 && names_find(&given, p, 0) >= 0 &&
			    (size_t)names_find(&given, p, 0) < nc)
				;	/* a declared column: it stays there */
			else if (names_find(&given, p, 0) >= 0 ||
			    (i == 1 && (strcmp(p, Eflag) == 0 ||
			    strcmp(p, Cflag) == 0)))
				ddb_usage_error(CSV_EMIT_USAGE, i == 0 ?
				    "--columns: a column listed twice: %s" :
				    "--lineage-columns: a column named twice: "
				    "%s", p);
			else
				names_find(&given, p, 1);
			if (q == NULL)
				break;
		}
		free(list);
		if (i == 0)
			nc = given.n;
	}
	if (xflag == X_GATHER && (names_find(&given, gname, 0) >= 0 ||
	    strcmp(gname, Eflag) == 0 || strcmp(gname, Cflag) == 0))
		ddb_usage_error(CSV_EMIT_USAGE, "--extra: the gather column is "
		    "already a column: %s", gname);
	/* given's ids: the names of -c, then those of -l */
	for (k = 0; k < given.n; k++) {
		if (k == nc && xflag == X_GATHER)
			gid = (size_t)find_name(gname, 1);
		find_name(given.name[k], 1);
	}
	if (given.n == nc && xflag == X_GATHER)
		gid = (size_t)find_name(gname, 1);
	find_name(Eflag, 1);
	find_name(Cflag, 1);
	names_free(&given);
}

/* -t FILE: its list as ids 0 .. nlist - 1; a bad list ends the run */
static void
load_table(const char *path)
{
	struct ddb_reader *r = ddb_reader_open(path, DDB_READ_DEPTH, 0);
	const struct jv *cols = NULL;
	struct jv *o;
	size_t j;
	int rc;

	if (r == NULL)
		err(DDB_EXIT_IO, "%s", path);
	rc = ddb_reader_next(r, &o);
	if (rc == DDB_NEXT_VALUE && o->type == JV_OBJECT)
		cols = jv_get(o, "columns");
	if (rc == DDB_NEXT_VALUE && (cols == NULL || cols->type != JV_ARRAY)) {
		ddb_errat(path, ddb_reader_line(r), "not a column list "
		    "({\"columns\":[...]})");
		rc = DDB_NEXT_BAD;
	}
	for (j = 0; rc == DDB_NEXT_VALUE && j < cols->n; j++) {
		const struct jv *c = &cols->u.a[j];
		if (c->type != JV_STRING || c->n == 0 ||
		    memchr(c->u.s, '\0', c->n) != NULL) {
			ddb_errat(path, ddb_reader_line(r), "column %zu is not "
			    "a name", j + 1);
			rc = DDB_NEXT_BAD;
		} else if (find_name(c->u.s, 0) >= 0) {
			ddb_errat(path, ddb_reader_line(r), "column %s listed "
			    "twice", show_name(c->u.s));
			rc = DDB_NEXT_BAD;
		} else
			find_name(c->u.s, 1);
	}
	for (j = 0; rc == DDB_NEXT_VALUE && j < o->n; j++) {
		if (strcmp(o->u.m[j].k, "columns") == 0)
			continue;
		ddb_buf_putc(&others, ',');
		ddb_json_str(&others, o->u.m[j].k, o->u.m[j].klen);
		ddb_buf_putc(&others, ':');
		ddb_json_write(&others, &o->u.m[j].v);
	}
	if (rc == DDB_NEXT_END)
		ddb_errat(path, 0, "empty: not a column list");
	if (rc == DDB_NEXT_VALUE && ddb_reader_next(r, &o) != DDB_NEXT_END) {
		ddb_errat(path, ddb_reader_line(r), "more than one value");
		rc = DDB_NEXT_BAD;
	}
	if (rc != DDB_NEXT_VALUE) {
		rc = ddb_reader_ioerror(r) ? DDB_EXIT_IO : DDB_EXIT_DATA;
		ddb_reader_close(r);
		exit(rc);
	}
	ddb_reader_close(r);
	nlist = nm.n;
}

/*
 * -o FILE: the header's names as a column list, with the other members of
 * -t's; written whole (a temporary file beside it, then renamed), so a
 * reader sees the old list or the new one.  0, or -1 after a message.
 */
static int
write_columns(const char *path, const size_t *ids, size_t n)
{
	struct ddb_buf b = { NULL, 0, 0 };
	char *tmpname, *slash;
	size_t k;
	int fd, rc = 0;

	ddb_buf_put(&b, "{\"columns\":[", 12);
	for (k = 0; k < n; k++) {
		if (k > 0)
			ddb_buf_putc(&b, ',');
		ddb_json_str(&b, nm.name[ids[k]], nm.len[ids[k]]);
	}
	ddb_buf_putc(&b, ']');
	ddb_buf_put(&b, others.p, others.n);
	ddb_buf_put(&b, "}\n", 2);
	slash = strrchr(path, '/');
	tmpname = xasprintf("%.*s.csv-emit.XXXXXX", slash ? (int)(slash - path
	    + 1) : 0, path);
	if ((fd = mkstemp(tmpname)) < 0) {
		warn("%s", tmpname);
		free(tmpname);
		free(b.p);
		return -1;
	}
	if (ddb_write_all(fd, b.p, b.n) == -1 || fchmod(fd, 0644) != 0 ||
	    fsync(fd) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || close(fd) != 0 || rename(tmpname, path) != 0) {
		warn("%s", path);
		unlink(tmpname);
		rc = -1;
	}
	free(tmpname);
	free(b.p);
	return rc;
}

static void
report_drops(void)
{
	struct ddb_buf b = { NULL, 0, 0 };
	char count[32];
	size_t id;

	for (id = nfixed; id < nm.n; id++) {
		if (nm.count[id] == 0)
			continue;
		ddb_buf_put(&b, b.n == 0 ? " " : ", ", b.n == 0 ? 1 : 2);
		show_name(nm.name[id]);
		ddb_buf_put(&b, tmp.p, tmp.n - 1);
		snprintf(count, sizeof count, " %lu", nm.count[id]);
		ddb_buf_put(&b, count, strlen(count));
	}
	if (b.n > 0) {
		ddb_buf_putc(&b, '\0');
		warnx("dropped cells of attributes not in --columns:%s", b.p);
	}
	free(b.p);
}

/* one of the options that decide the columns, taken: 1, else 0 */
static int
column_option(int c, const char *arg)
{
	switch (c) {
	case 'c': cflag = arg; break;
	case 'C': Cflag = arg; break;
	case 'E': Eflag = arg; break;
	case 'l': lflag = arg; break;
	case 'o': oflag = arg; break;
	case 't': tflag = arg; break;
	case 'x':
		xarg = arg;
		if (strcmp(arg, "fail") == 0)
			xflag = X_FAIL;
		else if (strcmp(arg, "drop") == 0)
			xflag = X_DROP;
		else if (strncmp(arg, "gather=", 7) == 0 && arg[7] != '\0') {
			xflag = X_GATHER;
			gname = arg + 7;
		} else
			ddb_usage_error(CSV_EMIT_USAGE,
			    "--extra: fail, drop or "
			    "gather=NAME, not %s", arg);
		break;
	default:
		return 0;
	}
	return 1;
}

/* the column options, checked together (usage errors exit) */
static void
columns_check(void)
{
	if (xarg != NULL && cflag == NULL)
		ddb_usage_error(CSV_EMIT_USAGE, "--extra needs --columns");
	if (lflag != NULL && cflag == NULL)
		ddb_usage_error(CSV_EMIT_USAGE, "--lineage-columns needs "
		    "--columns (without it the rows place them)");
	if (xflag == X_UNSET)
		xflag = cflag != NULL ? X_GATHER : X_FAIL;
	if (*Eflag == '\0' || *Cflag == '\0')
		ddb_usage_error(CSV_EMIT_USAGE, "--event-type-column and "
		    "--created-at-column need a name");
	if (strcmp(Eflag, Cflag) == 0)
		ddb_usage_error(CSV_EMIT_USAGE, "the event type and created-at "
		    "columns need different names: %s", Eflag);
}

/* the columns known before any row: the table's list, -c's */
static void
columns_begin(void)
{
	size_t k;

	if (tflag != NULL)
		load_table(tflag);
	if (cflag != NULL) {
		set_columns();
		nfixed = norder = nm.n;
		order = xreallocarray(NULL, norder, sizeof *order);
		for (k = 0; k < norder; k++)
			order[k] = k;
		alloc_slots();
	} else if (nlist == 0) {
		/* ids 0 and 1, written last */
		find_name(Eflag, 1);
		find_name(Cflag, 1);
	}
}

/*
 * after the output is closed: -o's list, the reports of dropped and
 * refused attributes; the exit status
 */
static int
columns_end(int status)
{
	/* no rows: the list as it was (it grows only with rows written) */
	if (oflag != NULL && status == 0 && !bad) {
		size_t *ids = order, n = norder;
		if (nrows == 0) {
			ids = xreallocarray(NULL, nlist + 1, sizeof *ids);
			for (n = 0; n < nlist; n++)
				ids[n] = n;
		}
		if (write_columns(oflag, ids, n) < 0)
			status = DDB_EXIT_IO;
		if (ids != order)
			free(ids);
	}
	if (xflag == X_DROP)
		report_drops();
	if (nfailed > nfailtold)
		warnx("%lu more row%s refused for attributes not in --columns",
		    nfailed - nfailtold, nfailed - nfailtold == 1 ? "" : "s");
	return status != 0 ? status : bad ? DDB_EXIT_DATA : DDB_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		COLUMN_LONGOPTS,
		{ "delimiter", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "null", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "gzip", no_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	int c, status = 0, zfd = -1, jsonl = 0;

	while ((c = getopt_long(argc, argv, COLUMN_OPTSTRING "d:f:hHN:Vz",
	    longopts, NULL)) != -1)
		switch (column_option(c, optarg) ? 0 : c) {
		case 0: break;
		case 'd':
			if (strcmp(optarg, "\\t") == 0)
				dflag = '\t';
			else if (strlen(optarg) != 1 || strchr("\"\r\n", *optarg))
				ddb_usage_error(CSV_EMIT_USAGE, "--delimiter: "
				    "one byte other than \", CR and LF, or "
				    "\\t: %s", optarg);
			else
				dflag = (unsigned char)*optarg;
			break;
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				jsonl = 1;
			else if (strcmp(optarg, "csv") != 0)
				ddb_usage_error(CSV_EMIT_USAGE, "--format: csv "
				    "or jsonl, not %s", optarg);
			break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'H': Hflag = 1; break;
		case 'N': Nflag = optarg; break;
		case 'V': ddb_print_version(); break;
		case 'z': zflag = 1; break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	columns_check();
	if (jsonl && Hflag)
		ddb_usage_error(CSV_EMIT_USAGE, "--format jsonl names cells by "
		    "the header: not with -H");

	special['"'] = special['\r'] = special['\n'] = 1;
	special[dflag] = 1;
	nullq = xreallocarray(NULL, 2 * strlen(Nflag) + 10, 1);
	nullqlen = quote_to(nullq, Nflag, strlen(Nflag));
	if (zflag)
		zfd = gz_begin();
	/* the CSV to a temporary file, its JSON lines to stdout (or -z) */
	if (jsonl)
		jsonl_begin();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	columns_begin();

	if (argc == 0)
		status = read_file("-");
	for (; status == 0 && *argv != NULL; argv++)
		status = read_file(*argv);

	if (cflag == NULL && status == 0 && !bad && nrows > 0) {
		spool_order();
		write_header();
		spool_replay();
	}
	spool_close(&spool);
	if (jsonl)
		jsonl_end(status == 0 && !bad, dflag, Nflag);
	if (zflag)
		gz_end(zfd);
	ddb_close_stdout();
	return columns_end(status);
}
