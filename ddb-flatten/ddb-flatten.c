/* ddb-flatten: DynamoDB stream records to one plain-JSON record per line */
#include <limits.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ddb.h"
#include "flatten.h"

enum { EV_INSERT = 1, EV_MODIFY = 2, EV_REMOVE = 4 };

static int sflag;		/* -s: stop at the first bad value */
static int Tflag;		/* -T: drop TTL expiry deletes */
static int eflag;		/* -e: eventNames kept (EV_* bits), 0 = all */
static char **tflag;		/* -t: tables kept, NULL = all */
static size_t ntflag;
static const char *nflag;	/* -n: table of records that name none */
static const char *Sflag;	/* -S: directory of one file per table */
/* -P: -S splits a table by the time of each record too: the length of the
   part of YYYYMMDDTHHMMSSZ that names its partition (0: no -P) */
static size_t plen;
static int notime;		/* a full export's item, no export time: exit 2 */
static FILE *refused;		/* --refused FD: a line per record not written */
static long headn = -1;		/* --head N: records of an event taken, -1 all */

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: ddb-flatten [-sT] [-e event[,event...]] "
	    "[-t table[,table...]] [-n table] [-S dir [-P unit]]\n"
	    "                   [--manifest file] [--export-time time] "
	    "[--refused fd]\n"
	    "                   [--head n] [file ...]\n");
	if (status == DDB_EXIT_OK)
		fprintf(fp,
		    "  -e, --event NAME   keep only INSERT, MODIFY or REMOVE records\n"
		    "  -t, --table NAME   keep only records of this table\n"
		    "  -T, --no-ttl       drop deletes made by TTL expiry\n"
		    "  -n, --table-name NAME  table of records without one\n"
		    "  -S, --split DIR    one DIR/N.ndjson per table, a summary "
		    "on stdout\n"
		    "  -P, --partition UNIT  with -S: one file per table and "
		    "year, month, day\n"
		    "                     or hour (UTC) of the records' "
		    "ApproximateCreationDateTime\n"
		    "  -s, --stop         stop at the first bad value\n"
		    "      --manifest FILE    a DynamoDB export's "
		    "manifest-summary.json:\n"
		    "                     its table and export time\n"
		    "      --export-time TIME\n"
		    "                     created_at of a full export's items\n"
		    "      --refused FD   a line per record not written (bad, or "
		    "past --head)\n"
		    "                     on FD: its index in the event, TAB, its "
		    "SequenceNumber or -\n"
		    "      --head N       take only the first N records of each "
		    "event\n"
		    "  -h, --help         show this help\n"
		    "  -V, --version      show the version\n");
	ddb_usage_exit(fp, status);
}

/* bytes that would break a one-line message, escaped as in JSON */
static void
put_clean(FILE *fp, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(fp, c == '\\' ? "\\\\" : "\\u%04x", c);
		else
			putc(c, fp);
	}
}

/* a value quoted for a message, cut at 64 bytes on a character boundary */
static void
put_quoted(FILE *fp, const char *s, size_t n)
{
	size_t m = n;

	if (m > 64) {
		m = 64;
		while (m > 0 && ((unsigned char)s[m] & 0xc0) == 0x80)
			m--;
	}
	putc('"', fp);
	put_clean(fp, s, m);
	fputs(m < n ? "\"..." : "\"", fp);
}

