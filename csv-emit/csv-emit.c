/* csv-emit.c: write rows (flat JSON objects, one per line) as RFC 4180 CSV */
#include <errno.h>
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb.h"

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
static struct {
	char **name;
	uint32_t *hash;
	unsigned long *count;
	size_t n, cap;
	uint32_t *tab;		/* open addressing: id + 1, 0 is empty */
	size_t mask;
} nm;
static size_t nfixed;		/* -c: ids below this are columns */
static size_t gid;		/* -x gather: the id of its column */
static size_t *order;		/* ids in header order */
static size_t norder;

/* one row, rendered: cells as [struct cell][quoted bytes], in row order */
struct cell {
	uint32_t col, len;
};
static struct {
	char *p;
	size_t n, cap;
} row;

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

static _Noreturn void
die_nomem(void)
{
	errx(DDB_EXIT_IO, "out of memory");
}

static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		die_nomem();
	if ((p = realloc(p, n * size)) == NULL)
		die_nomem();
	return p;
}

static uint32_t
hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* the id of name s, added when add is set; -1 if absent */
static long
find_name(const char *s, int add)
{
	size_t n = strlen(s), i, id;
	uint32_t h = hash_name(s, n);

	if (nm.tab != NULL)
		for (i = h & nm.mask; nm.tab[i] != 0; i = (i + 1) & nm.mask) {
			id = nm.tab[i] - 1;
			if (nm.hash[id] == h && strcmp(nm.name[id], s) == 0)
				return (long)id;
		}
	if (!add)
		return -1;
	if (nm.n == nm.cap) {
		nm.cap = nm.cap ? nm.cap * 2 : 64;
		nm.name = xreallocarray(nm.name, nm.cap, sizeof *nm.name);
		nm.hash = xreallocarray(nm.hash, nm.cap, sizeof *nm.hash);
		nm.count = xreallocarray(nm.count, nm.cap, sizeof *nm.count);
		/* a table twice the names' capacity stays at most half full */
		free(nm.tab);
		nm.mask = nm.cap * 2 - 1;
		if ((nm.tab = calloc(nm.mask + 1, sizeof *nm.tab)) == NULL)
			die_nomem();
		for (id = 0; id < nm.n; id++) {
			for (i = nm.hash[id] & nm.mask; nm.tab[i] != 0;
			    i = (i + 1) & nm.mask)
				;
			nm.tab[i] = (uint32_t)id + 1;
		}
	}
	id = nm.n++;
	if ((nm.name[id] = strdup(s)) == NULL)
		die_nomem();
	nm.hash[id] = h;
	nm.count[id] = 0;
	for (i = h & nm.mask; nm.tab[i] != 0; i = (i + 1) & nm.mask)
		;
	nm.tab[i] = (uint32_t)id + 1;
	return (long)id;
}

static void
row_reserve(size_t n)
{
	if (row.cap - row.n >= n)
		return;
	if (n > SIZE_MAX / 2 - row.n)
		die_nomem();
	row.cap = row.cap ? row.cap : 4096;
	while (row.cap - row.n < n)
		row.cap *= 2;
	if ((row.p = realloc(row.p, row.cap)) == NULL)
		die_nomem();
}

/* the length of s as a cell: n, or with quotes and doubled '"' */
static size_t
quoted_len(const char *s, size_t n)
{
	size_t i, q = 0;
	int need = 0;

	for (i = 0; i < n; i++)
		if (special[(unsigned char)s[i]]) {
			need = 1;
			q += s[i] == '"';
		}
	return need ? n + q + 2 : n;
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
			dst[o++] = s[i];
			if (s[i] == '"')
				dst[o++] = '"';
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
	row_reserve(sizeof c + len);
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
			putc_unlocked(dflag, stdout);
		p = nm.name[order[k]];
		if (quoted_len(p, strlen(p)) == strlen(p))
			fputs_unlocked(p, stdout);
		else {
			putc_unlocked('"', stdout);
			for (; *p != '\0'; p++) {
				if (*p == '"')
					putc_unlocked('"', stdout);
				putc_unlocked(*p, stdout);
			}
			putc_unlocked('"', stdout);
		}
	}
	putc_unlocked('\n', stdout);
	if (ferror_unlocked(stdout))
		write_failed();
}

