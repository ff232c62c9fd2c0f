/* ddb-flatten: DynamoDB stream records to one plain-JSON record per line */
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

#include "ddb.h"

enum { EV_INSERT = 1, EV_MODIFY = 2, EV_REMOVE = 4 };

static int sflag;		/* -s: stop at the first bad value */
static int Tflag;		/* -T: drop TTL expiry deletes */
static int eflag;		/* -e: eventNames kept (EV_* bits), 0 = all */
static char **tflag;		/* -t: tables kept, NULL = all */
static size_t ntflag;
static const char *nflag;	/* -n: table of records that name none */
static const char *Sflag;	/* -S: directory of one file per table */

/* -S: a table's file and what the summary line tells of it */
struct table {
	char *name;
	char *path;
	FILE *fp;
	long records;
	char *firstseq, *lastseq, *firsttime;
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
};

/* a line of the event being checked, held until the whole event is sound */
struct line {
	size_t off, n;			/* its text in lbuf */
	char *table, *seq, *time;	/* -S: where it goes, what it adds */
};

static struct line *out;
static size_t nout, capout;
static char *lbuf;
static size_t lbuflen, lbufcap;

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: ddb-flatten [-sT] [-e event[,event...]] "
	    "[-t table[,table...]] [-n table] [-S dir] [file ...]\n");
	if (status == DDB_EXIT_OK)
		fprintf(fp,
		    "  -e, --event NAME   keep only INSERT, MODIFY or REMOVE records\n"
		    "  -t, --table NAME   keep only records of this table\n"
		    "  -T, --no-ttl       drop deletes made by TTL expiry\n"
		    "  -n, --table-name NAME  table of records without one\n"
		    "  -S, --split DIR    one DIR/TABLE.ndjson per table, a summary "
		    "on stdout\n"
		    "  -s, --stop         stop at the first bad value\n"
		    "  -h, --help         show this help\n"
		    "  -V, --version      show the version\n");
	exit(status);
}

static const char *
type_name(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:	return "null";
	case json_type_boolean:	return "a boolean";
	case json_type_int:
	case json_type_double:	return "a number";
	case json_type_string:	return "a string";
	case json_type_array:	return "an array";
	case json_type_object:	return "an object";
	}
	return "a value";
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
put_quoted(FILE *fp, json_object *o)
{
	const char *s = json_object_get_string(o);
	size_t n = (size_t)json_object_get_string_len(o), m = n;

	if (m > 64) {
		m = 64;
		while (m > 0 && ((unsigned char)s[m] & 0xc0) == 0x80)
			m--;
	}
	putc('"', fp);
	put_clean(fp, s, m);
	fputs(m < n ? "\"..." : "\"", fp);
}

/* report a bad record: prog: file:line: eventID X: what */
static void
bad(const struct ctx *c, json_object *quote, const char *fmt, ...)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&msg, &len);
	va_list ap;
	int i;

	if (fp == NULL)
		err(DDB_EXIT_IO, "open_memstream");
	if (c->eventid != NULL) {
		fputs("eventID ", fp);
		put_clean(fp, c->eventid, strlen(c->eventid));
		fputs(": ", fp);
	} else if (c->recno >= 0)
		fprintf(fp, "Records[%ld]: ", c->recno);
	for (i = 0; i < c->npath; i++) {
		if (c->path[i].key == NULL)
			fprintf(fp, "[%zu]", c->path[i].idx);
		else {
			if (i > 0)
				putc('.', fp);
			put_clean(fp, c->path[i].key, strlen(c->path[i].key));
		}
	}
	if (c->npath > 0)
		fputs(": ", fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	if (json_object_is_type(quote, json_type_string)) {
		putc(' ', fp);
		put_quoted(fp, quote);
	} else if (json_object_is_type(quote, json_type_object)) {
		const char *sep = " ";
		json_object_object_foreach(quote, k, v) {
			json_object *ks = json_object_new_string(k);
			(void)v;
			fputs(sep, fp);
			put_quoted(fp, ks);
			json_object_put(ks);
			sep = ", ";
		}
	}
	if (fclose(fp) != 0)
		err(DDB_EXIT_IO, "open_memstream");
	ddb_errat(c->name, c->line, "%s", msg);
	free(msg);
}