/* a bad record's message, held in c->msg: eventID X: what */
void
bad(struct ctx *c, const struct jv *quote, const char *fmt, ...)
{
	char *msg = NULL;
	size_t len = 0, i;
	FILE *fp;
	va_list ap;
	int k;

	if ((fp = open_memstream(&msg, &len)) == NULL)
		ddb_nomem();
	if (c->eventid != NULL) {
		fputs("eventID ", fp);
		put_clean(fp, c->eventid, strlen(c->eventid));
		fputs(": ", fp);
	} else if (c->recno >= 0)
		fprintf(fp, "Records[%ld]: ", c->recno);
	for (k = 0; k < c->npath; k++) {
		if (c->path[k].key == NULL)
			fprintf(fp, "[%zu]", c->path[k].idx);
		else {
			if (k > 0)
				putc('.', fp);
			put_clean(fp, c->path[k].key, strlen(c->path[k].key));
		}
	}
	if (c->npath > 0)
		fputs(": ", fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	if (quote != NULL && quote->type == JV_STRING) {
		putc(' ', fp);
		put_quoted(fp, quote->u.s, quote->n);
	} else if (quote != NULL && quote->type == JV_OBJECT) {
		for (i = 0; i < quote->n; i++) {
			fputs(i == 0 ? " " : ", ", fp);
			put_quoted(fp, quote->u.m[i].k, quote->u.m[i].klen);
		}
	}
	if (fclose(fp) != 0)
		ddb_nomem();
	ddb_buf_put(&c->msg, msg, len);
	ddb_buf_putc(&c->msg, '\n');
	free(msg);
}

/* what bad() held, said: prog: file:line: message */
void
say(struct ctx *c)
{
	size_t i, k;

	for (i = 0; i < c->msg.n; i = k + 1) {
		k = i + strcspn(c->msg.p + i, "\n");
		ddb_errat(c->name, c->line, "%.*s", (int)(k - i), c->msg.p + i);
	}
	c->msg.n = 0;
}

static int
is_type(const char *k, const char *t)
{
	return k[0] == t[0] && strcmp(k, t) == 0;
}

static int convert_item(struct ctx *c, struct jv *map, int level);

/* SS, NS, BS: an array of strings; NS elements become numbers */
static int
convert_set(struct ctx *c, const char *type, struct jv *arr, int numbers)
{
	size_t i;
	int rc = 0;

	c->npath++;
	for (i = 0; i < arr->n; i++) {
		struct jv *e = &arr->u.a[i];
		c->path[c->npath - 1].key = NULL;
		c->path[c->npath - 1].idx = i;
		if (e->type != JV_STRING) {
			bad(c, NULL, "%s element is %s, not a string", type,
			    jv_type_name(e));
			rc = -1;
			break;
		}
		if (!numbers)
			continue;
		if (!ddb_is_json_number(e->u.s, e->n)) {
			bad(c, NULL, "NS element is not a number");
			rc = -1;
			break;
		}
		e->type = JV_NUMBER;	/* its text, exactly */
	}
	c->npath--;
	return rc;
}

/*
 * One typed attribute value to plain JSON, in place.  level counts the M
 * and L values around it.
 */
static int
convert(struct ctx *c, struct jv *tv, int level)
{
	const char *k;
	struct jv *v;
	size_t n;

	if (tv->type != JV_OBJECT) {
		bad(c, NULL, "typed value is %s, not an object",
		    jv_type_name(tv));
		return -1;
	}
	if ((n = tv->n) != 1) {
		bad(c, tv, "typed value has %zu keys, not 1%s", n,
		    n > 0 ? ":" : "");
		return -1;
	}
	k = tv->u.m[0].k;
	v = &tv->u.m[0].v;

#define WANT(t, what) \
	if (v->type != (t)) { \
		bad(c, NULL, "%s value is %s, not %s", k, jv_type_name(v), \
		    what); \
		return -1; \
	}
	if (is_type(k, "S") || is_type(k, "B")) {
		WANT(JV_STRING, "a string");
	} else if (is_type(k, "N")) {
		WANT(JV_STRING, "a string");
		if (!ddb_is_json_number(v->u.s, v->n)) {
			bad(c, NULL, "N value is not a number");
			return -1;
		}
		v->type = JV_NUMBER;	/* its text, exactly */
	} else if (is_type(k, "SS") || is_type(k, "NS") || is_type(k, "BS")) {
		WANT(JV_ARRAY, "an array");
		if (convert_set(c, k, v, k[0] == 'N') < 0)
			return -1;
	} else if (is_type(k, "M") || is_type(k, "L")) {
		WANT(k[0] == 'M' ? JV_OBJECT : JV_ARRAY,
		    k[0] == 'M' ? "an object" : "an array");
		if (level >= DDB_MAX_DEPTH) {
			bad(c, NULL, "%s nested deeper than %d levels", k,
			    DDB_MAX_DEPTH);
			return -1;
		}
		if (k[0] == 'M') {
			if (convert_item(c, v, level + 1) < 0)
				return -1;
		} else {
			size_t i;
			c->npath++;
			for (i = 0; i < v->n; i++) {
				c->path[c->npath - 1].key = NULL;
				c->path[c->npath - 1].idx = i;
				if (convert(c, &v->u.a[i], level + 1) < 0)
					return -1;
			}
			c->npath--;
		}
	} else if (is_type(k, "NULL")) {
		if (v->type != JV_BOOL || !v->n) {
			bad(c, NULL, "NULL value is %s, not true",
			    v->type == JV_BOOL ? "false" : jv_type_name(v));
			return -1;
		}
		v->type = JV_NULL;
		v->n = 0;
	} else if (is_type(k, "BOOL")) {
		WANT(JV_BOOL, "a boolean");
	} else {
		struct jv ks;
		ks.type = JV_STRING;
		ks.u.s = k;
		ks.n = tv->u.m[0].klen;
		bad(c, &ks, "unknown type descriptor");
		return -1;
	}
#undef WANT
	*tv = *v;
	return 0;
}

/* a map of attribute names to typed values, converted in place */
static int
convert_item(struct ctx *c, struct jv *map, int level)
{
	size_t i;

	c->npath++;
	for (i = 0; i < map->n; i++) {
		c->path[c->npath - 1].key = map->u.m[i].k;
		if (convert(c, &map->u.m[i].v, level) < 0)
			return -1;
	}
	c->npath--;
	return 0;
}

/* NAME in arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL */
static int
arn_table(const char *s, size_t n, const char **name, size_t *len)
{
	struct ddb_arn a;

	if (ddb_arn_parse(s, n, &a) != 0 || !ddb_arn_is_stream(&a))
		return -1;
	*name = a.table.p;
	*len = a.table.n;
	return 0;
}

/* DynamoDB's SequenceNumber: a JSON string, ddb_seq_ok */
static int
json_seq_ok(const struct jv *o)
{
	return o->type == JV_STRING && ddb_seq_ok(o->u.s, o->n);
}

/* ApproximateCreationDateTime: a JSON number or ISO 8601 text */
int
time_of(const struct jv *o, struct ddb_time *t)
{
	if (o->type != JV_NUMBER && o->type != JV_STRING)
		return DDB_TIME_SYNTAX;
	return ddb_time_parse(o->u.s, o->n, o->type == JV_NUMBER, t);
}

static int
table_kept(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ntflag; i++)
		if (strlen(tflag[i]) == n && memcmp(tflag[i], s, n) == 0)
			return 1;
	return 0;
}

