/*
 * parquet-emit.c: write rows (flat JSON objects, one per line) as one
 * Parquet file, with the columns and cells csv-emit gives the same rows.
 *
 * csv-emit's own code is compiled in (its main renamed), so which
 * attribute lands in which column (--columns, --extra, the table's list,
 * the added columns last) and what a cell says are decided in one place:
 * each row is read and rendered by csv-emit's code, its fast path
 * included, with quoting turned off, and its cells, with the kind of value
 * each held, come here in place of the CSV line (the CSV_EMIT_ hooks).  A column's type needs every row first (a
 * column is BOOLEAN only if no row holds anything but true or false in
 * it), so the rows wait in a private temporary file, as csv-emit's rows
 * wait for the header, and are written from there row group by row group.
 */
#include <stdio.h>

static _Noreturn void pq_usage(FILE *fp, int status);
static void pq_kind(size_t col, int c);
static void pq_put_row(const char *name, long line);

#define main csv_emit_main
#define CSV_EMIT_KIND(col, c) pq_kind(col, c)
#define CSV_EMIT_KIND_JV(col, v) pq_kind(col, (v)->type == JV_STRING ? '"' : \
    (v)->type == JV_NUMBER ? '0' : (v)->type == JV_BOOL ? 't' : \
    (v)->type == JV_NULL ? 'n' : '{')
#define CSV_EMIT_ROW(name, line) pq_put_row(name, line)
#define CSV_EMIT_USAGE pq_usage
#include "../csv-emit/csv-emit.c"
#undef main

#include <math.h>

#include "parquet.h"

/* what a cell was in the row: its column's type comes from these */
enum { K_STRING = 1, K_NUMBER = 2, K_BOOL = 4, K_JSON = 8 };

static struct pq_settings pset = {
	PQ_ZSTD, 0, 64 << 20, 1 << 20, 1 << 20
};
static int doubles;		/* --numbers double: all-number columns */
static int textonly;		/* --types text: every column a STRING */

static struct spool rows;	/* the rows, as cells: see spool_row */
static unsigned long nkept;	/* rows spooled */
static unsigned char *kinds;	/* every kind of cell each name had */
static unsigned char *rowkind;	/* this row's value kinds by name */
static size_t nkinds;

static _Noreturn void
pq_usage(FILE *fp, int status)
{
	fputs("usage: parquet-emit [--compression CODEC[:LEVEL]] "
	    "[--row-group-size BYTES]\n"
	    "                    [--dictionary-size BYTES] [--numbers text|double]\n"
	    "                    [--types values|text]\n"
	    "                    [-E NAME] [-C NAME] [-t FILE] [-o FILE]\n"
	    "                    [-c LIST [-x fail|drop|gather=NAME] [-l LIST]] "
	    "[file ...]\n", fp);
	if (fp == stdout)
		fputs(COLUMN_HELP
		    "      --compression CODEC     zstd (default), snappy, gzip or none;\n"
		    "                              zstd:LEVEL, gzip:LEVEL\n"
		    "      --row-group-size BYTES  values in a row group (default 64M)\n"
		    "      --dictionary-size BYTES\n"
		    "                              a column chunk's dictionary at most\n"
		    "                              (default 1M; 0: no dictionaries)\n"
		    "      --numbers FORM          text: numbers as their exact text\n"
		    "                              (default); double: all-number columns\n"
		    "                              as DOUBLE\n"
		    "      --types FORM            values: columns typed by their values\n"
		    "                              (default); text: every column a STRING\n"
		    "                              (one schema for every file of a table)\n"
		    "  (the suite's option letters are all taken: these have none)\n"
		    "  -h, --help                  this text\n"
		    "  -V, --version               print the version\n", fp);
	ddb_usage_exit(fp, status);
}

static _Noreturn void
pq_bad_usage(const char *msg, const char *arg)
{
	warnx("%s%s", msg, arg);
	pq_usage(stderr, DDB_EXIT_USAGE);
}

/*
 * A number's text as sign, significant digits and the exponent of a point
 * before the first of them; 0 has no digits.  s is a JSON number.
 */
