/* csv-emit.c: write rows (flat JSON objects, one per line) as RFC 4180 CSV */
#include <errno.h>
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv-emit.h"

enum { X_FAIL, X_DROP, X_GATHER };

static int dflag = ',';			/* -d: the delimiter byte */
static const char *Nflag = "";		/* -N: text for null and missing */
static int Hflag;			/* -H: no header line */
static const char *cflag;		/* -c: fixed column list */
static int xflag = X_FAIL;		/* -x: what to do with other attributes */
static const char *gname;		/* -x gather=NAME */
static const char *Eflag = "EventType";	/* -E */
static const char *Cflag = "created_at";	/* -C */

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
	fputs("usage: csv-emit [-H] [-d C] [-N TEXT] [-E NAME] [-C NAME]\n"
	    "                [-c LIST [-x fail|drop|gather=NAME]] [file ...]\n",
	    fp);
	if (fp == stdout)
		fputs("  -c, --columns LIST          fixed columns, comma-separated; streams\n"
		    "  -x, --extra ACTION          other attributes with -c: fail, drop,\n"
		    "                              gather=NAME (one JSON object column)\n"
		    "  -d, --delimiter C           one byte, or \\t for TAB (default ,)\n"
		    "  -N, --null TEXT             cell text for null and missing values\n"
		    "  -H, --no-header             leave out the header line\n"
		    "  -E, --event-type-column NAME  (default EventType)\n"
		    "  -C, --created-at-column NAME  (default created_at)\n"
		    "  -h, --help                  this text\n"
		    "  -V, --version               print the version\n", fp);
	ddb_usage_exit(fp, status);
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
	size_t i = 0, q = 0;

#ifdef DDB_SWAR
	/* most cells need no quotes: eight bytes at a time to the first */
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
	if (i == n)
		return n;
#ifdef DDB_SWAR
	for (; n - i >= 8; i += 8)
		q += (size_t)__builtin_popcountll(ddb_eq8x(ddb_load8(s + i),
		    '"'));
#endif
	for (; i < n; i++)
		q += s[i] == '"';
	return n + q + 2;
}

/* s as a cell of length qlen (from quoted_len) into dst */
static void
quote_cell(char *dst, const char *s, size_t n, size_t qlen)
{
	size_t i, o = 1;

	if (qlen == n) {
		memcpy(dst, s, n);
		return;
	}
	dst[0] = '"';
	if (qlen == n + 2)
		memcpy(dst + 1, s, n);
	else
		for (i = 0; i < n; i++) {
			/* no branch on the byte: JSON cells are full of '"' */
			dst[o++] = s[i];
			dst[o] = '"';
			o += s[i] == '"';
		}
	dst[qlen - 1] = '"';
}

static int
add_cell(const char *name, long line, size_t col, const char *s, size_t n)
{
	struct cell c;
	size_t len = quoted_len(s, n);

	if (len > UINT32_MAX) {
		ddb_errat(name, line, "a cell longer than 4 GB");
		return -1;
	}
	ddb_buf_reserve(&row, sizeof c + len);
	quote_cell(row.p + row.n + sizeof c, s, n, len);
	c.col = (uint32_t)col;
	c.len = (uint32_t)len;
	memcpy(row.p + row.n, &c, sizeof c);
	row.n += sizeof c + len;
	return 0;
}

/* a value's cell text: strings as they are, everything else as JSON */
static struct ddb_buf tmp;	/* JSON text of a cell or a name */

static int
add_value(const char *name, long line, size_t col, const struct jv *v)
{
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
	size_t k;

	if (Hflag)
		return;
	for (k = 0; k < norder; k++) {
		if (k > 0)
			putc(dflag, stdout);
		p = nm.name[order[k]];
		if (quoted_len(p, strlen(p)) == strlen(p))
			fputs(p, stdout);
		else {
			putc('"', stdout);
			for (; *p != '\0'; p++) {
				if (*p == '"')
					putc('"', stdout);
				putc(*p, stdout);
			}
			putc('"', stdout);
		}
	}
	putc('\n', stdout);
	if (ferror(stdout))
		write_failed();
}

/*
 * write the row in row.p, its cells put in header order: the line is put
 * together in outline.p and goes to stdio in one call (a call per cell was a
 * fifth of csv-emit's instructions, measured with callgrind)
 */
static struct ddb_buf outline;