static int
is_ttl_delete(const struct jv *rec)
{
	const struct jv *u = jv_get(rec, "userIdentity");

	return jv_streq(jv_get(u, "type"), "Service") &&
	    jv_streq(jv_get(u, "principalId"), "dynamodb.amazonaws.com");
}

/* rec gets a last member "tableName" */
static void
add_table_name(struct ctx *c, struct jv *rec, const char *name, size_t n)
{
	struct jmem *m = ddb_arena_alloc(c->arena, (rec->n + 1) * sizeof *m);

	memcpy(m, rec->u.m, rec->n * sizeof *m);
	m[rec->n].k = "tableName";
	m[rec->n].klen = 9;
	jv_set_string(c->arena, &m[rec->n].v, name, n);
	rec->u.m = m;
	rec->n++;
}

/*
 * --refused: record IDX of its event (NULL: unparsed) is not written.  Its
 * identifier as Lambda's batchItemFailures takes it: kinesis.sequenceNumber
 * of a Kinesis record, else dynamodb.SequenceNumber; "-" when it has none
 * that is valid (nothing unchecked reaches the line).
 */
static void
refuse(long idx, const struct jv *rec)
{
	const struct jv *o = NULL, *k;

	if (refused == NULL || idx < 0)
		return;		/* a lone record has no place in an event */
	if (rec != NULL && rec->type == JV_OBJECT) {
		if ((k = jv_get(rec, "kinesis")) != NULL && k->type == JV_OBJECT &&
		    (o = jv_get(k, "sequenceNumber")) != NULL &&
		    !kinesis_seq_ok(o))
			o = NULL;
		if (o == NULL && (k = jv_get(rec, "dynamodb")) != NULL &&
		    k->type == JV_OBJECT && (o = jv_get(k, "SequenceNumber")) !=
		    NULL && !json_seq_ok(o))
			o = NULL;
	}
	fprintf(refused, "%ld\t", idx);
	if (o != NULL)
		fwrite(o->u.s, 1, o->n, refused);
	else
		putc('-', refused);
	putc('\n', refused);
}