struct dec {
	int neg;
	char dig[1100];
	size_t n;
	long exp;
};

static int
to_dec(const char *s, size_t len, struct dec *d)
{
	size_t i = 0;
	long e = 0, point = 0;
	int seen = 0, esign = 1;

	d->neg = 0;
	d->n = 0;
	if (i < len && s[i] == '-') {
		d->neg = 1;
		i++;
	}
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			seen = 1;
			continue;
		}
		if (d->n == 0 && s[i] == '0') {
			if (seen)
				point--;
			continue;
		}
		if (d->n == sizeof d->dig)
			return -1;
		d->dig[d->n++] = s[i];
		if (!seen)
			point++;
	}
	if (i < len) {
		i++;
		if (s[i] == '+' || s[i] == '-')
			esign = s[i++] == '-' ? -1 : 1;
		for (; i < len; i++) {
			if (e > 100000)
				return -1;
			e = e * 10 + (s[i] - '0');
		}
	}
	while (d->n > 0 && d->dig[d->n - 1] == '0')
		d->n--;
	d->exp = point + esign * e;
	if (d->n == 0)
		d->neg = 0;
	return 0;
}

/*
 * the number s as a double, if the double's shortest decimal form (what a
 * reader prints) is the same number: 0, else -1
 */
static int
exact_double(const char *s, size_t n, double *v)
{
	char text[1024], shortest[40];
	struct dec a, b;
	int p;

	if (n >= sizeof text)
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	*v = strtod(text, NULL);
	if (!isfinite(*v))
		return -1;
	for (p = 1; p <= 17; p++) {
		snprintf(shortest, sizeof shortest, "%.*e", p - 1, *v);
		if (strtod(shortest, NULL) == *v)
			break;
	}
	if (to_dec(text, n, &a) < 0 ||
	    to_dec(shortest, strlen(shortest), &b) < 0)
		return -1;
	if (a.neg != b.neg || a.n != b.n || (a.n > 0 && (a.exp != b.exp ||
	    memcmp(a.dig, b.dig, a.n) != 0)))
		return -1;
	if (*v == 0 && a.neg)
		*v = -0.0;
	return 0;
}

/* kinds[] and rowkind[] for every name */
static void
grow_kinds(void)
{
	if (nkinds >= nm.n)
		return;
	kinds = ddb_reallocarray(kinds, nm.n, 1);
	rowkind = ddb_reallocarray(rowkind, nm.n, 1);
	memset(kinds + nkinds, 0, nm.n - nkinds);
	memset(rowkind + nkinds, 0, nm.n - nkinds);
	nkinds = nm.n;
}

/* csv-emit's code says what kind of value the cell of col is */
static void
pq_kind(size_t col, int c)
{
	grow_kinds();
	rowkind[col] = c == '"' ? K_STRING : c == '{' || c == '[' ? K_JSON :
	    c == 't' || c == 'f' ? K_BOOL : c == 'n' ? 0 : K_NUMBER;
}

/*
 * The row csv-emit rendered into row.p, to the spool: a count of cells,
 * then each cell as its column's id, its kind, its length and its text.
 * -1 if a number cannot be what -m asks (reported).
 */
static int
spool_row(const char *name, long line)
{
	struct cell c;
	size_t pos, start = rows.buf.n;
	uint32_t ncell = 0;
	unsigned char k;
	double d;

	grow_kinds();
	ddb_buf_reserve(&rows.buf, 4);
	rows.buf.n += 4;
	for (pos = 0; pos < row.n; pos += c.len) {
		memcpy(&c, row.p + pos, sizeof c);
		pos += sizeof c;
		k = xflag == X_GATHER && c.col == gid ? K_JSON :
		    rowkind[c.col];
		if (k == K_NUMBER && doubles && !textonly &&
		    exact_double(row.p + pos, c.len, &d) < 0) {
			ddb_errat(name, line, "a number in column %s that a "
			    "DOUBLE cannot hold exactly (see --numbers)",
			    show_name(nm.name[c.col]));
			rows.buf.n = start;
			return -1;
		}
		kinds[c.col] |= k;
		ddb_buf_reserve(&rows.buf, sizeof c + 1 + c.len);
		memcpy(rows.buf.p + rows.buf.n, &c, sizeof c);
		rows.buf.p[rows.buf.n + sizeof c] = (char)k;
		memcpy(rows.buf.p + rows.buf.n + sizeof c + 1, row.p + pos,
		    c.len);
		rows.buf.n += sizeof c + 1 + c.len;
		ncell++;
	}
	memcpy(rows.buf.p + start, &ncell, 4);
	if (spool_add(&rows, start, start) < 0) {
		ddb_errat(name, line, "a row longer than 4 GB");
		return -1;
	}
	nkept++;
	return 0;
}

