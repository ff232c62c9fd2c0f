/*
 * formats.c: ddb-flatten's inputs, told apart by which keys a value holds:
 * a Lambda event or get-records output ({"Records":[...]}, split by the
 * reader, or given here one by one), a lone stream record (NDJSON; Python
 * repr is converted by the reader), Lambda's Kinesis event and aws kinesis
 * get-records output (base64 Data), a DynamoDB export's lines (Item, or
 * Metadata and images) and its manifest.  Each becomes a stream record for
 * ddb-flatten.c to check and flatten.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "flatten.h"

/* exports: the table and the export time (--manifest, --export-time) */
static char *export_table;
static struct jv export_time;	/* JV_NULL: unknown */
static struct ddb_json_stack kstack;	/* parses decoded kinesis.data */

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
int
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
 * A record of another input (Lambda's Kinesis event, aws kinesis
 * get-records, an export line), told by which keys it has, becomes the
 * stream record it holds, in place; a stream record is left as it is.
 * 0, or -1 (bad() said why).
 */
int
unwrap_record(struct ctx *c, struct jv *rec)
{
	const struct jv *o;

	if (jv_get(rec, "dynamodb") != NULL)
		return 0;
	if ((o = jv_get(rec, "kinesis")) != NULL ||
	    (jv_get(rec, "eventName") == NULL && jv_get(rec, "Data") != NULL)) {
		if (unwrap_kinesis(c, rec, o) < 0)
			return -1;
		if ((o = jv_get(rec, "eventID")) != NULL &&
		    o->type == JV_STRING && memchr(o->u.s, '\0', o->n) == NULL)
			c->eventid = o->u.s;
	} else if (jv_get(rec, "eventName") == NULL &&
	    (jv_get(rec, "Item") != NULL || jv_get(rec, "Metadata") != NULL)) {
		if (unwrap_export(c, rec) < 0)
			return -1;
	}
	return 0;
}

/*
 * The next record: one of an event's Records (in->part its index) or a
 * lone record (in->part -1).  The reader splits an event into records
 * itself; an event it could not split (Records not its first member)
 * comes whole, and its Records are given here one by one.  Returns
 * ddb_reader_next()'s values; a value that is no event or record is
 * DDB_NEXT_BAD, said.
 */
int
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
int
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
void
read_manifest(const char *path, struct ddb_arena *keep)
{
	struct ddb_reader *r;
	struct jv *v, *o;
	const char *name;
	size_t len;
	int n;

	if ((r = ddb_reader_open(path, DDB_READ_DEPTH, 0)) == NULL)
		err(DDB_EXIT_IO, "%s", path);
	if ((n = ddb_reader_next(r, &v)) != DDB_NEXT_VALUE) {
		if (n == DDB_NEXT_FATAL && ddb_reader_ioerror(r))
			exit(DDB_EXIT_IO);
		if (n == DDB_NEXT_END)
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
	if (export_time.type == JV_NULL &&
	    (o = jv_get(v, "exportTime")) != NULL &&
	    (o->type != JV_STRING ||
	    set_export_time(keep, o->u.s, o->n, 0) < 0)) {
		ddb_errat(ddb_reader_name(r), ddb_reader_line(r), "--manifest: exportTime "
		    "is not ISO 8601 text");
		exit(DDB_EXIT_USAGE);
	}
	ddb_reader_close(r);
}

void
formats_free(void)
{
	free(export_table);
	ddb_json_stack_free(&kstack);
}