/*
 * Check and convert one record in place.  1: keep it, 0: filtered out,
 * -1: bad (reported).
 */
static int
flatten_record(struct ctx *c, struct jv *rec)
{
	static const char *const images[] = { "Keys", "NewImage", "OldImage" };
	struct jv *o, *ddb;
	const char *name = NULL;
	size_t i, namelen = 0;
	int ev, add = 0;

	c->eventid = NULL;
	c->npath = 0;
	if (rec->type != JV_OBJECT) {
		bad(c, NULL, "record is %s, not an object", jv_type_name(rec));
		return -1;
	}
	if ((o = jv_get(rec, "eventID")) != NULL && o->type == JV_STRING &&
	    memchr(o->u.s, '\0', o->n) == NULL)
		c->eventid = o->u.s;
	/* a Kinesis record or an export line becomes a stream record */
	if (unwrap_record(c, rec) < 0)
		return -1;

	if ((o = jv_get(rec, "eventName")) == NULL) {
		bad(c, NULL, "record has no eventName");
		return -1;
	}
	if (o->type != JV_STRING) {
		bad(c, NULL, "eventName is %s, not a string", jv_type_name(o));
		return -1;
	}
	if (jv_streq(o, "INSERT"))
		ev = EV_INSERT;
	else if (jv_streq(o, "MODIFY"))
		ev = EV_MODIFY;
	else if (jv_streq(o, "REMOVE"))
		ev = EV_REMOVE;
	else {
		bad(c, o, "unknown eventName");
		return -1;
	}
	if ((ddb = jv_get(rec, "dynamodb")) == NULL) {
		bad(c, NULL, "record has no dynamodb object");
		return -1;
	}
	if (ddb->type != JV_OBJECT) {
		bad(c, NULL, "dynamodb is %s, not an object",
		    jv_type_name(ddb));
		return -1;
	}

	/* the table: tableName if the record has one, else from the ARN */
	if ((o = jv_get(rec, "tableName")) != NULL) {
		if (o->type != JV_STRING) {
			bad(c, NULL, "tableName is %s, not a string",
			    jv_type_name(o));
			return -1;
		}
		name = o->u.s;
		namelen = o->n;
	} else if ((o = jv_get(rec, "eventSourceARN")) != NULL) {
		if (o->type != JV_STRING) {
			bad(c, NULL, "eventSourceARN is %s, not a string",
			    jv_type_name(o));
			return -1;
		}
		if (arn_table(o->u.s, o->n, &name, &namelen) < 0) {
			bad(c, o, "eventSourceARN is not a DynamoDB stream "
			    "ARN:");
			return -1;
		}
		add = 1;
	} else if (nflag != NULL) {
		name = nflag;
		namelen = strlen(nflag);
		add = 1;
	}
	/* -S summarises the name for sh: only DynamoDB's own table names */
	if (Sflag != NULL && (name == NULL || !ddb_table_name_ok(name, namelen))) {
		if (name == NULL)
			bad(c, NULL, "record has no table name "
			    "(no tableName or eventSourceARN; see -n)");
		else if (add)
			bad(c, NULL, "eventSourceARN names no valid DynamoDB "
			    "table (3 to 255 of A-Z a-z 0-9 _ - .)");
		else
			bad(c, NULL, "tableName is not a DynamoDB table name");
		return -1;
	}
	if ((o = jv_get(ddb, "SequenceNumber")) != NULL && !json_seq_ok(o)) {
		bad(c, NULL, "dynamodb.SequenceNumber is not 21 to 40 decimal "
		    "digits");
		return -1;
	}
	if ((o = jv_get(jv_get(rec, "kinesis"), "sequenceNumber")) != NULL &&
	    !kinesis_seq_ok(o)) {
		bad(c, NULL, "kinesis.sequenceNumber is not a Kinesis sequence "
		    "number (0, or 1 to 129 digits without a leading 0)");
		return -1;
	}
	if (Sflag != NULL &&
	    (o = jv_get(ddb, "ApproximateCreationDateTime")) != NULL) {
		struct ddb_time t;
		int e = time_of(o, &t);
		if (e != 0) {
			bad(c, NULL, "dynamodb.ApproximateCreationDateTime %s",
			    ddb_time_strerror(e));
			return -1;
		}
	}

	if ((eflag && !(eflag & ev)) ||
	    (tflag != NULL && (name == NULL || !table_kept(name, namelen))) ||
	    (Tflag && ev == EV_REMOVE && is_ttl_delete(rec)))
		return 0;

	for (i = 0; i < sizeof images / sizeof images[0]; i++) {
		if ((o = jv_get(ddb, images[i])) == NULL)
			continue;
		c->path[0].key = images[i];
		c->npath = 1;
		if (o->type != JV_OBJECT) {
			bad(c, NULL, "item is %s, not an object",
			    jv_type_name(o));
			return -1;
		}
		if (convert_item(c, o, 0) < 0)
			return -1;
		c->npath = 0;
	}
	if (add)
		add_table_name(c, rec, name, namelen);
	return 1;
}