/*
 * csv-emit's put_row: the row rendered, by its fast path or its parser's;
 * a bad row before without -c means no file: spooling it is no use
 */
static void
pq_put_row(const char *name, long line)
{
	if ((cflag == NULL && bad) || spool_row(name, line) < 0)
		bad = 1;
}

/* the type of a column whose cells were these kinds */
static enum pq_type
column_type(unsigned char k)
{
	if (textonly)
		return PQ_STRING;
	if (k == K_BOOL)
		return PQ_BOOLEAN;
	if (k == K_NUMBER && doubles)
		return PQ_DOUBLE;
	return PQ_STRING;	/* mixed kinds: the cells' text */
}

/* the spooled rows as a Parquet file on stdout */
static void
write_file(void)
{
	struct pq_writer *w = pq_open(stdout, &pset);
	struct ddb_buf line = { NULL, 0, 0 };
	struct cell c;
	enum pq_type *type;
	size_t *pos, k, head, at;
	uint32_t ncell, i;
	unsigned long r;
	double d;
	int rc;

	grow_kinds();
	pos = ddb_reallocarray(NULL, nm.n, sizeof *pos);
	type = ddb_reallocarray(NULL, nm.n, sizeof *type);
	for (k = 0; k < norder; k++) {
		pos[order[k]] = k;
		type[order[k]] = column_type(kinds[order[k]]);
		pq_column(w, nm.name[order[k]], type[order[k]]);
	}
	spool_rewind(&rows);
	for (r = 0; r < nkept; r++) {
		if (spool_get(&rows, &line, &head) == 0 || line.n < 4)
			errx(DDB_EXIT_IO, "temporary file: short read");
		memcpy(&ncell, line.p, 4);
		at = 4;
		for (i = 0; i < ncell; i++) {
			if (line.n - at < sizeof c + 1)
				errx(DDB_EXIT_IO, "temporary file is corrupt");
			memcpy(&c, line.p + at, sizeof c);
			at += sizeof c + 1;
			if (c.len > line.n - at || c.col >= nm.n)
				errx(DDB_EXIT_IO, "temporary file is corrupt");
			switch (type[c.col]) {
			case PQ_BOOLEAN:
				rc = pq_boolean(w, pos[c.col], line.p[at] == 't');
				break;
			case PQ_DOUBLE:
				exact_double(line.p + at, c.len, &d);
				rc = pq_double(w, pos[c.col], d);
				break;
			default:
				rc = pq_string(w, pos[c.col], line.p + at, c.len);
			}
			if (rc < 0)
				write_failed();
			at += c.len;
		}
		if (pq_end_row(w) < 0)
			write_failed();
	}
	if (pq_close(w) < 0)
		write_failed();
	free(line.p);
	free(pos);
	free(type);
}

/* a size in bytes, with an optional K, M or G (powers of 1024) */
static size_t
size_arg(const char *opt, const char *s, unsigned long lo)
{
	long long v;

	if (ddb_size_arg(s, (long long)lo, 1LL << 40, &v) != 0) {
		warnx("%s: a size in bytes (K, M, G: 1024s), at least %lu, "
		    "not %s", opt, lo, s);
		pq_usage(stderr, DDB_EXIT_USAGE);
	}
	return (size_t)v;
}

