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
/* exports: the table and the export time (--manifest, --export-time) */
static char *export_table;
static struct jv export_time;	/* JV_NULL: unknown */
static struct ddb_json_stack kstack;	/* parses decoded kinesis.data */
static int notime;		/* a full export's item, no export time: exit 2 */
static FILE *refused;		/* --refused FD: a line per record not written */
static long headn = -1;		/* --head N: records of an event taken, -1 all */

/* -S: a table's file and what the summary line tells of it */
struct table {
	char *name;
	char *path;		/* DIR/INDEX.ndjson, never named by the table */
	FILE *fp;
	long records;
	char *firstseq, *lastseq, *firsttime;
	char firstid[136];	/* FIRST_SEQ (up to 129 digits from Kinesis),
				   or h + 16 hex of the first line */
	EVP_MD_CTX *md;		/* SHA-256 of the whole file */
};
static struct table *tables;	/* in order of first record */
static size_t ntables, curtable;

/* where a bad value is: the input, its line, the record, the attribute */
struct seg {
	const char *key;	/* NULL: an array index */
	size_t idx;
};

struct ctx {
	const char *name;
	long line;
	const char *eventid;	/* NULL if unknown */
	long recno;		/* index in Records, -1 for a lone record */
	struct seg path[DDB_MAX_DEPTH + 8];
	int npath;
	struct ddb_arena *arena;	/* where a record's new parts go */
	/* what is wrong with the record checked, held until the loop says it
	   (or forgets it, when the event is read again): lines, each ending
	   in a newline; notime: one is the missing export time (exit 2) */
	struct ddb_buf msg;
	int notime;
};

/* a line of the event being checked, held until the whole event is sound */
struct line {
	size_t off, n;			/* its line in lbuf, newline included */
	char *table, *seq, *time;	/* -S: where it goes, what it adds
					   (seq and time "-" when absent) */
};