/*
 * One file, one loop over its records, shaped as signify's read, check,
 * write: a record is read, checked and converted; an event's records are
 * written once its last is read, only if none was bad (evbad).  A record
 * the reader gave before its event was known sound (DDB_READ_SPEC) and
 * found bad is not said: the reader reads the event again from its start
 * the plain way, and its records come again.  0 ok, else the exit status
 * the file earned.
 */
static int
flatten_file(const char *path)
{
	struct input in;
	struct ctx c;
	struct jv *rec;
	int rc = 0, n, k, evbad = 0;

	memset(&in, 0, sizeof in);
	/* an event's records come one at a time: no tree of a whole event */
	if ((in.r = ddb_reader_open(path, DDB_READ_DEPTH,
	    DDB_READ_PYREPR | DDB_READ_SPLIT |
	    (headn < 0 ? DDB_READ_SPEC : 0))) == NULL) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	memset(&c, 0, sizeof c);
	notime = 0;
	c.name = ddb_reader_name(in.r);
	c.arena = ddb_reader_arena(in.r);
	while ((n = next_record(&in, &c, &rec)) != DDB_NEXT_END) {
		if (n == DDB_NEXT_FATAL) {
			rc = ddb_reader_ioerror(in.r) ? DDB_EXIT_IO :
			    DDB_EXIT_DATA;
			break;
		}
		if (in.part <= 0) {
			/* a new event, or a lone record */
			drop_lines();
			evbad = 0;
			/* its lines take about what its text took */
			lines_reserve(ddb_reader_size(in.r) + 4096);
		}
		if (headn >= 0 && in.part >= headn)
			refuse(in.part, n == DDB_NEXT_BAD ? NULL : rec);
		else if (n == DDB_NEXT_BAD) {
			refuse(in.part, NULL);
			evbad = 1;
		} else {
			c.line = ddb_reader_line(in.r);
			c.recno = in.part;
			k = flatten_record(&c, rec);
			if (k < 0 && ddb_reader_bad(in.r)) {
				/* from part 0 again, or refused whole */
				c.msg.n = 0;
				c.notime = 0;
				continue;
			}
			if (k < 0) {
				say(&c);
				notime = c.notime;
				refuse(in.part, rec);
				evbad = 1;
			} else if (k > 0 && !evbad)
				add_line(rec);
		}
		if (evbad)
			rc = DDB_EXIT_DATA;
		if (in.last && !evbad)
			flush_lines();
		if (notime) {
			rc = DDB_EXIT_USAGE;
			break;
		}
		if (rc != 0 && sflag)
			break;
	}
	drop_lines();
	free(c.msg.p);
	ddb_reader_close(in.r);
	return rc;
}


static void
add_tables(char *arg)
{
	char *p, *save = NULL;
	int any = 0;

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save), any = 1) {
		tflag = xreallocarray(tflag, ntflag + 1, sizeof *tflag);
		tflag[ntflag++] = p;
	}
	if (!any)
		ddb_usage_error(usage, "-t needs a table name");
}

static void
add_events(char *arg)
{
	char *p, *save = NULL;
	int any = 0;

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save), any = 1) {
		if (strcasecmp(p, "INSERT") == 0)
			eflag |= EV_INSERT;
		else if (strcasecmp(p, "MODIFY") == 0)
			eflag |= EV_MODIFY;
		else if (strcasecmp(p, "REMOVE") == 0)
			eflag |= EV_REMOVE;
		else
			ddb_usage_error(usage, "unknown event name '%s' "
			    "(INSERT, MODIFY or REMOVE)", p);
	}
	if (!any)
		ddb_usage_error(usage, "-e needs an event name");
}