static void
codec_arg(const char *s)
{
	static const struct {
		const char *name;
		enum pq_codec codec;
		int lo, hi;
	} codecs[] = {
		{ "zstd", PQ_ZSTD, 1, 19 }, { "snappy", PQ_SNAPPY, 0, 0 },
		{ "gzip", PQ_GZIP, 1, 9 }, { "none", PQ_NONE, 0, 0 },
	};
	size_t k, n = strcspn(s, ":");
	long level = 0;

	for (k = 0; k < sizeof codecs / sizeof codecs[0]; k++)
		if (strlen(codecs[k].name) == n &&
		    strncmp(s, codecs[k].name, n) == 0)
			break;
	if (k == sizeof codecs / sizeof codecs[0] || (s[n] == ':' &&
	    (codecs[k].hi == 0 || ddb_long_arg(s + n + 1, codecs[k].lo,
	    codecs[k].hi, &level) != 0)))
		pq_bad_usage("--compression: zstd[:1-19], snappy, gzip[:1-9] "
		    "or none, not ", s);
	pset.codec = codecs[k].codec;
	if (pset.codec == PQ_SNAPPY && pq_snappy_load() < 0)
		pq_bad_usage("--compression snappy needs libsnappy.so.1 "
		    "(Debian: libsnappy1v5)", "");
	pset.level = (int)level;
}

/* long options only: every letter of the suite means something already */
enum {
	OPT_COMPRESSION = 256, OPT_DICTIONARY, OPT_NUMBERS, OPT_ROWGROUP,
	OPT_TYPES
};

/* the fuzz harness compiles this file in under another name */
#ifndef PARQUET_EMIT_MAIN
#define PARQUET_EMIT_MAIN main
#endif

int
PARQUET_EMIT_MAIN(int argc, char *argv[])
{
	static const struct option longopts[] = {
		COLUMN_LONGOPTS,
		{ "compression", required_argument, NULL, OPT_COMPRESSION },
		{ "dictionary-size", required_argument, NULL, OPT_DICTIONARY },
		{ "help", no_argument, NULL, 'h' },
		{ "numbers", required_argument, NULL, OPT_NUMBERS },
		{ "row-group-size", required_argument, NULL, OPT_ROWGROUP },
		{ "types", required_argument, NULL, OPT_TYPES },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, status = 0;

	while ((c = getopt_long(argc, argv, COLUMN_OPTSTRING "hV", longopts,
	    NULL)) != -1)
		switch (column_option(c, optarg) ? 0 : c) {
		case 0: break;
		case 'h': pq_usage(stdout, DDB_EXIT_OK);
		case OPT_DICTIONARY: pset.dictionary = size_arg("--dictionary-size",
		    optarg, 0); break;
		case OPT_NUMBERS:
			if (strcmp(optarg, "text") == 0)
				doubles = 0;
			else if (strcmp(optarg, "double") == 0)
				doubles = 1;
			else
				pq_bad_usage("--numbers: text or double, not ",
				    optarg);
			break;
		case OPT_TYPES:
			if (strcmp(optarg, "values") == 0)
				textonly = 0;
			else if (strcmp(optarg, "text") == 0)
				textonly = 1;
			else
				pq_bad_usage("--types: values or text, not ",
				    optarg);
			break;
		case OPT_ROWGROUP: pset.rowgroup = size_arg("--row-group-size",
		    optarg, 1); break;
		case 'V': ddb_print_version(); break;
		case OPT_COMPRESSION: codec_arg(optarg); break;
		default: pq_usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	columns_check();
	/* rows rendered by csv-emit's code: no byte of a cell quoted */
	memset(special, 0, sizeof special);
	dflag = 0xff;		/* in no UTF-8 text: add_plain never quotes */
	nullq = xstrdup("");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	columns_begin();
	spool_open(&rows);

	if (argc == 0)
		status = read_file("-");
	for (; status == 0 && *argv != NULL; argv++)
		status = read_file(*argv);

	if (status == 0 && (cflag != NULL || !bad) && nkept > 0) {
		if (cflag == NULL)
			spool_order();	/* csv-emit's header order */
		write_file();
	}
	spool_close(&rows);
	ddb_close_stdout();
	nrows = nkept;		/* what csv-emit's -o counts */
	return columns_end(status);
}