static void
emit_row(void)
{
	struct cell c;
	size_t pos = 0, k, id, len;
	const char *s;
	char *d;

	curgen++;
	while (pos < row.n) {
		memcpy(&c, row.p + pos, sizeof c);
		pos += sizeof c;
		if (c.col >= nslots || c.len > row.n - pos)
			errx(DDB_EXIT_IO, "temporary file is corrupt");
		slotoff[c.col] = pos;
		slotlen[c.col] = c.len;
		slotgen[c.col] = curgen;
		pos += c.len;
	}
	/* at most the row's cells, the -N text for each column, delimiters */
	ddb_buf_reserve(&outline, row.n + norder * (nullqlen + 1) + 1);
	d = outline.p;
	for (k = 0; k < norder; k++) {
		id = order[k];
		if (slotgen[id] == curgen) {
			s = row.p + slotoff[id];
			len = slotlen[id];
		} else {
			s = nullq;
			len = nullqlen;
		}
		memcpy(d, s, len);
		d += len;
		*d++ = (char)dflag;
	}
	if (norder > 0)
		d--;
	*d++ = '\n';
	if (fwrite_unlocked(outline.p, 1, (size_t)(d - outline.p), stdout) !=
	    (size_t)(d - outline.p) || ferror_unlocked(stdout))
		write_failed();
}