/* --refused FD: an open file descriptor, written line by line */
static FILE *
open_fd(const char *s)
{
	long fd;
	FILE *fp;

	if (ddb_long_arg(s, 3, 1024, &fd) != 0)
		ddb_usage_error(usage, "--refused: '%s' is not a file "
		    "descriptor above 2", s);
	if (fcntl((int)fd, F_GETFL) < 0 || (fp = fdopen((int)fd, "w")) == NULL)
		ddb_usage_error(usage, "--refused: file descriptor %ld is not "
		    "open for writing", fd);
	return fp;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "event",   required_argument, NULL, 'e' },
		{ "table",   required_argument, NULL, 't' },
		{ "no-ttl",  no_argument,       NULL, 'T' },
		{ "table-name", required_argument, NULL, 'n' },
		{ "split",   required_argument, NULL, 'S' },
		{ "partition", required_argument, NULL, 'P' },
		{ "manifest", required_argument, NULL, 256 },
		{ "export-time", required_argument, NULL, 257 },
		{ "refused", required_argument, NULL, 258 },
		{ "head",    required_argument, NULL, 259 },
		{ "stop",    no_argument,       NULL, 's' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static char obuf[1 << 16];
	static struct ddb_arena keep;	/* the export time, for the whole run */
	const char *manifest = NULL;
	int c, i, rc = 0, r;

	argv[0] = program_invocation_short_name;	/* for getopt's messages */
	while ((c = getopt_long(argc, argv, "e:t:Tn:S:P:shV", longopts, NULL)) != -1)
		switch (c) {
		case 'e': add_events(optarg); break;
		case 't': add_tables(optarg); break;
		case 'T': Tflag = 1; break;
		case 'n':
			if (!ddb_table_name_ok(optarg, strlen(optarg)))
				ddb_usage_error(usage, "-n: '%s' is not a "
				    "DynamoDB table name", optarg);
			nflag = optarg;
			break;
		case 'S': Sflag = optarg; break;
		case 'P':
			/* lengths of YYYY, YYYYMM, YYYYMMDD, YYYYMMDDTHH */
			if ((plen = strcmp(optarg, "year") == 0 ? 4 :
			    strcmp(optarg, "month") == 0 ? 6 :
			    strcmp(optarg, "day") == 0 ? 8 :
			    strcmp(optarg, "hour") == 0 ? 11 : 0) == 0)
				ddb_usage_error(usage, "-P: '%s' is not year, "
				    "month, day or hour", optarg);
			break;
		case 's': sflag = 1; break;
		case 256: manifest = optarg; break;
		case 257:
			/* a number is epoch seconds, ms or µs; else ISO 8601 */
			if (set_export_time(&keep, optarg, strlen(optarg),
			    strspn(optarg, "0123456789.") == strlen(optarg)) < 0)
				ddb_usage_error(usage, "--export-time: '%s' is "
				    "not epoch seconds or ISO 8601 with Z or "
				    "an offset", optarg);
			break;
		case 258:
			refused = open_fd(optarg);
			break;
		case 259:
			if (ddb_long_arg(optarg, 0, LONG_MAX, &headn) != 0)
				ddb_usage_error(usage, "--head: '%s' is not a "
				    "whole number", optarg);
			break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default:  usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (plen != 0 && Sflag == NULL)
		ddb_usage_error(usage, "-P splits the files of -S: give -S "
		    "too");
	lines_to(Sflag, plen);
	if (manifest != NULL)
		read_manifest(manifest, &keep);

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	ddb_stdout_pipe();
	if (argc == 0)
		rc = flatten_file(NULL);
	for (i = 0; i < argc; i++) {
		if ((r = flatten_file(argv[i])) > rc)
			rc = r;
		if ((rc != 0 && sflag) || notime)
			break;
	}
	if (Sflag != NULL)
		split_finish();
	lines_free();
	if (refused != NULL && fclose(refused) != 0)
		err(DDB_EXIT_IO, "--refused");
	ddb_close_stdout();
	free(tflag);
	formats_free();
	ddb_arena_free(&keep);
	return rc;
}