static struct line *out;
static size_t nout, capout;
static struct ddb_buf lbuf;

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
static void
bad(struct ctx *c, const struct jv *quote, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
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
static void
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
static int
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

/* an object of n members in the arena, for records made from other inputs */
static struct jv
new_object(struct ctx *c, size_t n)
{
	struct jv o;

	o.type = JV_OBJECT;
	o.n = 0;
	o.u.m = ddb_arena_alloc(c->arena, (n > 0 ? n : 1) * sizeof *o.u.m);
	return o;
}

static void
put_member(struct jv *o, const char *k, const struct jv *v)
{
	o->u.m[o->n].k = k;
	o->u.m[o->n].klen = strlen(k);
	o->u.m[o->n].v = *v;
	o->n++;
}

/* Kinesis' SequenceNumber: 0|([1-9]\d{0,128}) (its API reference) */
static int
kinesis_seq_ok(const struct jv *o)
{
	size_t i;

	if (o->type != JV_STRING || o->n < 1 || o->n > 129 ||
	    (o->n > 1 && o->u.s[0] == '0'))
		return 0;
	for (i = 0; i < o->n; i++)
		if (o->u.s[i] < '0' || o->u.s[i] > '9')
			return 0;
	return 1;
}

/* aws kinesis get-records' Record members, as the Lambda envelope names them */
static const char *
kinesis_name(const char *k)
{
	static const char *const names[][2] = {
		{ "SequenceNumber", "sequenceNumber" },
		{ "PartitionKey", "partitionKey" },
		{ "ApproximateArrivalTimestamp", "approximateArrivalTimestamp" },
		{ "EncryptionType", "encryptionType" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(k, names[i][0]) == 0)
			return names[i][1];
	return k;
}

/*
 * A Kinesis record holding a DynamoDB record as base64: in Lambda's Kinesis
 * event, k is the record's "kinesis" object (data, sequenceNumber, ...); in
 * the output of aws kinesis get-records (the GetRecords API's Record), k is
 * NULL and *rec itself has Data, SequenceNumber (required there),
 * PartitionKey, ApproximateArrivalTimestamp (CLI v2: ISO 8601 text) and
 * EncryptionType.  *rec becomes the decoded record with a last member
 * "kinesis", the envelope without data, named as Lambda names it (its
 * sequenceNumber is the lineage).  0, or -1 (reported).
 */
static int
unwrap_kinesis(struct ctx *c, struct jv *rec, const struct jv *k)
{
	const int cli = k == NULL;
	const char *dname = cli ? "Data" : "kinesis.data";
	const char *sname = cli ? "SequenceNumber" : "kinesis.sequenceNumber";
	const struct jv *d, *o;
	struct jv inner, env;
	unsigned char *buf;
	size_t n, erroff, i;
	int e;

	if (cli)
		k = rec;
	else if (k->type != JV_OBJECT) {
		bad(c, NULL, "kinesis is %s, not an object", jv_type_name(k));
		return -1;
	}
	d = jv_get(k, cli ? "Data" : "data");
	if (d == NULL || d->type != JV_STRING) {
		bad(c, NULL, "%s is %s, not a base64 string", dname,
		    d == NULL ? "missing" : jv_type_name(d));
		return -1;
	}
	o = jv_get(k, cli ? "SequenceNumber" : "sequenceNumber");
	if (o == NULL && cli) {
		bad(c, NULL, "record has Data but no SequenceNumber (a Kinesis "
		    "record has both)");
		return -1;
	}
	if (o != NULL && !kinesis_seq_ok(o)) {
		bad(c, NULL, "%s is not a Kinesis sequence number (0, or 1 to "
		    "129 digits without a leading 0)", sname);
		return -1;
	}
	buf = ddb_arena_alloc(c->arena, d->n / 4 * 3 + 1);
	if (ddb_base64_decode(d->u.s, d->n, buf, &n) < 0) {
		bad(c, NULL, "%s is not valid base64", dname);
		return -1;
	}
	if ((e = ddb_json_parse(c->arena, &kstack, (const char *)buf, n,
	    DDB_READ_DEPTH, &inner, &erroff)) != 0) {
		bad(c, NULL, "%s decodes to no JSON record (%s at byte %zu)",
		    dname, e == DDB_JSON_DEPTH ? "nesting too deep" :
		    ddb_json_strerror(e), erroff);
		return -1;
	}
	if (inner.type != JV_OBJECT) {
		bad(c, NULL, "%s decodes to %s, not a record", dname,
		    jv_type_name(&inner));
		return -1;
	}
	if (jv_get(&inner, "kinesis") != NULL) {
		bad(c, NULL, "%s decodes to a record with its own kinesis "
		    "member", dname);
		return -1;
	}
	env = new_object(c, k->n);
	for (i = 0; i < k->n; i++)
		if (&k->u.m[i].v != d)
			put_member(&env, cli ? kinesis_name(k->u.m[i].k) :
			    k->u.m[i].k, &k->u.m[i].v);
	*rec = new_object(c, inner.n + 1);
	for (i = 0; i < inner.n; i++)
		put_member(rec, inner.u.m[i].k, &inner.u.m[i].v);
	put_member(rec, "kinesis", &env);
	return 0;
}

/*
 * A line of a DynamoDB export (DYNAMODB_JSON) becomes a stream record.
 * Full export {"Item":{...}}: an INSERT of NewImage at the export time.
 * Incremental export {"Metadata":{"WriteTimestampMicros":...},"Keys":...,
 * "NewImage":...,"OldImage":...}: as AWS's export output format page tells
 * them apart, NewImage and OldImage: an update (MODIFY); NewImage alone: an
 * insert, or with the NEW_IMAGE view an insert or an update (INSERT, which
 * a consumer applies as an upsert); OldImage alone or Keys alone: a delete
 * (REMOVE).  ApproximateCreationDateTime is WriteTimestampMicros (16
 * digits).  0, or -1 (reported).
 */
static int
unwrap_export(struct ctx *c, struct jv *rec)
{
	static const char *const parts[] = { "Keys", "NewImage", "OldImage" };
	const struct jv *item = jv_get(rec, "Item"), *md = NULL, *w, *o;
	struct jv ddb, ev, res, when;
	const char *name;
	size_t i;

	ddb = new_object(c, 4);
	if (item != NULL) {
		if (rec->n != 1) {
			bad(c, NULL, "export line has members beside Item");
			return -1;
		}
		if (export_time.type == JV_NULL) {
			static const char m[] = "a full export's item needs "
			    "the export time as created_at: give --manifest "
			    "(manifest-summary.json) or --export-time\n";
			ddb_buf_put(&c->msg, m, sizeof m - 1);
			c->notime = 1;
			return -1;
		}
		name = "INSERT";
		put_member(&ddb, "ApproximateCreationDateTime", &export_time);
		put_member(&ddb, "NewImage", item);
		goto done;
	}
	if ((md = jv_get(rec, "Metadata")) == NULL || md->type != JV_OBJECT) {
		bad(c, NULL, "export line's Metadata is %s, not an object",
		    md == NULL ? "missing" : jv_type_name(md));
		return -1;
	}
	w = jv_get(md, "WriteTimestampMicros");
	/* typed as the export writes it, {"N":"..."}, or a bare number */
	if (w != NULL && w->type == JV_OBJECT && w->n == 1 &&
	    strcmp(w->u.m[0].k, "N") == 0)
		w = &w->u.m[0].v;
	if (w == NULL || (w->type != JV_STRING && w->type != JV_NUMBER) ||
	    w->n != 16 || strspn(w->u.s, "0123456789") != 16 ||
	    w->u.s[0] == '0') {	/* it is written as a JSON number */
		bad(c, NULL, "Metadata.WriteTimestampMicros is not 16 digits "
		    "of epoch microseconds");
		return -1;
	}
	when = *w;
	when.type = JV_NUMBER;
	put_member(&ddb, "ApproximateCreationDateTime", &when);
	for (i = 0; i < rec->n; i++) {
		const char *k = rec->u.m[i].k;
		if (strcmp(k, "Metadata") == 0)
			continue;
		if (strcmp(k, "Keys") != 0 && strcmp(k, "NewImage") != 0 &&
		    strcmp(k, "OldImage") != 0) {
			struct jv ks = { JV_STRING, rec->u.m[i].klen, { k } };
			bad(c, &ks, "export line has an unknown member");
			return -1;
		}
	}
	for (i = 0; i < 3; i++)
		if ((o = jv_get(rec, parts[i])) != NULL)
			put_member(&ddb, parts[i], o);
	if (jv_get(rec, "NewImage") != NULL)
		name = jv_get(rec, "OldImage") != NULL ? "MODIFY" : "INSERT";
	else if (jv_get(rec, "OldImage") != NULL || jv_get(rec, "Keys") != NULL)
		name = "REMOVE";
	else {
		bad(c, NULL, "export line has no Keys, NewImage or OldImage");
		return -1;
	}
done:
	jv_set_string(c->arena, &ev, name, strlen(name));
	res = new_object(c, 4);
	put_member(&res, "eventName", &ev);
	put_member(&res, "dynamodb", &ddb);
	if (item == NULL)
		put_member(&res, "Metadata", md);
	if (export_table != NULL) {
		struct jv t;
		jv_set_string(c->arena, &t, export_table,
		    strlen(export_table));
		put_member(&res, "tableName", &t);
	}
	*rec = res;
	return 0;
}

/* a value that is a record of some input: stream, Kinesis, export */
static int
is_record(const struct jv *v)
{
	return jv_get(v, "eventName") != NULL ||
	    jv_get(v, "dynamodb") != NULL || jv_get(v, "kinesis") != NULL ||
	    jv_get(v, "Item") != NULL || jv_get(v, "Metadata") != NULL ||
	    jv_get(v, "Data") != NULL;
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
	if (jv_get(rec, "dynamodb") == NULL) {
		/* Lambda's Kinesis event, or aws kinesis get-records */
		if ((o = jv_get(rec, "kinesis")) != NULL ||
		    (jv_get(rec, "eventName") == NULL &&
		    jv_get(rec, "Data") != NULL)) {
			if (unwrap_kinesis(c, rec, o) < 0)
				return -1;
			if ((o = jv_get(rec, "eventID")) != NULL &&
			    o->type == JV_STRING &&
			    memchr(o->u.s, '\0', o->n) == NULL)
				c->eventid = o->u.s;
		} else if (jv_get(rec, "eventName") == NULL &&
		    (jv_get(rec, "Item") != NULL ||
		    jv_get(rec, "Metadata") != NULL)) {
			if (unwrap_export(c, rec) < 0)
				return -1;
		}
	}

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

/* a checked string member's text, "-" when absent */
static char *
text_of(const struct jv *o)
{
	return o == NULL ? xstrndup("-", 1) : xstrndup(o->u.s, o->n);
}

/* a checked ApproximateCreationDateTime as YYYYMMDDTHHMMSSZ, "-" if absent */
static char *
time_text(const struct jv *o)
{
	struct ddb_time t;
	char buf[DDB_TIME_COMPACT];

	if (o == NULL || time_of(o, &t) != 0)
		return text_of(NULL);
	ddb_time_format(&t, 0, buf, sizeof buf);
	return text_of(&(struct jv){ JV_STRING, strlen(buf), { buf } });
}

/* the first 16 hex digits of a SHA-256 */
static void
hex16(const unsigned char *md, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 8; i++) {
		dst[2 * i] = hex[md[i] >> 4];
		dst[2 * i + 1] = hex[md[i] & 15];
	}
	dst[16] = '\0';
}

/*
 * -P: a record of time T (YYYYMMDDTHHMMSSZ, or "-" when it has none)
 * belongs with the file whose first record has time FIRST: the same
 * partition (the first plen characters), and "-" only with "-"
 */
static int
same_part(const char *first, const char *t)
{
	if (plen == 0)
		return 1;
	if (strcmp(first, "-") == 0 || strcmp(t, "-") == 0)
		return strcmp(first, t) == 0;
	return strncmp(first, t, plen) == 0;
}

/*
 * -S: the file of a checked record's table (and with -P its partition),
 * opened on first use
 */
static FILE *
split_file(struct line *l)
{
	struct table tb;
	const char *name = l->table;
	size_t i;
	int fd;

	for (i = 0; i < ntables; i++)
		if (strcmp(tables[i].name, name) == 0 &&
		    same_part(tables[i].firsttime, l->time))
			break;
	if (i == ntables) {
		unsigned char md[EVP_MAX_MD_SIZE];

		tables = xreallocarray(tables, ntables + 1, sizeof *tables);
		memset(&tb, 0, sizeof tb);
		tb.name = xstrndup(name, strlen(name));
		tb.path = xasprintf("%s/%zu.ndjson", Sflag, i + 1);
		if ((tb.md = EVP_MD_CTX_new()) == NULL ||
		    !EVP_DigestInit_ex(tb.md, EVP_sha256(), NULL))
			errx(DDB_EXIT_IO, "SHA-256 unavailable");
		fd = open(tb.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 || (tb.fp = fdopen(fd, "w")) == NULL)
			err(DDB_EXIT_IO, "%s", tb.path);
		tb.firstseq = l->seq;
		tb.firsttime = l->time;
		l->time = NULL;
		l->seq = xstrndup(tb.firstseq, strlen(tb.firstseq));
		if (strcmp(tb.firstseq, "-") != 0)
			snprintf(tb.firstid, sizeof tb.firstid, "%s",
			    tb.firstseq);
		else {
			/* the line without its newline */
			if (!EVP_Digest(lbuf.p + l->off, l->n - 1, md, NULL,
			    EVP_sha256(), NULL))
				errx(DDB_EXIT_IO, "SHA-256 unavailable");
			tb.firstid[0] = 'h';
			hex16(md, tb.firstid + 1);
		}
		tables[ntables++] = tb;
	}
	curtable = i;
	free(tables[i].lastseq);
	tables[i].lastseq = l->seq;
	l->seq = NULL;
	tables[i].records++;
	if (!EVP_DigestUpdate(tables[i].md, lbuf.p + l->off, l->n))
		errx(DDB_EXIT_IO, "SHA-256 failed");
	return tables[i].fp;
}

static void
add_line(const struct jv *rec)
{
	const struct jv *ddb;

	if (nout == capout) {
		capout = capout ? capout * 2 : 128;
		out = xreallocarray(out, capout, sizeof *out);
	}
	out[nout].off = lbuf.n;
	ddb_json_write(&lbuf, rec);
	ddb_buf_putc(&lbuf, '\n');
	out[nout].n = lbuf.n - out[nout].off;
	out[nout].table = out[nout].seq = out[nout].time = NULL;
	if (Sflag != NULL) {
		ddb = jv_get(rec, "dynamodb");
		out[nout].table = text_of(jv_get(rec, "tableName"));
		/* Kinesis: its sequenceNumber, checked in unwrap_kinesis */
		out[nout].seq = text_of(jv_get(ddb, "SequenceNumber") != NULL ?
		    jv_get(ddb, "SequenceNumber") :
		    jv_get(jv_get(rec, "kinesis"), "sequenceNumber"));
		out[nout].time = time_text(jv_get(ddb,
		    "ApproximateCreationDateTime"));
	}
	nout++;
}

/* the event was sound: write its lines */
static void
flush_lines(void)
{
	size_t i;

	/* the lines lie one after another in lbuf, each with its newline */
	if (Sflag == NULL) {
		if (ddb_fwrite_all(stdout, lbuf.p, lbuf.n) < 0)
			err(DDB_EXIT_IO, "stdout");
		return;
	}
	for (i = 0; i < nout; i++) {
		FILE *fp = split_file(&out[i]);
		if (ddb_fwrite_all(fp, lbuf.p + out[i].off, out[i].n) < 0)
			err(DDB_EXIT_IO, "%s", tables[curtable].path);
	}
}

/* forget the lines of the event, written or not */
static void
drop_lines(void)
{
	size_t i;

	for (i = 0; i < nout; i++) {
		free(out[i].table);
		free(out[i].seq);
		free(out[i].time);
	}
	nout = 0;
	lbuf.n = 0;
}

/*
 * -S: close the files, then one line a table, in order of first record:
 * INDEX TABLE RECORDS FIRST_SEQ LAST_SEQ FIRST_TIME FIRST_ID HASH, each
 * field checked above to hold only [A-Za-z0-9_.-] (a shell reads them)
 */
static void
split_finish(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hash[17];
	size_t i;
	struct table *t;

	for (i = 0; i < ntables; i++) {
		t = &tables[i];
		if (fclose(t->fp) != 0)
			err(DDB_EXIT_IO, "%s", t->path);
		if (!EVP_DigestFinal_ex(t->md, md, NULL))
			errx(DDB_EXIT_IO, "SHA-256 failed");
		EVP_MD_CTX_free(t->md);
		hex16(md, hash);
		printf("%zu\t%s\t%ld\t%s\t%s\t%s\t%s\t%s\n", i + 1, t->name,
		    t->records, t->firstseq, t->lastseq, t->firsttime,
		    t->firstid, hash);
		free(t->name);
		free(t->path);
		free(t->firstseq);
		free(t->lastseq);
		free(t->firsttime);
	}
	free(tables);
}

/* the input of one file, record by record */
struct input {
	struct ddb_reader *r;
	long part;		/* the record's index in its event, -1: lone */
	int last;		/* the event's last record (or a lone one) */
	const struct jv *recs;	/* a whole value's Records, given one by one */
	size_t next;
};

/*
 * The next record: one of an event's Records (in->part its index) or a
 * lone record (in->part -1).  The reader splits an event into records
 * itself; an event it could not split (Records not its first member)
 * comes whole, and its Records are given here one by one.  Returns
 * ddb_reader_next()'s values; a value that is no event or record is
 * DDB_NEXT_BAD, said.
 */
static int
next_record(struct input *in, struct ctx *c, struct jv **rec)
{
	const struct jv *recs;
	struct jv *v;
	int n;

	for (;;) {
		if (in->recs != NULL && in->next < in->recs->n) {
			in->part = (long)in->next;
			*rec = &in->recs->u.a[in->next++];
			in->last = in->next == in->recs->n;
			return DDB_NEXT_VALUE;
		}
		in->recs = NULL;
		n = ddb_reader_next(in->r, &v);
		*rec = v;
		in->part = ddb_reader_part(in->r);
		in->last = in->part < 0 || ddb_reader_part_last(in->r);
		if (n != DDB_NEXT_VALUE || in->part >= 0 ||
		    ((recs = jv_get(v, "Records")) == NULL && is_record(v)))
			return n;
		c->line = ddb_reader_line(in->r);
		c->recno = -1;
		c->eventid = NULL;
		c->npath = 0;
		if (recs == NULL)
			bad(c, NULL, "not a stream event or record (%s%s)",
			    jv_type_name(v), v->type == JV_OBJECT ?
			    " without Records, eventName, dynamodb, kinesis, "
			    "Data, Item or Metadata" : "");
		else if (recs->type != JV_ARRAY)
			bad(c, NULL, "Records is %s, not an array",
			    jv_type_name(recs));
		else {
			in->recs = recs;
			in->next = 0;
			continue;
		}
		say(c);
		return DDB_NEXT_BAD;
	}
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
			ddb_buf_reserve(&lbuf, ddb_reader_size(in.r) + 4096);
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
			if (k < 0 && ddb_reader_unchecked(in.r)) {
				/* from part 0 again, or refused whole */
				c.msg.n = 0;
				c.notime = 0;
				ddb_reader_recheck(in.r);
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


/* NAME in a table ARN, arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME */
static int
table_arn_name(const struct jv *o, const char **name, size_t *len)
{
	struct ddb_arn a;

	if (o == NULL || o->type != JV_STRING ||
	    ddb_arn_parse(o->u.s, o->n, &a) != 0 || a.rest.n != 0)
		return -1;
	*name = a.table.p;
	*len = a.table.n;
	return ddb_table_name_ok(*name, *len) ? 0 : -1;
}

/* an export time given by the user: ISO 8601 text or epoch seconds */
static int
set_export_time(struct ddb_arena *a, const char *s, size_t n, int number)
{
	struct ddb_time t;

	if ((number && !ddb_is_json_number(s, n)) ||
	    ddb_time_parse(s, n, number, &t) != 0)
		return -1;
	jv_set_string(a, &export_time, s, n);
	export_time.type = number ? JV_NUMBER : JV_STRING;
	return 0;
}

/*
 * --manifest: a DynamoDB export's manifest-summary.json gives the table
 * (tableArn) and the export time (exportTime, the moment whose state a full
 * export holds; startTime is only when the job began).  Bad: exit 2.
 */
static void
read_manifest(const char *path, struct ddb_arena *keep, int timeset)
{
	struct ddb_reader *r;
	struct jv *v, *o;
	const char *name;
	size_t len;
	int n;

	if ((r = ddb_reader_open(path, DDB_READ_DEPTH, 0)) == NULL)
		err(DDB_EXIT_IO, "%s", path);
	if ((n = ddb_reader_next(r, &v)) <= 0) {
		if (n == -2 && ddb_reader_ioerror(r))
			exit(DDB_EXIT_IO);
		if (n == 0)
			ddb_errat(ddb_reader_name(r), 1, "--manifest: the file is empty");
		exit(DDB_EXIT_USAGE);
	}
	if (v->type != JV_OBJECT || jv_get(v, "exportArn") == NULL ||
	    jv_get(v, "tableArn") == NULL) {
		ddb_errat(ddb_reader_name(r), ddb_reader_line(r), "--manifest: not a DynamoDB "
		    "export's manifest-summary.json (no exportArn and "
		    "tableArn)");
		exit(DDB_EXIT_USAGE);
	}
	if ((o = jv_get(v, "outputFormat")) != NULL &&
	    !jv_streq(o, "DYNAMODB_JSON")) {
		ddb_errat(ddb_reader_name(r), ddb_reader_line(r), "--manifest: outputFormat "
		    "is not DYNAMODB_JSON (only DynamoDB JSON exports are "
		    "read)");
		exit(DDB_EXIT_USAGE);
	}
	if (table_arn_name(jv_get(v, "tableArn"), &name, &len) < 0) {
		ddb_errat(ddb_reader_name(r), ddb_reader_line(r), "--manifest: tableArn is "
		    "not a DynamoDB table ARN");
		exit(DDB_EXIT_USAGE);
	}
	export_table = xstrndup(name, len);
	/* an incremental export's times come from its lines: none needed */
	if (!timeset && (o = jv_get(v, "exportTime")) != NULL &&
	    (o->type != JV_STRING ||
	    set_export_time(keep, o->u.s, o->n, 0) < 0)) {
		ddb_errat(ddb_reader_name(r), ddb_reader_line(r), "--manifest: exportTime "
		    "is not ISO 8601 text");
		exit(DDB_EXIT_USAGE);
	}
	ddb_reader_close(r);
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
	if (!any) {
		warnx("-t needs a table name");
		usage(stderr, DDB_EXIT_USAGE);
	}
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
		else {
			warnx("unknown event name '%s' (INSERT, MODIFY or "
			    "REMOVE)", p);
			usage(stderr, DDB_EXIT_USAGE);
		}
	}
	if (!any) {
		warnx("-e needs an event name");
		usage(stderr, DDB_EXIT_USAGE);
	}
}

/* --refused FD: an open file descriptor, written line by line */
static FILE *
open_fd(const char *s)
{
	long fd;
	FILE *fp;

	if (ddb_long_arg(s, 3, 1024, &fd) != 0) {
		warnx("--refused: '%s' is not a file descriptor above 2", s);
		usage(stderr, DDB_EXIT_USAGE);
	}
	if (fcntl((int)fd, F_GETFL) < 0 || (fp = fdopen((int)fd, "w")) == NULL) {
		warnx("--refused: file descriptor %ld is not open for writing",
		    fd);
		usage(stderr, DDB_EXIT_USAGE);
	}
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
			if (!ddb_table_name_ok(optarg, strlen(optarg))) {
				warnx("-n: '%s' is not a DynamoDB table name",
				    optarg);
				usage(stderr, DDB_EXIT_USAGE);
			}
			nflag = optarg;
			break;
		case 'S': Sflag = optarg; break;
		case 'P':
			/* lengths of YYYY, YYYYMM, YYYYMMDD, YYYYMMDDTHH */
			if ((plen = strcmp(optarg, "year") == 0 ? 4 :
			    strcmp(optarg, "month") == 0 ? 6 :
			    strcmp(optarg, "day") == 0 ? 8 :
			    strcmp(optarg, "hour") == 0 ? 11 : 0) == 0) {
				warnx("-P: '%s' is not year, month, day or "
				    "hour", optarg);
				usage(stderr, DDB_EXIT_USAGE);
			}
			break;
		case 's': sflag = 1; break;
		case 256: manifest = optarg; break;
		case 257:
			/* a number is epoch seconds, ms or µs; else ISO 8601 */
			if (set_export_time(&keep, optarg, strlen(optarg),
			    strspn(optarg, "0123456789.") == strlen(optarg)) < 0) {
				warnx("--export-time: '%s' is not epoch seconds "
				    "or ISO 8601 with Z or an offset", optarg);
				usage(stderr, DDB_EXIT_USAGE);
			}
			break;
		case 258:
			refused = open_fd(optarg);
			break;
		case 259:
			if (ddb_long_arg(optarg, 0, LONG_MAX, &headn) != 0) {
				warnx("--head: '%s' is not a whole number",
				    optarg);
				usage(stderr, DDB_EXIT_USAGE);
			}
			break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default:  usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (plen != 0 && Sflag == NULL) {
		warnx("-P splits the files of -S: give -S too");
		usage(stderr, DDB_EXIT_USAGE);
	}
	if (manifest != NULL)
		read_manifest(manifest, &keep, export_time.type != JV_NULL);

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
	if (refused != NULL && fclose(refused) != 0)
		err(DDB_EXIT_IO, "--refused");
	ddb_close_stdout();
	free(out);
	free(lbuf.p);
	free(tflag);
	free(export_table);
	ddb_json_stack_free(&kstack);
	ddb_arena_free(&keep);
	return rc;
}