static int
is_type(const char *k, const char *t)
{
	return k[0] == t[0] && strcmp(k, t) == 0;
}

static int convert_item(struct ctx *c, json_object *map, int level);
static int convert(struct ctx *c, json_object *tv, int level,
    json_object **res);

/* SS, NS, BS: an array of strings; NS elements become numbers */
static int
convert_set(struct ctx *c, const char *type, json_object *arr, int numbers)
{
	size_t i, n = json_object_array_length(arr);
	int rc = 0;

	c->npath++;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *num;
		c->path[c->npath - 1].key = NULL;
		c->path[c->npath - 1].idx = i;
		if (!json_object_is_type(e, json_type_string)) {
			bad(c, NULL, "%s element is %s, not a string", type,
			    type_name(e));
			rc = -1;
			break;
		}
		if (!numbers)
			continue;
		if (!ddb_is_json_number(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e))) {
			bad(c, e, "NS element is not a number:");
			rc = -1;
			break;
		}
		num = json_object_new_double_s(
		    strtod(json_object_get_string(e), NULL),
		    json_object_get_string(e));
		if (num == NULL)
			err(DDB_EXIT_IO, "out of memory");
		json_object_array_put_idx(arr, i, num);
	}
	c->npath--;
	return rc;
}

/*
 * One typed attribute value to plain JSON, reusing its parts: *res is a
 * new reference.  level counts the M and L values around it.
 */
static int
convert(struct ctx *c, json_object *tv, int level, json_object **res)
{
	struct lh_entry *e;
	const char *k;
	json_object *v;
	int n;

	*res = NULL;
	if (!json_object_is_type(tv, json_type_object)) {
		bad(c, NULL, "typed value is %s, not an object", type_name(tv));
		return -1;
	}
	if ((n = json_object_object_length(tv)) != 1) {
		bad(c, tv, "typed value has %d keys, not 1%s", n,
		    n > 0 ? ":" : "");
		return -1;
	}
	e = lh_table_head(json_object_get_object(tv));
	k = lh_entry_k(e);
	v = lh_entry_v(e);

#define WANT(t, what) \
	if (!json_object_is_type(v, t)) { \
		bad(c, NULL, "%s value is %s, not %s", k, type_name(v), what); \
		return -1; \
	}
	if (is_type(k, "S") || is_type(k, "B")) {
		WANT(json_type_string, "a string");
		*res = json_object_get(v);
	} else if (is_type(k, "N")) {
		WANT(json_type_string, "a string");
		if (!ddb_is_json_number(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v))) {
			bad(c, v, "N value is not a number:");
			return -1;
		}
		*res = json_object_new_double_s(
		    strtod(json_object_get_string(v), NULL),
		    json_object_get_string(v));
		if (*res == NULL)
			err(DDB_EXIT_IO, "out of memory");
	} else if (is_type(k, "SS") || is_type(k, "NS") || is_type(k, "BS")) {
		WANT(json_type_array, "an array");
		if (convert_set(c, k, v, k[0] == 'N') < 0)
			return -1;
		*res = json_object_get(v);
	} else if (is_type(k, "M") || is_type(k, "L")) {
		WANT(k[0] == 'M' ? json_type_object : json_type_array,
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
			size_t i, len = json_object_array_length(v);
			json_object *r;
			c->npath++;
			for (i = 0; i < len; i++) {
				c->path[c->npath - 1].key = NULL;
				c->path[c->npath - 1].idx = i;
				if (convert(c, json_object_array_get_idx(v, i),
				    level + 1, &r) < 0)
					return -1;
				json_object_array_put_idx(v, i, r);
			}
			c->npath--;
		}
		*res = json_object_get(v);
	} else if (is_type(k, "NULL")) {
		if (!json_object_is_type(v, json_type_boolean) ||
		    !json_object_get_boolean(v)) {
			bad(c, NULL, "NULL value is %s, not true",
			    json_object_is_type(v, json_type_boolean) ?
			    "false" : type_name(v));
			return -1;
		}
	} else if (is_type(k, "BOOL")) {
		WANT(json_type_boolean, "a boolean");
		*res = json_object_get(v);
	} else {
		json_object *ks = json_object_new_string(k);
		bad(c, ks, "unknown type descriptor");
		json_object_put(ks);
		return -1;
	}
