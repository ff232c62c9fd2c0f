/* ddb-esm: an event source mapping's risky or costly settings, their fixes, and its bill */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "prices.h"	/* PRICE_*, from ddb-esm/prices.tsv at build time */

#define EXIT_FINDINGS 5	/* -Q: a mapping has something to fix */

/* what ddb-to-s3(1) recommends */
#define REC_BATCH 1000
#define REC_WINDOW 60
#define REC_RETRIES 10

#define MONTH_S (730.0 * 3600)	/* AWS prices a month as 730 hours */
#define PAYLOAD_MAX 6291456.0	/* Lambda's 6 MB synchronous payload */
#define FULL_VCPU_MB 1769.0	/* Lambda gives a whole vCPU at 1,769 MB */
#define POLL_S 0.25		/* no window: Lambda polls a shard 4 times a second */

static double rate = 10;	/* -w: records written a second */
static int wflag;		/* -w given: print the bill */
static long recsize = 1500;	/* -Z: bytes of a stream record */
static long memory = 128;	/* --memory: MB of the function */
static long shards = 1;		/* --shards: the stream's open shards */
/*
 * -J's default: the line through BENCHMARKS.md's "A Lambda invocation,
 * whole" rows (bootstrap, CPU of every process of a warm invocation), as
 * of CPU_DATE, which --help prints beside it
 */
#define CPU_BATCH_MS 60
#define CPU_RECORD_US 42
#define CPU_DATE "2026-12-02"
static double cpu_batch_ms = CPU_BATCH_MS, cpu_record_us = CPU_RECORD_US;
static int qflag;		/* -Q: exit 5 on findings */

/* the settings that matter here, as read from one mapping */
struct esm {
	const char *uuid, *source, *function, *start, *state, *dest;
	long batch, window, pf, age, retries, tumbling;
	int bisect, report, nfilters;
	const struct jv *filters;
};

static const char *cur_name;	/* file and line of the value, for messages */
static long cur_line;
static char cur_where[64];	/* which mapping: UUID or EventSourceMappings[i] */
static const char *cur_table;	/* the mapping's table, or NULL */
static int nfound;		/* findings in the mapping being printed */
static int nfix;		/* update options in fixes */
static struct ddb_buf fixes;	/* every update option, for one command */
static int printed;		/* something is on stdout already */

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: ddb-esm [-Q] [-w records/s] [-Z bytes] [--memory MB] "
	    "[-J ms,us]\n               [--shards N] [file ...]\n");
	if (fp == stdout)
		fprintf(fp,
		    "  -w, --rate N          records written a second (default "
		    "10);\n"
		    "                        print the monthly bill\n"
		    "  -Z, --record-size N   bytes of a stream record (default "
		    "1500)\n"
		    "      --memory MB       the function's memory (default 128)\n"
		    "  -J, --cpu MS,US       CPU per invocation (ms) and per record "
		    "(us)\n"
		    "                        (default %d,%d, measured %s)\n"
		    "      --shards N        the stream's open shards, each "
		    "read on its own\n"
		    "                        (default 1)\n"
		    "  -Q, --check           exit 5 if a mapping has findings\n"
		    "  -h, --help            this help\n"
		    "  -V, --version         print the version\n", CPU_BATCH_MS,
		    CPU_RECORD_US, CPU_DATE);
	if (fp == stdout)
		ddb_close_stdout();
	exit(status);
}

static int bad_setting(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
bad_setting(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cur_where[0] != '\0')
		ddb_errat(cur_name, cur_line, "%s: %s", cur_where, msg);
	else
		ddb_errat(cur_name, cur_line, "%s", msg);
	return -1;
}

/* text that can go into a shell command as it is */
static int
plain_text(const struct jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789:/._-+=,@", v->u.s[i]))
			return 0;
	return v->n > 0;
}

/*
 * *out: m's member key (in: where m is, "" at the top) if it is of type
 * type, NULL if it is absent or null; -1 if it is of another type (said:
 * not what)
 */
static int
get_member(const struct jv *m, const char *in, const char *key, int type,
    const char *what, const struct jv **out)
{
	const struct jv *v = jv_get(m, key);

	*out = NULL;
	if (v == NULL || v->type == JV_NULL)
		return 0;
	if (v->type != type)
		return bad_setting("%s%s%s is %s, not %s", in, *in ? "." : "",
		    key,
		    jv_type_name(v), what);
	*out = v;
	return 0;
}