/* write the row in row.p, its cells put in header order */
static void
emit_row(void)
{
	struct cell c;
	size_t pos = 0, k, id;

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
	for (k = 0; k < norder; k++) {
		if (k > 0)
			putc_unlocked(dflag, stdout);
		id = order[k];
		if (slotgen[id] == curgen)
			fwrite_unlocked(row.p + slotoff[id], 1, slotlen[id],
			    stdout);
		else
			fwrite_unlocked(nullq, 1, nullqlen, stdout);
	}
	putc_unlocked('\n', stdout);
	if (ferror_unlocked(stdout))
		write_failed();
}

static void
alloc_slots(void)
{
	nslots = nm.n;
	slotoff = xreallocarray(NULL, nm.n, sizeof *slotoff);
	slotlen = xreallocarray(NULL, nm.n, sizeof *slotlen);
	slotgen = calloc(nm.n, sizeof *slotgen);
	if (slotgen == NULL)
		die_nomem();
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
				pred = xreallocarray(pred, predcap, sizeof *pred);
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

static void
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (asprintf(&path, "%s/csv-emit.XXXXXX", dir) < 0)
		die_nomem();
	if ((fd = mkstemp(path)) < 0)
		err(DDB_EXIT_IO, "temporary file in %s", dir);
	unlink(path);
	free(path);
	if ((spool = fdopen(fd, "w+b")) == NULL)
		err(DDB_EXIT_IO, "temporary file");
	setvbuf(spool, NULL, _IOFBF, 1 << 16);
}

static int
spool_put(const char *name, long line)
{
	uint32_t n = (uint32_t)row.n;

	if (row.n > UINT32_MAX) {
		ddb_errat(name, line, "a row longer than 4 GB");
		return -1;
	}
	if (fwrite_unlocked(&n, sizeof n, 1, spool) != 1 ||
	    fwrite_unlocked(row.p, 1, row.n, spool) != row.n)
		err(DDB_EXIT_IO, "temporary file");
	return 0;
}

static unsigned long nrows;	/* rows written or spooled */
static int bad;			/* a row was bad: exit 1, and no spool output */

static void
spool_replay(void)
{
	unsigned long k;
	uint32_t n;

	if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
		err(DDB_EXIT_IO, "temporary file");
	for (k = 0; k < nrows; k++) {
		if (fread_unlocked(&n, sizeof n, 1, spool) != 1)
			break;
		row.n = 0;
		row_reserve(n);
		if (fread_unlocked(row.p, 1, n, spool) != n)
			break;
		row.n = n;
		emit_row();
	}
	if (ferror(spool))
		err(DDB_EXIT_IO, "temporary file");
	if (k < nrows)
		errx(DDB_EXIT_IO, "temporary file: short read");
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
			spool_open();
		if (spool_put(name, line) < 0)
			bad = 1;
		else
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

	if ((list = strdup(cflag)) == NULL)
		die_nomem();
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
	size_t id;
	int first = 1;

	for (id = nfixed; id < nm.n; id++) {
		if (nm.count[id] == 0)
			continue;
		if (first)
			fprintf(stderr, "csv-emit: dropped cells of attributes "
			    "not in --columns:");
		fprintf(stderr, "%s %s %lu", first ? "" : ",",
		    show_name(nm.name[id]), nm.count[id]);
		first = 0;
	}
	if (!first)
		fputc('\n', stderr);
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
	if ((nullq = malloc(nullqlen + 1)) == NULL)
		die_nomem();
	quote_cell(nullq, Nflag, strlen(Nflag), nullqlen);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (cflag != NULL) {
		set_columns();
		nfixed = norder = nm.n;
		order = xreallocarray(NULL, norder, sizeof *order);
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
		order = xreallocarray(NULL, norder, sizeof *order);
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