#undef WANT
	return 0;
}

/* a map of attribute names to typed values, converted in place */
static int
convert_item(struct ctx *c, json_object *map, int level)
{
	struct lh_entry *e;
	json_object *r;

	c->npath++;
	for (e = lh_table_head(json_object_get_object(map)); e != NULL;
	    e = lh_entry_next(e)) {
		c->path[c->npath - 1].key = lh_entry_k(e);
		if (convert(c, lh_entry_v(e), level, &r) < 0)
			return -1;
		json_object_put(lh_entry_v(e));
		lh_entry_set_val(e, r);
	}
	c->npath--;
	return 0;
}

/* NAME in arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL */
static int
arn_table(const char *s, size_t n, const char **name, size_t *len)
{
	const char *p = s, *end = s + n, *q;
	int field;

	if (n < 4 || memcmp(s, "arn:", 4) != 0)
		return -1;
	for (field = 0; field < 5; field++) {
		if ((q = memchr(p, ':', (size_t)(end - p))) == NULL)
			return -1;
		if ((field == 1 || field == 2) && q == p)
			return -1;
		if (field == 2 && (q - p != 8 || memcmp(p, "dynamodb", 8) != 0))
			return -1;
		p = q + 1;
	}
	if (end - p < 6 || memcmp(p, "table/", 6) != 0)
		return -1;
	p += 6;
	for (q = p; q < end && *q != '/'; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    (*q >= '0' && *q <= '9') || *q == '_' || *q == '-' ||
		    *q == '.'))
			return -1;
	if (q == p || q - p > 255 || end - q < 9 ||
	    memcmp(q, "/stream/", 8) != 0)
		return -1;
	*name = p;
	*len = (size_t)(q - p);
	return 0;
}

/* DynamoDB's rule: 3 to 255 of A-Z a-z 0-9 _ - . */
static int
table_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
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
is_ttl_delete(json_object *rec)
{
	json_object *u, *t, *p;

	return json_object_object_get_ex(rec, "userIdentity", &u) &&
	    json_object_object_get_ex(u, "type", &t) &&
	    json_object_object_get_ex(u, "principalId", &p) &&
	    json_object_is_type(t, json_type_string) &&
	    json_object_is_type(p, json_type_string) &&
	    strcmp(json_object_get_string(t), "Service") == 0 &&
	    strcmp(json_object_get_string(p), "dynamodb.amazonaws.com") == 0;
}

/*
 * Check and convert one record in place.  1: keep it, 0: filtered out,
 * -1: bad (reported).
 */