static int
get_string(const struct jv *m, const char *key, const char **out)
{
	const struct jv *v;

	*out = NULL;
	if (get_member(m, "", key, JV_STRING, "a string", &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	if (!plain_text(v))
		return bad_setting("%s holds characters an ARN or name never "
		    "has", key);
	*out = v->u.s;
	return 0;
}

static int
get_int(const struct jv *m, const char *key, long lo, long hi, long *out)
{
	const struct jv *v = jv_get(m, key);
	long n;

	if (v == NULL || v->type == JV_NULL)
		return 0;	/* *out keeps Lambda's default */
	if (v->type != JV_NUMBER || strpbrk(v->u.s, ".eE") != NULL)
		return bad_setting("%s is %s, not an integer", key,
		    jv_type_name(v));
	if (ddb_long_arg(v->u.s, lo, hi, &n) != 0)
		return bad_setting("%s %s is out of range (%ld to %ld)", key,
		    v->u.s, lo,
		    hi);
	*out = n;
	return 0;
}

static int
get_bool(const struct jv *m, const char *key, int *out)
{
	const struct jv *v;

	if (get_member(m, "", key, JV_BOOL, "true or false", &v) < 0)
		return -1;
	if (v != NULL)
		*out = (int)v->n;
	return 0;
}

/* check one mapping and read its settings; -1 if it is malformed (reported) */
static int
read_mapping(const struct jv *m, struct esm *e)
{
	const struct jv *v, *f;
	size_t i;

	memset(e, 0, sizeof *e);
	/* Lambda's defaults for a DynamoDB stream */
	e->batch = 100;
	e->pf = 1;
	e->age = -1;
	e->retries = -1;
	if (m->type != JV_OBJECT)
		return bad_setting("%s, not an event source mapping",
		    jv_type_name(m));
	if ((v = jv_get(m, "UUID")) == NULL)
		return bad_setting("not an event source mapping: no UUID%s",
		    jv_get(m, "Records") != NULL ? " (a stream event?)" : "");
	if (v->type != JV_STRING)
		return bad_setting("UUID is %s, not a string", jv_type_name(v));
	if (v->n != 36 || strspn(v->u.s, "0123456789abcdefABCDEF-") != 36)
		return bad_setting("UUID is not a UUID");
	e->uuid = v->u.s;
	snprintf(cur_where, sizeof cur_where, "%s", e->uuid);
	if (get_string(m, "EventSourceArn", &e->source) < 0 ||
	    get_string(m, "FunctionArn", &e->function) < 0 ||
	    get_string(m, "StartingPosition", &e->start) < 0 ||
	    get_string(m, "State", &e->state) < 0 ||
	    get_int(m, "BatchSize", 1, 10000, &e->batch) < 0 ||
	    get_int(m, "MaximumBatchingWindowInSeconds", 0, 300, &e->window) < 0 ||
	    get_int(m, "ParallelizationFactor", 1, 10, &e->pf) < 0 ||
	    get_int(m, "MaximumRecordAgeInSeconds", -1, 604800, &e->age) < 0 ||
	    get_int(m, "MaximumRetryAttempts", -1, 10000, &e->retries) < 0 ||
	    get_int(m, "TumblingWindowInSeconds", 0, 900, &e->tumbling) < 0 ||
	    get_bool(m, "BisectBatchOnFunctionError", &e->bisect) < 0)
		return -1;
	if (e->age >= 0 && e->age < 60)
		return bad_setting("MaximumRecordAgeInSeconds %ld is out of "
		    "range (-1, or 60 to 604800)", e->age);
	if (get_member(m, "", "DestinationConfig", JV_OBJECT, "an object",
	    &v) < 0 || get_member(v, "DestinationConfig", "OnFailure",
	    JV_OBJECT, "an object", &f) < 0 ||
	    (f != NULL && get_string(f, "Destination", &e->dest) < 0))
		return -1;
	if (get_member(m, "", "FunctionResponseTypes", JV_ARRAY, "an array",
	    &v) < 0)
		return -1;
	for (i = 0; v != NULL && i < v->n; i++) {
		if (v->u.a[i].type != JV_STRING)
			return bad_setting("FunctionResponseTypes[%zu] is %s, "
			    "not a string", i, jv_type_name(&v->u.a[i]));
		if (jv_streq(&v->u.a[i], "ReportBatchItemFailures"))
			e->report = 1;
	}
	if (get_member(m, "", "FilterCriteria", JV_OBJECT, "an object",
	    &v) < 0 || get_member(v, "FilterCriteria", "Filters", JV_ARRAY,
	    "an array", &f) < 0)
		return -1;
	if (f != NULL) {
		for (i = 0; i < f->n; i++) {
			const struct jv *p = jv_get(&f->u.a[i], "Pattern");
			if (f->u.a[i].type != JV_OBJECT || p == NULL ||
			    p->type != JV_STRING)
				return bad_setting("FilterCriteria.Filters"
				    "[%zu] has no Pattern string", i);
		}
		e->filters = f;
		e->nfilters = (int)f->n;
	}
	return 0;
}

/* --- output ------------------------------------------------------------- */

/* a paragraph, wrapped at 72 columns */
static void para(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
para(const char *fmt, ...)
{
	char text[2048], *p, *w;
	size_t col = 0, n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (p = text; (w = strsep(&p, " ")) != NULL;) {
		if ((n = strlen(w)) == 0)
			continue;
		if (col > 0 && col + 1 + n > 72) {
			putchar('\n');
			col = 0;
		} else if (col > 0) {
			putchar(' ');
			col++;
		}
		fputs(w, stdout);
		col += n;
	}
	putchar('\n');
}

/* the start of a paragraph: the mapping's heading before the first one */
static void
heading(const struct esm *e)
{
	if (nfound++ == 0) {
		if (printed)
			putchar('\n');
		printed = 1;
		printf("mapping %s", e->uuid);
		if (cur_table != NULL)
			printf(" (table %s)", cur_table);
		printf(":\n");
	}
	putchar('\n');
}

/* an update command for one finding; its options also go into the last one */
static void
fix(const struct esm *e, const char *opts)
{
	printf("  aws lambda update-event-source-mapping --uuid %s %s\n",
	    e->uuid, opts);
	if (strstr(fixes.p, opts) == NULL) {
		ddb_buf_putc(&fixes, ' ');
		ddb_buf_put(&fixes, opts, strlen(opts));
		ddb_buf_putc(&fixes, '\0');
		fixes.n--;
		nfix++;
	}
}

/* 12345678 -> "12,345,678" */
static const char *
commas(double x, char *buf, size_t size)
{
	char digits[64];
	size_t i, n, o = 0;

	snprintf(digits, sizeof digits, "%.0f", x);
	n = strlen(digits);
	for (i = 0; i < n && o + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * records in a batch at the write rate r, spread evenly over the stream's
 * shards (each shard's batches fill from its own share)
 */
static double
batch_records(long size, long window, long pf, double r)
{
	double b = r / shards / pf * (window > 0 ? window : POLL_S);

	if (b > size)
		b = size;
	if (b > floor(PAYLOAD_MAX / recsize))
		b = floor(PAYLOAD_MAX / recsize);
	return b < 1 ? 1 : b;
}

/* a batch's average size: whole, or with one decimal */
static const char *
batch_text(double b, char *buf, size_t size)
{
	if (b == floor(b))
		return commas(b, buf, size);
	snprintf(buf, size, "%.1f", b);
	return buf;
}

struct bill {
	double batch, invocations, requests, duration, puts, total;
};

static void
price(long size, long window, long pf, struct bill *b)
{
	double share = memory < FULL_VCPU_MB ? memory / FULL_VCPU_MB : 1;
	double cpu_ms, billed_ms;

	b->batch = batch_records(size, window, pf, rate);
	b->invocations = rate * MONTH_S / b->batch;
	cpu_ms = cpu_batch_ms + cpu_record_us / 1000 * b->batch;
	billed_ms = ceil(cpu_ms / share);
	if (billed_ms < 1)
		billed_ms = 1;
	b->requests = b->invocations * PRICE_lambda_request;
	b->duration = b->invocations * billed_ms / 1000 * memory / 1024 *
	    PRICE_lambda_gb_second;
	/* one object per table per batch, and a stream has one table */
	b->puts = b->invocations * PRICE_s3_put;
	b->total = b->requests + b->duration + b->puts;
}

static void
print_bill(const struct esm *e)
{
	struct bill c, r;
	char n1[64], n2[64], bs[32];
	double per = 1e6 / (rate * MONTH_S);

	price(e->batch, e->window, e->pf, &c);
	price(REC_BATCH, REC_WINDOW, 1, &r);
	heading(e);
	snprintf(bs, sizeof bs, "%g", rate);
	para("Monthly bill at %s records/s (%s records in 730 hours), %s-byte "
	    "records, %ld MB, us-east-1 prices of %s (ddb-esm/prices.tsv), no "
	    "free tier:", bs, commas(rate * MONTH_S, n1, sizeof n1),
	    commas(recsize, n2, sizeof n2), memory, PRICE_DATE);
	printf("%-26s%16s%16s\n", "", "as configured", "as recommended");
	printf("  %-24s%16s", "records a batch", batch_text(c.batch, n1,
	    sizeof n1));
	printf("%16s\n", batch_text(r.batch, n1, sizeof n1));
	printf("  %-24s%16s", "invocations", commas(c.invocations, n1,
	    sizeof n1));
	printf("%16s\n", commas(r.invocations, n1, sizeof n1));
	printf("  %-24s%16s", "S3 objects", commas(c.invocations, n1,
	    sizeof n1));
	printf("%16s\n", commas(r.invocations, n1, sizeof n1));
	printf("  %-24s%16.2f%16.2f\n", "Lambda requests $", c.requests,
	    r.requests);
	printf("  %-24s%16.2f%16.2f\n", "Lambda duration $ (est.)", c.duration,
	    r.duration);
	printf("  %-24s%16.2f%16.2f\n", "S3 PUT requests $", c.puts, r.puts);
	printf("  %-24s%16.2f%16.2f\n", "total $", c.total, r.total);
	printf("  %-24s%16.4f%16.4f\n", "per million records $", c.total * per,
	    r.total * per);
	para("Duration is an estimate: %g ms of CPU an invocation and %g us a "
	    "record (-J%s), at %ld/1769 of a vCPU, billed by the ms. %ld "
	    "shard%s (--shards)%s; one S3 object a batch; retries not "
	    "counted.", cpu_batch_ms, cpu_record_us, cpu_batch_ms ==
	    CPU_BATCH_MS && cpu_record_us == CPU_RECORD_US ? "; measured "
	    CPU_DATE ", BENCHMARKS.md" : "", memory, shards, shards == 1 ? "" :
	    "s", shards == 1 ? "" : ", the writes spread evenly over them");
}

/* --- the findings -------------------------------------------------------- */

/* the event names a filter pattern's eventName rule lets through (bits) */
enum { EV_INSERT = 1, EV_MODIFY = 2, EV_REMOVE = 4, EV_ALL = 7 };
static const char *const ev_name[3] = { "INSERT", "MODIFY", "REMOVE" };

static int
ev_bits(const struct jv *s)
{
	int k;

	for (k = 0; k < 3; k++)
		if (jv_streq(s, ev_name[k]))
			return 1 << k;
	return 0;
}

/* -1 if the rule is not one this knows */
static int
rule_bits(const struct jv *rule)
{
	const struct jv *r, *x;
	size_t i, j;
	int bits = 0, k, b;

	if (rule->type != JV_ARRAY)
		return -1;
	for (i = 0; i < rule->n; i++) {
		r = &rule->u.a[i];
		if (r->type == JV_STRING) {
			bits |= ev_bits(r);
		} else if (r->type == JV_OBJECT && r->n == 1 &&
		    (x = jv_get(r, "anything-but")) != NULL) {
			b = EV_ALL;
			if (x->type == JV_STRING)
				b &= ~ev_bits(x);
			else if (x->type == JV_ARRAY)
				for (j = 0; j < x->n; j++)
					b &= ~ev_bits(&x->u.a[j]);
			else
				return -1;
			bits |= b;
		} else if (r->type == JV_OBJECT && r->n == 1 &&
		    (x = jv_get(r, "prefix")) != NULL && x->type == JV_STRING) {
			for (k = 0; k < 3; k++)
				if (strncmp(ev_name[k], x->u.s, x->n) == 0)
					bits |= 1 << k;
		} else
			return -1;
	}
	return bits;
}

static void
check_filters(const struct esm *e)
{
	struct ddb_arena a = { NULL };
	struct ddb_json_stack st = { NULL, NULL, 0, 0, 0, 0 };
	struct jv p;
	size_t erroff, i;
	int pass = 0, k, b, other = 0, unknown = 0;
	char names[64] = "";

	for (i = 0; i < (size_t)e->nfilters; i++) {
		const struct jv *pat = jv_get(&e->filters->u.a[i], "Pattern");
		const struct jv *rule;

		ddb_arena_reset(&a);
		if (ddb_json_parse(&a, &st, pat->u.s, pat->n, DDB_READ_DEPTH,
		    &p, &erroff) != 0 || p.type != JV_OBJECT) {
			unknown = 1;
			continue;
		}
		if ((rule = jv_get(&p, "eventName")) == NULL)
			b = EV_ALL;
		else if ((b = rule_bits(rule)) < 0) {
			unknown = 1;
			b = EV_ALL;
		}
		pass |= b;
		if (p.n > (rule != NULL ? 1u : 0u))
			other = 1;
	}
	ddb_arena_free(&a);
	ddb_json_stack_free(&st);
	for (k = 0; k < 3; k++)
		if (!(pass & 1 << k)) {
			if (names[0] != '\0')
				strcat(names, " and ");
			strcat(names, ev_name[k]);
		}
	if (names[0] != '\0') {
		heading(e);
		para("FilterCriteria lets no %s record through: Lambda drops "
		    "what no filter matches, for good (it is not delayed), so "
		    "those changes never reach the CSV, and a downstream merge "
		    "%s. Remove the filters, or keep INSERT, MODIFY and REMOVE:",
		    names, pass & EV_REMOVE ? "misses those updates" :
		    "never deletes an item");
		fix(e, "--filter-criteria '{}'");
	}
	if (other || unknown) {
		heading(e);
		para("FilterCriteria has %s: records it does not match are "
		    "dropped for good, not delayed. Make sure the lake never "
		    "wants them; this tool cannot tell.", other ?
		    "a pattern on the records' contents" :
		    "a pattern this tool cannot read");
	}
}

/*
 * partition, region, account and table (each at most size - 1 bytes) from
 * a stream ARN, arn:P:dynamodb:R:A:table/T/stream/L, R and A not empty
 */
static int
split_arn(const char *arn, char *partition, char *region, char *account,
    char *table, size_t size)
{
	struct ddb_arn a;
	const struct ddb_part *in[4] = { &a.partition, &a.region, &a.account,
	    &a.table };
	char *out[4] = { partition, region, account, table };
	int k;

	if (arn == NULL || ddb_arn_parse(arn, strlen(arn), &a) != 0 ||
	    !ddb_arn_is_stream(&a))
		return -1;
	for (k = 0; k < 4; k++) {
		if (in[k]->n == 0 || in[k]->n >= size)
			return -1;
		memcpy(out[k], in[k]->p, in[k]->n);
		out[k][in[k]->n] = '\0';
	}
	return 0;
}

/* the findings of one mapping; the number printed */
static int
check(const struct esm *e)
{
	static char table[256];	/* cur_table, until the next mapping */
	char partition[256], region[256], account[256], dlq[1024];
	char queue[128], mkqueue[512];
	char n1[32], n2[32], n3[32];
	int arn_ok, ninfo = 0;
	size_t i, n;

	nfound = nfix = 0;
	fixes.n = 0;
	ddb_buf_putc(&fixes, '\0');
	fixes.n = 0;
	arn_ok = split_arn(e->source, partition, region, account, table,
	    256) == 0;
	cur_table = arn_ok ? table : NULL;
	if (e->source != NULL && !arn_ok) {
		if (printed)
			putchar('\n');
		printed = 1;
		printf("mapping %s: %s is not a DynamoDB stream; not checked.\n",
		    e->uuid, e->source);
		return -1;
	}
	/*
	 * the on-failure queue: named after the table (SQS allows letters,
	 * digits, - and _ in at most 80 characters; a table name may also
	 * hold '.', and be longer); its ARN is what create-queue in the
	 * stream's region and account makes, so the command that creates it
	 * is printed before any that names it. Without the stream's ARN the
	 * placeholders are no ARN Lambda would take.
	 */
	mkqueue[0] = '\0';
	if (arn_ok) {
		n = strlen(table) > 63 ? 63 : strlen(table);
		for (i = 0; i < n; i++)
			queue[i] = strchr("-_", table[i]) != NULL ||
			    (table[i] >= '0' && table[i] <= '9') ||
			    ((table[i] | 0x20) >= 'a' && (table[i] | 0x20) <=
			    'z') ? table[i] : '-';
		snprintf(queue + n, sizeof queue - n, "-ddb-to-s3-failed");
		snprintf(dlq, sizeof dlq, "arn:%s:sqs:%s:%s:%s", partition,
		    region, account, queue);
		snprintf(mkqueue, sizeof mkqueue, "  aws sqs create-queue "
		    "--region %s --queue-name %s\n", region, queue);
	} else
		snprintf(dlq, sizeof dlq, "arn:aws:sqs:REGION:ACCOUNT:QUEUE");

	if (e->state != NULL && strcmp(e->state, "Disabled") == 0) {
		heading(e);
		para("State Disabled: nothing reads the stream, which drops "
		    "each record 24 hours after it was written.");
		fix(e, "--enabled");
	}
	if (e->retries == -1) {
		heading(e);
		para("MaximumRetryAttempts -1: unlimited retries. A batch the "
		    "function cannot write fails again and again, its shard "
		    "stops behind it for up to 24 hours, until the stream drops "
		    "the record unwritten, and the records behind it are written "
		    "a day late, if the stream still holds them. Limit the "
		    "retries:");
		fix(e, "--maximum-retry-attempts 10");
	}
	if (e->age == -1 && e->retries == -1) {
		heading(e);
		para("MaximumRecordAgeInSeconds -1 with MaximumRetryAttempts -1: "
		    "nothing but the stream's 24-hour retention ends a failing "
		    "batch. An age of -1 is right once the retries are limited "
		    "(the retry limit and the on-failure destination decide, and "
		    "no record is skipped for its age alone): keep it, and limit "
		    "the retries as above.");
	} else if (e->age > 0) {
		heading(e);
		para("MaximumRecordAgeInSeconds %ld: a record older than that "
		    "when its batch is read is skipped, not written, so a "
		    "backlog (an outage, a slow function) becomes a loss. Let "
		    "the retry limit and the on-failure destination decide:",
		    e->age);
		fix(e, "--maximum-record-age-in-seconds -1");
	}
	if (!e->bisect) {
		heading(e);
		para("BisectBatchOnFunctionError false: a failed batch is "
		    "retried whole, so one bad record fails all %ld records "
		    "with it on every try. Splitting the batch isolates the "
		    "bad record and writes the others (the object keys of "
		    "ddb-to-s3 do not change when a batch is split):", e->batch);
		fix(e, "--bisect-batch-on-function-error");
	}
	if (e->dest == NULL) {
		heading(e);
		para("No on-failure destination: when the mapping gives up on a "
		    "batch, nothing tells where it was. With an SQS queue (or SNS "
		    "topic) the batch's shard and sequence numbers are kept, so "
		    "it can be read again with get-records within 24 hours and "
		    "fed to ddb-to-s3 -n TABLE. %s, give the function's role "
		    "sqs:SendMessage on it, then:", mkqueue[0] != '\0' ?
		    "Create the queue (the first command; its ARN is the one "
		    "in the second)" : "Create an SQS queue, put its ARN in "
		    "place of the placeholder below");
		fputs(mkqueue, stdout);
		{
			struct ddb_buf opt = { NULL, 0, 0 };
			const char *pre = "--destination-config "
			    "'{\"OnFailure\":{\"Destination\":\"";

			ddb_buf_put(&opt, pre, strlen(pre));
			ddb_buf_put(&opt, dlq, strlen(dlq));
			ddb_buf_put(&opt, "\"}}'", 5);
			fix(e, opt.p);
			free(opt.p);
		}
	}
	if (!e->report) {
		heading(e);
		para("ReportBatchItemFailures off: a batch with one bad record "
		    "fails whole. ddb-to-s3's bootstrap supports it: with "
		    "DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true in the environment "
		    "of %s it writes the records before the bad one and tells "
		    "Lambda to go on from it. Set that variable (update-function-"
		    "configuration --environment replaces all of them: give "
		    "every one), then:", e->function != NULL ? e->function :
		    "the function");
		fix(e, "--function-response-types ReportBatchItemFailures");
	}
	if (e->start != NULL && strcmp(e->start, "LATEST") == 0)
		ninfo = 1;	/* said last: it is no finding */
	if (e->pf > 1) {
		heading(e);
		para("ParallelizationFactor %ld: %ld batches of one shard run at "
		    "once. Lambda keeps one item's changes in order, but the "
		    "objects of one shard are written at the same time and "
		    "overlap, so a consumer that loads them in key order can "
		    "apply an item's changes out of order; and each batch fills "
		    "at 1/%ld of the rate: %ld times the invocations and objects.",
		    e->pf, e->pf, e->pf, e->pf);
		fix(e, "--parallelization-factor 1");
	}
	{
		double b = batch_records(e->batch, e->window, e->pf, rate);
		double rb = batch_records(REC_BATCH, REC_WINDOW, 1, rate);

		if (b < rb) {
			char opt[128] = "";

			if (e->batch < REC_BATCH)
				snprintf(opt, sizeof opt, "--batch-size %d",
				    REC_BATCH);
			if (e->window < REC_WINDOW)
				snprintf(opt + strlen(opt), sizeof opt -
				    strlen(opt), "%s--maximum-batching-window-"
				    "in-seconds %d", opt[0] ? " " : "",
				    REC_WINDOW);
			heading(e);
			para("BatchSize %ld, MaximumBatchingWindowInSeconds %ld: "
			    "at %g records/s%s a batch holds %s records, one S3 "
			    "object and one invocation each: %s S3 PUTs per "
			    "million records, against %s at BatchSize %d and a "
			    "%d s window. Small objects cost PUTs and make every "
			    "query of the lake slower%s", e->batch, e->window,
			    rate, wflag ? "" : " (-w)", batch_text(b, n1,
			    sizeof n1), commas(ceil(1e6 / b), n2, sizeof n2),
			    commas(ceil(1e6 / rb), n3, sizeof n3), REC_BATCH,
			    REC_WINDOW, opt[0] != '\0' ? ":" :
			    " (the ParallelizationFactor above is why).");
			if (opt[0] != '\0')
				fix(e, opt);
		}
	}
	if (e->tumbling > 0) {
		heading(e);
		para("TumblingWindowInSeconds %ld: a tumbling window is for "
		    "aggregating state across batches, which ddb-to-s3 does not "
		    "do; it only holds records back.", e->tumbling);
		fix(e, "--tumbling-window-in-seconds 0");
	}
	if (e->nfilters > 0)
		check_filters(e);
	if (nfix > 1) {
		putchar('\n');
		if (e->dest == NULL && mkqueue[0] != '\0') {
			printf("All the updates above in one command, the queue "
			    "first:\n");
			fputs(mkqueue, stdout);
		} else
			printf("All the updates above in one command:\n");
		printf("  aws lambda update-event-source-mapping --uuid %s%s\n",
		    e->uuid, fixes.p);
	}
	if (ninfo) {
		int k = nfound;

		heading(e);
		nfound = k;
		para("Note: StartingPosition %s matters only when a mapping is "
		    "created: this one reads on from where it is, whatever "
		    "the position says, and nothing needs changing. Recreating "
		    "it to change the position would store up to 24 hours of "
		    "records again, so do not; if you ever create a mapping "
		    "for this stream anew, give it --starting-position "
		    "TRIM_HORIZON so that it sees the changes made before it "
		    "(ddb-to-s3 -l SequenceNumber lets a consumer drop any "
		    "repeats).", e->start);
	}
	return nfound;
}

/* --- input -------------------------------------------------------------- */

/* 0, 1 bad data, 3 unreadable; *found counts mappings with findings */
static int
esm_file(const char *path, int *found)
{
	struct ddb_reader *r = ddb_reader_open(path, DDB_READ_DEPTH, 0);
	struct esm *e = NULL;
	struct jv *o;
	const struct jv *list;
	size_t i, n;
	int rc, status = DDB_EXIT_OK, ok;

	if (r == NULL) {
		ddb_errat(path, 0, "%s", strerror(errno));
		return DDB_EXIT_IO;
	}
	cur_name = ddb_reader_name(r);
	while ((rc = ddb_reader_next(r, &o)) != DDB_NEXT_END) {
		if (rc != DDB_NEXT_VALUE) {
			status = rc == DDB_NEXT_FATAL && ddb_reader_ioerror(r) ?
			    DDB_EXIT_IO : DDB_EXIT_DATA;
			if (rc == DDB_NEXT_FATAL)
				break;
			continue;
		}
		cur_line = ddb_reader_line(r);
		list = jv_get(o, "EventSourceMappings");
		cur_where[0] = '\0';
		if (list != NULL && list->type != JV_ARRAY) {
			bad_setting("EventSourceMappings is %s, not an array",
			    jv_type_name(list));
			status = DDB_EXIT_DATA;
			continue;
		}
		n = list != NULL ? list->n : 1;
		free(e);
		e = xcalloc(n + 1, sizeof *e);
		/* every mapping of the value is checked before one is printed */
		for (ok = 1, i = 0; i < n && ok; i++) {
			if (list != NULL)
				snprintf(cur_where, sizeof cur_where,
				    "EventSourceMappings[%zu]", i);
			ok = read_mapping(list != NULL ? &list->u.a[i] : o,
			    &e[i]) == 0;
		}
		if (!ok) {
			status = DDB_EXIT_DATA;
			continue;
		}
		for (i = 0; i < n; i++) {
			int k = check(&e[i]);

			if (k > 0)
				(*found)++;
			if (k >= 0 && wflag)
				print_bill(&e[i]);
		}
	}
	free(e);
	ddb_reader_close(r);
	return status;
}

static double
number_arg(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(x >= lo && x <= hi))
		ddb_usage_error(usage,
		    "%s: \"%s\" is not a number from %g to %g", opt, s,
		    lo, hi);
	return x;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "rate", required_argument, NULL, 'w' },
		{ "record-size", required_argument, NULL, 'Z' },
		{ "memory", required_argument, NULL, 1 },	/* no letter is free */
		{ "cpu", required_argument, NULL, 'J' },
		{ "shards", required_argument, NULL, 2 },
		{ "check", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, i, s, status = DDB_EXIT_OK, found = 0;
	char *comma;

	while ((c = getopt_long(argc, argv, "w:Z:J:QhV", longopts, NULL)) !=
	    -1)
		switch (c) {
		case 'w':
			rate = number_arg("-w", optarg, 1e-6, 1e9);
			wflag = 1;
			break;
		case 'Z':
			recsize = (long)number_arg("-Z", optarg, 1, PAYLOAD_MAX);
			if (recsize != atof(optarg))
				ddb_usage_error(usage,
				    "-Z: \"%s\" is not a whole number",
				    optarg);
			break;
		case 1:
			memory = (long)number_arg("--memory", optarg, 128, 10240);
			if (memory != atof(optarg))
				ddb_usage_error(usage,
				    "--memory: \"%s\" is not a whole number",
				    optarg);
			break;
		case 2:
			shards = (long)number_arg("--shards", optarg, 1, 100000);
			if (shards != atof(optarg))
				ddb_usage_error(usage,
				    "--shards: \"%s\" is not a whole number",
				    optarg);
			break;
		case 'J':
			if ((comma = strchr(optarg, ',')) == NULL)
				ddb_usage_error(usage,
				    "-J: \"%s\" is not MS,US", optarg);
			*comma++ = '\0';
			cpu_batch_ms = number_arg("-J", optarg, 0, 900000);
			cpu_record_us = number_arg("-J", comma, 0, 1e9);
			break;
		case 'Q': qflag = 1; break;
		case 'h': usage(stdout, DDB_EXIT_OK);
		case 'V': ddb_print_version(); break;
		default: usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (argc == 0)
		status = esm_file(NULL, &found);
	for (i = 0; i < argc; i++)
		if ((s = esm_file(argv[i], &found)) > status)
			status = s;
	free(fixes.p);
	ddb_close_stdout();
	if (status == DDB_EXIT_OK && qflag && found > 0)
		status = EXIT_FINDINGS;
	return status;
}