static void
alloc_slots(void)
{
	nslots = nm.n;
	slotoff = ddb_reallocarray(NULL, nm.n, sizeof *slotoff);
	slotlen = ddb_reallocarray(NULL, nm.n, sizeof *slotlen);
	slotgen = ddb_reallocarray(NULL, nm.n, sizeof *slotgen);
	memset(slotgen, 0, nm.n * sizeof *slotgen);
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

static size_t *pred, npred, predcap;	/* the ids of the last row's keys */

static unsigned long nfailed, nfailtold;	/* -x fail: rows refused, and named */

/* render one row object into row.p; -1 bad (reported) */
static int
render_row(const char *name, long line, const struct jv *o)
{
	static struct ddb_buf g;	/* -x gather: the gathered members */
	size_t i = 0, j;
	long id;
	int rc = 0, refused = 0, told = 0;

	row.n = 0;
	g.n = 0;
	for (j = 0; j < o->n; j++) {
		const char *k = o->u.m[j].k;
		const struct jv *v = &o->u.m[j].v;
		/* rows mostly repeat the keys of the row before */
		if (i < npred && strcmp(nm.name[pred[i]], k) == 0)
			id = (long)pred[i];
		else {
			id = find_name(k, 1);
			if (i >= predcap) {
				predcap = predcap ? predcap * 2 : 64;
				pred = ddb_reallocarray(pred, predcap, sizeof *pred);
			}
			while (npred <= i)
				pred[npred++] = 0;
			pred[i] = (size_t)id;
		}
		i++;
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
 * Without -c the header needs every row first: rows wait, rendered, in a
 * private temporary file, so memory holds only the column names.
 */
static FILE *spool;

static unsigned long nrows;	/* rows written or spooled */
static int bad;			/* a row was bad: exit 1, and no spool output */

static void
spool_replay(void)
{
	unsigned long k;

	spool_rewind(spool);
	for (k = 0; k < nrows; k++) {
		if (spool_get(spool, &row) == 0)
			errx(DDB_EXIT_IO, "temporary file: short read");
		emit_row();
	}
	fclose(spool);
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
	if (cflag != NULL) {
		if (nrows++ == 0)
			write_header();
		emit_row();
	} else if (!bad) {
		if (spool == NULL)
			spool = spool_open();
		if (spool_put(spool, &row) < 0) {
			ddb_errat(name, line, "a row longer than 4 GB");
			bad = 1;
		} else
			nrows++;
	}
}

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
	for (;;) {
		rc = ddb_reader_next(r, &o);
		if (rc == 0)
			break;
		if (rc == -1) {
			bad = 1;
			continue;
		}
		if (rc < 0) {
			rc = ddb_reader_ioerror(r) ? DDB_EXIT_IO : DDB_EXIT_DATA;
			ddb_reader_close(r);
			return rc;
		}
		do_row(ddb_reader_name(r), ddb_reader_line(r), o);
	}
	ddb_reader_close(r);
	return 0;
}

static _Noreturn void
bad_usage(const char *msg, const char *arg)
{
	warnx("%s%s", msg, arg);
	usage(stderr, DDB_EXIT_USAGE);
}

/* -c LIST: ids in list order, then the gather column, EventType, created_at */
static void
set_columns(void)
{
	char *list, *p, *q;

	list = ddb_strndup(cflag, strlen(cflag));
	for (p = list;; p = q + 1) {
		if ((q = strchr(p, ',')) != NULL)
			*q = '\0';
		if (*p == '\0')
			bad_usage("--columns: an empty column name in ", cflag);
		if (find_name(p, 0) >= 0)
			bad_usage("--columns: a column listed twice: ", p);
		find_name(p, 1);
		if (q == NULL)
			break;
	}
	if (xflag == X_GATHER) {
		if (find_name(gname, 0) >= 0 || strcmp(gname, Eflag) == 0 ||
		    strcmp(gname, Cflag) == 0)
			bad_usage("--extra: the gather column is already a "
			    "column: ", gname);
		gid = (size_t)find_name(gname, 1);
	}
	find_name(Eflag, 1);
	find_name(Cflag, 1);
	free(list);
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "columns", required_argument, NULL, 'c' },
		{ "created-at-column", required_argument, NULL, 'C' },
		{ "delimiter", required_argument, NULL, 'd' },
		{ "event-type-column", required_argument, NULL, 'E' },
		{ "extra", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "null", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *xarg = NULL;
	size_t k;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "c:C:d:E:hHN:Vx:", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'c': cflag = optarg; break;
		case 'C': Cflag = optarg; break;
		case 'd':
			if (strcmp(optarg, "\\t") == 0)
				dflag = '\t';
			else if (strlen(optarg) != 1 || strchr("\"\r\n", *optarg))
				bad_usage("--delimiter: one byte other than "
				    "\", CR and LF, or \\t: ", optarg);
			else
				dflag = (unsigned char)*optarg;
			break;
		case 'E': Eflag = optarg; break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'H': Hflag = 1; break;
		case 'N': Nflag = optarg; break;
		case 'V': ddb_print_version(); break;
		case 'x':
			xarg = optarg;
			if (strcmp(optarg, "fail") == 0)
				xflag = X_FAIL;
			else if (strcmp(optarg, "drop") == 0)
				xflag = X_DROP;
			else if (strncmp(optarg, "gather=", 7) == 0 &&
			    optarg[7] != '\0') {
				xflag = X_GATHER;
				gname = optarg + 7;
			} else
				bad_usage("--extra: fail, drop or gather=NAME, "
				    "not ", optarg);
			break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (xarg != NULL && cflag == NULL)
		bad_usage("--extra needs --columns", "");
	if (*Eflag == '\0' || *Cflag == '\0')
		bad_usage("--event-type-column and --created-at-column "
		    "need a name", "");
	if (strcmp(Eflag, Cflag) == 0)
		bad_usage("the event type and created-at columns need "
		    "different names: ", Eflag);

	special['"'] = special['\r'] = special['\n'] = 1;
	special[dflag] = 1;
	nullqlen = quoted_len(Nflag, strlen(Nflag));
	nullq = ddb_reallocarray(NULL, nullqlen + 1, 1);
	quote_cell(nullq, Nflag, strlen(Nflag), nullqlen);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (cflag != NULL) {
		set_columns();
		nfixed = norder = nm.n;
		order = ddb_reallocarray(NULL, norder, sizeof *order);
		for (k = 0; k < norder; k++)
			order[k] = k;
		alloc_slots();
	} else {
		/* ids 0 and 1, written last */
		find_name(Eflag, 1);
		find_name(Cflag, 1);
	}

	if (argc == 0)
		status = read_file("-");
	for (; status == 0 && *argv != NULL; argv++)
		status = read_file(*argv);

	if (cflag == NULL && status == 0 && !bad && nrows > 0) {
		norder = nm.n;
		order = ddb_reallocarray(NULL, norder, sizeof *order);
		for (k = 2; k < norder; k++)
			order[k - 2] = k;
		order[norder - 2] = 0;
		order[norder - 1] = 1;
		alloc_slots();
		write_header();
		spool_replay();
	}
	ddb_close_stdout();
	if (xflag == X_DROP)
		report_drops();
	if (nfailed > nfailtold)
		warnx("%lu more rows refused for attributes not in --columns",
		    nfailed - nfailtold);
	return status != 0 ? status : bad ? DDB_EXIT_DATA : DDB_EXIT_OK;
}