static int
flatten_record(struct ctx *c, json_object *rec)
{
	static const char *const images[] = { "Keys", "NewImage", "OldImage" };
	json_object *o, *ddb, *tn = NULL;
	const char *name = NULL;
	size_t i, namelen = 0;
	int ev;

	c->eventid = NULL;
	c->npath = 0;
	if (!json_object_is_type(rec, json_type_object)) {
		bad(c, NULL, "record is %s, not an object", type_name(rec));
		return -1;
	}
	if (json_object_object_get_ex(rec, "eventID", &o) &&
	    json_object_is_type(o, json_type_string) &&
	    strlen(json_object_get_string(o)) ==
	    (size_t)json_object_get_string_len(o))
		c->eventid = json_object_get_string(o);

	if (!json_object_object_get_ex(rec, "eventName", &o)) {
		bad(c, NULL, "record has no eventName");
		return -1;
	}
	if (!json_object_is_type(o, json_type_string)) {
		bad(c, NULL, "eventName is %s, not a string", type_name(o));
		return -1;
	}
	if (strcmp(json_object_get_string(o), "INSERT") == 0)
		ev = EV_INSERT;
	else if (strcmp(json_object_get_string(o), "MODIFY") == 0)
		ev = EV_MODIFY;
	else if (strcmp(json_object_get_string(o), "REMOVE") == 0)
		ev = EV_REMOVE;
	else {
		bad(c, o, "unknown eventName");
		return -1;
	}
	if (!json_object_object_get_ex(rec, "dynamodb", &ddb)) {
		bad(c, NULL, "record has no dynamodb object");
		return -1;
	}
	if (!json_object_is_type(ddb, json_type_object)) {
		bad(c, NULL, "dynamodb is %s, not an object", type_name(ddb));
		return -1;
	}

	/* the table: tableName if the record has one, else from the ARN */
	if (json_object_object_get_ex(rec, "tableName", &o)) {
		if (!json_object_is_type(o, json_type_string)) {
			bad(c, NULL, "tableName is %s, not a string",
			    type_name(o));
			return -1;
		}
		name = json_object_get_string(o);
		namelen = (size_t)json_object_get_string_len(o);
	} else if (json_object_object_get_ex(rec, "eventSourceARN", &o)) {
		if (!json_object_is_type(o, json_type_string)) {
			bad(c, NULL, "eventSourceARN is %s, not a string",
			    type_name(o));
			return -1;
		}
		if (arn_table(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), &name,
		    &namelen) < 0) {
			bad(c, o, "eventSourceARN is not a DynamoDB stream "
			    "ARN:");
			return -1;
		}
		tn = json_object_new_string_len(name, (int)namelen);
		if (tn == NULL)
			err(DDB_EXIT_IO, "out of memory");
	} else if (nflag != NULL) {
		name = nflag;
		namelen = strlen(nflag);
		if ((tn = json_object_new_string(nflag)) == NULL)
			err(DDB_EXIT_IO, "out of memory");
	}
	/* -S makes a file of the name: only DynamoDB's own table names */
	if (Sflag != NULL && (name == NULL || !table_name_ok(name, namelen))) {
		json_object_put(tn);
		if (name == NULL)
			bad(c, NULL, "record has no table name "
			    "(no tableName or eventSourceARN; see -n)");
		else
			bad(c, NULL, "tableName is not a DynamoDB table name");
		return -1;
	}

	if ((eflag && !(eflag & ev)) ||
	    (tflag != NULL && (name == NULL || !table_kept(name, namelen))) ||
	    (Tflag && ev == EV_REMOVE && is_ttl_delete(rec))) {
		json_object_put(tn);
		return 0;
	}

	for (i = 0; i < sizeof images / sizeof images[0]; i++) {
		if (!json_object_object_get_ex(ddb, images[i], &o))
			continue;
		c->path[0].key = images[i];
		if (!json_object_is_type(o, json_type_object)) {
			c->npath = 1;
			bad(c, NULL, "item is %s, not an object", type_name(o));
			json_object_put(tn);
			return -1;
		}
		c->npath = 1;
		if (convert_item(c, o, 0) < 0) {
			json_object_put(tn);
			return -1;
		}
		c->npath = 0;
	}
	if (tn != NULL)
		json_object_object_add(rec, "tableName", tn);
	return 1;
}

static char *
text_of(json_object *o)
{
	char *t;

	if (o == NULL)
		t = strdup("-");
	else if (json_object_is_type(o, json_type_string))
		t = strndup(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	else
		t = strdup(json_object_to_json_string_ext(o, DDB_JSON_FLAGS));
	if (t == NULL)
		err(DDB_EXIT_IO, "out of memory");
	return t;
}

/* -S: the file of a checked record's table, opened on first use */
static FILE *
split_file(struct line *l)
{
	struct table tb;
	const char *name = l->table;
	size_t i;
	int fd;

	for (i = 0; i < ntables; i++)
		if (strcmp(tables[i].name, name) == 0)
			break;
	if (i == ntables) {
		struct table *p = realloc(tables, (ntables + 1) * sizeof *p);
		if (p == NULL)
			err(DDB_EXIT_IO, "out of memory");
		tables = p;
		memset(&tb, 0, sizeof tb);
		if ((tb.name = strdup(name)) == NULL ||
		    asprintf(&tb.path, "%s/%s.ndjson", Sflag, name) < 0)
			err(DDB_EXIT_IO, "out of memory");
		fd = open(tb.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 || (tb.fp = fdopen(fd, "w")) == NULL)
			err(DDB_EXIT_IO, "%s", tb.path);
		tb.firstseq = l->seq;
		tb.firsttime = l->time;
		l->seq = l->time = NULL;
		tables[ntables++] = tb;
	}
	curtable = i;
	free(tables[i].lastseq);
	if ((tables[i].lastseq = strdup(l->seq ? l->seq :
	    tables[i].firstseq)) == NULL)
		err(DDB_EXIT_IO, "out of memory");
	tables[i].records++;
	return tables[i].fp;
}

static void
add_line(json_object *rec)
{
	json_object *o, *ddb = NULL, *seq = NULL, *t = NULL;
	const char *txt;
	size_t n;

	if (nout == capout) {
		size_t cap = capout ? capout * 2 : 128;
		struct line *p = realloc(out, cap * sizeof *p);
		if (p == NULL)
			err(DDB_EXIT_IO, "out of memory");
		out = p;
		capout = cap;
	}
	if ((txt = json_object_to_json_string_length(rec, DDB_JSON_FLAGS,
	    &n)) == NULL)
		err(DDB_EXIT_IO, "out of memory");
	if (lbuflen + n > lbufcap) {
		size_t cap = lbufcap ? lbufcap : 65536;
		char *p;
		while (cap < lbuflen + n)
			cap *= 2;
		if ((p = realloc(lbuf, cap)) == NULL)
			err(DDB_EXIT_IO, "out of memory");
		lbuf = p;
		lbufcap = cap;
	}
	memcpy(lbuf + lbuflen, txt, n);
	out[nout].off = lbuflen;
	out[nout].n = n;
	out[nout].table = out[nout].seq = out[nout].time = NULL;
	lbuflen += n;
	if (Sflag != NULL) {
		json_object_object_get_ex(rec, "tableName", &o);
		if (json_object_object_get_ex(rec, "dynamodb", &ddb)) {
			json_object_object_get_ex(ddb, "SequenceNumber", &seq);
			json_object_object_get_ex(ddb,
			    "ApproximateCreationDateTime", &t);
		}
		out[nout].table = text_of(o);
		out[nout].seq = text_of(seq);
		out[nout].time = text_of(t);
	}
	nout++;
}

/* the event was sound: write its lines */
static void
flush_lines(void)
{
	size_t i;

	for (i = 0; i < nout; i++) {
		FILE *fp = Sflag ? split_file(&out[i]) : stdout;
		if (ddb_fwrite_all(fp, lbuf + out[i].off, out[i].n) < 0 ||
		    putc('\n', fp) == EOF)
			err(DDB_EXIT_IO, "%s", fp == stdout ? "stdout" :
			    tables[curtable].path);
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
	lbuflen = 0;
}

/* -S: close the files, then one line a table, in order of first record */
static void
split_finish(void)
{
	size_t i;
	struct table *t;

	for (i = 0; i < ntables; i++) {
		t = &tables[i];
		if (fclose(t->fp) != 0)
			err(DDB_EXIT_IO, "%s", t->path);
		printf("%s\t%ld\t%s\t%s\t%s\n", t->name, t->records,
		    t->firstseq, t->lastseq, t->firsttime);
		free(t->name);
		free(t->path);
		free(t->firstseq);
		free(t->lastseq);
		free(t->firsttime);
	}
	free(tables);
}

/* one input value: 0 written (or nothing to write), -1 bad (reported) */
static int
flatten_value(struct ctx *c, json_object *v)
{
	json_object *recs;
	int rc = 0, r;
	size_t i, n;

	drop_lines();
	c->recno = -1;
	c->eventid = NULL;
	c->npath = 0;
	if (json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "Records", &recs)) {
		if (!json_object_is_type(recs, json_type_array)) {
			bad(c, NULL, "Records is %s, not an array",
			    type_name(recs));
			return -1;
		}
		n = json_object_array_length(recs);
		for (i = 0; i < n; i++) {
			c->recno = (long)i;
			r = flatten_record(c,
			    json_object_array_get_idx(recs, i));
			if (r < 0) {
				rc = -1;
				if (sflag)
					break;
			} else if (r > 0 && rc == 0)
				add_line(json_object_array_get_idx(recs, i));
		}
	} else if (json_object_is_type(v, json_type_object) &&
	    (json_object_object_get_ex(v, "eventName", NULL) ||
	    json_object_object_get_ex(v, "dynamodb", NULL))) {
		if ((rc = flatten_record(c, v)) > 0)
			add_line(v);
	} else {
		bad(c, NULL, "not a stream event or record (%s%s)",
		    type_name(v), json_object_is_type(v, json_type_object) ?
		    " without Records, eventName or dynamodb" : "");
		return -1;
	}
	if (rc < 0)
		return -1;
	flush_lines();
	return 0;
}

/* 0 ok, else the exit status the file earned */
static int
flatten_file(const char *path)
{
	struct ddb_reader *r;
	struct ctx c;
	json_object *v;
	int rc = 0, n, k, evbad = 0;

	/* an event's records come one at a time: no tree of a whole event */
	if ((r = ddb_reader_open(path, DDB_READ_DEPTH,
	    DDB_READ_PYREPR | DDB_READ_SPLIT)) == NULL) {
		warn("%s", path);
		return DDB_EXIT_IO;
	}
	memset(&c, 0, sizeof c);
	c.name = ddb_reader_name(r);
	while ((n = ddb_reader_next(r, &v)) != 0) {
		if (n == -2) {
			rc = ddb_reader_ioerror(r) ? DDB_EXIT_IO : DDB_EXIT_DATA;
			break;
		}
		if (ddb_reader_part(r) >= 0) {
			/* a record of an event: written when all of it is */
			if (ddb_reader_part(r) == 0) {
				drop_lines();
				evbad = 0;
			}
			if (n == -1)
				evbad = 1;
			else {
				c.line = ddb_reader_line(r);
				c.recno = ddb_reader_part(r);
				if ((k = flatten_record(&c, v)) < 0)
					evbad = 1;
				else if (k > 0 && !evbad)
					add_line(v);
				json_object_put(v);
			}
			if (evbad)
				rc = DDB_EXIT_DATA;
			if (ddb_reader_part_last(r) && !evbad)
				flush_lines();
			if (rc != 0 && sflag)
				break;
			continue;
		}
		if (n == -1)
			rc = DDB_EXIT_DATA;
		else {
			c.line = ddb_reader_line(r);
			if (flatten_value(&c, v) < 0)
				rc = DDB_EXIT_DATA;
			json_object_put(v);
		}
		if (rc != 0 && sflag)
			break;
	}
	drop_lines();
	ddb_reader_close(r);
	return rc;
}

static void
add_tables(char *arg)
{
	char *p, *save = NULL;
	int any = 0;

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save), any = 1) {
		char **t = realloc(tflag, (ntflag + 1) * sizeof *t);
		if (t == NULL)
			err(DDB_EXIT_IO, "out of memory");
		tflag = t;
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "event",   required_argument, NULL, 'e' },
		{ "table",   required_argument, NULL, 't' },
		{ "no-ttl",  no_argument,       NULL, 'T' },
		{ "table-name", required_argument, NULL, 'n' },
		{ "split",   required_argument, NULL, 'S' },
		{ "stop",    no_argument,       NULL, 's' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static char obuf[1 << 16];
	int c, i, rc = 0, r;

	argv[0] = program_invocation_short_name;	/* for getopt's messages */
	while ((c = getopt_long(argc, argv, "e:t:Tn:S:shV", longopts, NULL)) != -1)
		switch (c) {
		case 'e': add_events(optarg); break;
		case 't': add_tables(optarg); break;
		case 'T': Tflag = 1; break;
		case 'n':
			if (!table_name_ok(optarg, strlen(optarg))) {
				warnx("-n: '%s' is not a DynamoDB table name",
				    optarg);
				usage(stderr, DDB_EXIT_USAGE);
			}
			nflag = optarg;
			break;
		case 'S': Sflag = optarg; break;
		case 's': sflag = 1; break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default:  usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (argc == 0)
		rc = flatten_file(NULL);
	for (i = 0; i < argc; i++) {
		if ((r = flatten_file(argv[i])) > rc)
			rc = r;
		if (rc != 0 && sflag)
			break;
	}
	if (Sflag != NULL)
		split_finish();
	ddb_close_stdout();
	free(out);
	free(lbuf);
	free(tflag);
	return rc;
}
