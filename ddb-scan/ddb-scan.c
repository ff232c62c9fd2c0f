/* ddb-scan: a table's items as INSERT stream records, page by page, resumable */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scan.h"

#define MAX_WORKERS 32		/* segments scanned at once, at most */
#define MAX_KEYS 2		/* a key schema: HASH, and RANGE or none */
#define T0_MARGIN 60		/* seconds: T0 before the service's clock */
#define PUTS(b, lit) ddb_buf_put((b), (lit), sizeof(lit) - 1)

enum {
	OPT_STATE = 256, OPT_SEGMENTS, OPT_PAGE, OPT_RCU, OPT_CONSISTENT,
	OPT_CREATED, OPT_BATCH_SIZE, OPT_BATCH_BYTES, OPT_JSON
};

struct worker {
	struct aj aj;
	pthread_t tid;
	int rc;
};

static struct sstate st;
static char **cmd;		/* the consumer, or NULL: stdout */
static const char *table, *arn;
static char *keys[MAX_KEYS];	/* the key schema's attribute names */
static int nkeys;
static const char *created;	/* JSON text of ApproximateCreationDateTime */
static char *created_given;	/* --created-at's */
static long segments = 1, page_size;
/* --batch-size, --batch-bytes: a batch of a segment is whole pages, up to
 * these bounds; 0: a page a batch (each page is at most 1 MB) */
static long batch_size, batch_bytes;
static int consistent, verbose;	/* verbose: -v */
static int json_out;	/* --json: the run's counts on stdout */
static double rcu;		/* read capacity units a second, 0: no bound */
static struct ddb_sink sink_opts;	/* --dead-letter, --batch-attempts */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;	/* all below */
static long next_seg;		/* the next segment a worker takes */
static int failed;		/* the first failure's status */
static long items, pages, calls;
static long bisected, dead_count, tempfails;
static double consumed;		/* read capacity units, as DynamoDB said */
static double tokens;		/* --rcu's bucket */
static struct timespec filled;	/* when tokens was last topped up */
static pthread_mutex_t mu_out = PTHREAD_MUTEX_INITIALIZER;	/* stdout */

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: ddb-scan [-v] -t table [--segments n] [--page-size n] "
	    "[--rcu n]\n"
	    "                [--batch-size n] [--batch-bytes n]\n"
	    "                [--consistent] [--created-at time] [--state dir] "
	    "[-u url]\n"
	    "                [-p profile] [-r region] [-a attempts] [-g secs]\n"
	    "                [--dead-letter dir|s3://bucket/prefix] "
	    "[--batch-attempts n]\n"
	    "                [--json] [command [arg ...]]\n");
	if (status == 0)
		fprintf(fp,
		    "  command                run per page, its records on "
		    "its stdin; its exit 0\n"
		    "                         commits the page (none: records "
		    "to stdout)\n"
		    "  -t, --table NAME       the table to scan\n"
		    "  --segments N           a parallel scan of N segments "
		    "(1)\n"
		    "  --page-size N          items a Scan page at most "
		    "(Limit; none: 1 MB pages)\n"
		    "  --rcu N                read capacity units a second, "
		    "at most\n"
		    "  --consistent           strongly consistent reads\n"
		    "  --batch-size N         a batch is whole pages up to N "
		    "items (a page)\n"
		    "  --batch-bytes N        a batch is whole pages up to N "
		    "bytes, about (a page)\n"
		    "  --created-at TIME      created_at of every record "
		    "(the scan's start)\n"
		    "  --state DIR            positions, lock, page in flight "
		    "(needed with a command)\n"
		    "  --dead-letter PLACE    an item the command refuses (exit 1, "
		    "bisected to\n"
		    "                         it) goes to PLACE, a directory "
		    "or s3://BUCKET/PREFIX,\n"
		    "                         and the scan goes on (none: the "
		    "run stops there)\n"
		    "  --batch-attempts N     the Nth temporary failure (exit "
		    "75) in a row of a\n"
		    "                         page: its items to "
		    "--dead-letter, or exit 11 (none)\n"
		    "  -u, --endpoint-url URL DynamoDB endpoint\n"
		    "  -p, --profile NAME     AWS profile\n"
		    "  -r, --region NAME      AWS region\n"
		    "  -a, --max-attempts N   tries per request (10)\n"
		    "  -g, --backoff SECS     first retry waits up to this, "
		    "doubling (0.25)\n"
		    "  --json                 the run's counts on stdout, as "
		    "JSON\n"
		    "  -v, --verbose          log every page, wait and retry\n"
		    "  -h, --help             this text\n"
		    "  -V, --version          print the version\n");
	exit(status);
}

static void
put_raw(struct ddb_buf *b, const char *k, const char *json)
{
	ddb_json_key(b, k);
	ddb_buf_put(b, json, strlen(json));
}

static int
fail(int rc)
{
	pthread_mutex_lock(&mu);
	if (failed == 0)
		failed = rc;
	pthread_mutex_unlock(&mu);
	return rc;
}

/* the table's ARN and key schema */
static int
describe(struct aj *c, char **arnp)
{
	struct ddb_arena a = { 0 };
	struct ddb_buf b = { 0 };
	struct jv v, *t, *ks;
	const char *s;
	size_t i;
	int rc;

	ddb_buf_putc(&b, '{');
	ddb_json_member(&b, "TableName", table);
	ddb_buf_putc(&b, '}');
	rc = aj_call(c, AJ_DYNAMODB, "DescribeTable", b.p, b.n, 0, &a, &v);
	free(b.p);
	if (rc != 0)
		goto out;
	t = jv_get(&v, "Table");
	ks = t ? jv_get(t, "KeySchema") : NULL;
	if ((s = jv_get_str(t, "TableArn")) == NULL || ks == NULL ||
	    ks->type != JV_ARRAY || ks->n < 1 || ks->n > MAX_KEYS) {
		warnx("DescribeTable: no TableArn or KeySchema in the answer");
		rc = DDB_EXIT_TEMPFAIL;
		goto out;
	}
	*arnp = xstrdup(s);
	for (i = 0; i < ks->n; i++) {
		if ((s = jv_get_str(&ks->u.a[i], "AttributeName")) == NULL) {
			warnx("DescribeTable: a KeySchema element without "
			    "AttributeName");
			rc = DDB_EXIT_TEMPFAIL;
			goto out;
		}
		keys[nkeys++] = xstrdup(s);
	}
out:
	ddb_arena_free(&a);
	return rc;
}

/*
 * T0, the created_at of every row: the Date of the DescribeTable answer
 * (the service's clock, not ours, which may run ahead) less T0_MARGIN.
 * That answer came before the first Scan was sent, so a change the scan
 * can miss happened at or after its Date; its stream record's time is
 * that moment rounded down to the second (AWS) or to the minute
 * (DynamoDB Local), so no earlier than T0.  ddb-scan.1 has the rule this
 * serves, and its proof.
 */
static time_t
scan_t0(time_t d)
{
	if (d == 0) {
		d = time(NULL);
		warnx("DescribeTable: no Date in the answer: T0 from this "
		    "host's clock");
	}
	if (verbose)
		warnx("T0 %lld: the service's clock less %d s", (long long)d -
		    T0_MARGIN, T0_MARGIN);
	return d - T0_MARGIN;
}

static void
nap(double d)
{
	struct timespec ts;

	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !ddb_stop)
		;
}

/*
 * --rcu: a token bucket of read capacity units, refilled at rcu a second,
 * at most one second's worth.  A page starts when the bucket is above
 * zero and takes its guess (the segment's last page) at once, so that
 * parallel segments do not all start on the same credit; the page's real
 * ConsumedCapacity corrects the guess when it is known.
 */
static void
rate_take(double guess, long seg)
{
	double t, wait;

	if (rcu <= 0)
		return;
	for (;;) {
		pthread_mutex_lock(&mu);
		t = ddb_now();
		tokens += (t - (double)filled.tv_sec -
		    (double)filled.tv_nsec / 1e9) * rcu;
		if (tokens > rcu)
			tokens = rcu;
		filled.tv_sec = (time_t)t;
		filled.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
		if (tokens > 0 || ddb_stop) {
			tokens -= guess;
			pthread_mutex_unlock(&mu);
			return;
		}
		wait = -tokens / rcu + 0.001;
		pthread_mutex_unlock(&mu);
		if (verbose)
			warnx("segment %ld: --rcu %g: waiting %.3f s", seg, rcu,
			    wait);
		nap(wait);
	}
}

static void
rate_settle(double guess, double used)
{
	pthread_mutex_lock(&mu);
	consumed += used;
	if (rcu > 0)
		tokens -= used - guess;
	pthread_mutex_unlock(&mu);
}

/* one item as a record of a Lambda event's Records, and a newline */
static int
add_record(struct ddb_buf *b, const struct jv *item, long seg)
{
	int i;

	if (item->type != JV_OBJECT) {
		warnx("Scan: segment %ld: an item that is no object", seg);
		return DDB_EXIT_DATA;
	}
	PUTS(b, "{\"eventName\":\"INSERT\",\"eventSource\":"
	    "\"aws:dynamodb\",\"tableName\":");
	ddb_json_str(b, table, strlen(table));
	PUTS(b, ",\"dynamodb\":{\"ApproximateCreationDateTime\":");
	ddb_buf_put(b, created, strlen(created));
	PUTS(b, ",\"Keys\":{");
	for (i = 0; i < nkeys; i++) {
		const struct jv *k = jv_get(item, keys[i]);

		if (k == NULL) {
			warnx("Scan: segment %ld: an item without the key "
			    "attribute %s", seg, keys[i]);
			return DDB_EXIT_DATA;
		}
		if (i > 0)
			ddb_buf_putc(b, ',');
		ddb_json_str(b, keys[i], strlen(keys[i]));
		ddb_buf_putc(b, ':');
		ddb_json_write(b, k);
	}
	PUTS(b, "},\"NewImage\":");
	ddb_json_write(b, item);
	PUTS(b, ",\"StreamViewType\":\"NEW_IMAGE\"},"
	    "\"eventSourceARN\":");
	ddb_json_str(b, arn, strlen(arn));
	PUTS(b, "}\n");
	return 0;
}

/*
 * One Scan page of segment seg from pos (NULL: its start) into out as
 * records.  *count: its items; *next: LastEvaluatedKey as JSON, NULL at
 * the segment's end; *guess: the page's read capacity units, in and out.
 */
static int
scan_page(struct worker *w, long seg, const char *pos, struct ddb_buf *out,
    long *count, char **next, double *guess)
{
	struct ddb_arena a = { 0 };
	struct ddb_buf b = { 0 };
	struct jv v, *its, *lek, *cc;
	char num_[64];
	double used;
	size_t i;
	int rc;

	*count = 0;
	*next = NULL;
	ddb_buf_putc(&b, '{');
	ddb_json_member(&b, "TableName", table);
	if (segments > 1) {
		snprintf(num_, sizeof num_, "%ld", seg);
		put_raw(&b, "Segment", num_);
		snprintf(num_, sizeof num_, "%ld", segments);
		put_raw(&b, "TotalSegments", num_);
	}
	if (pos)
		put_raw(&b, "ExclusiveStartKey", pos);
	if (page_size > 0) {
		snprintf(num_, sizeof num_, "%ld", page_size);
		put_raw(&b, "Limit", num_);
	}
	if (consistent)
		put_raw(&b, "ConsistentRead", "true");
	ddb_json_member(&b, "ReturnConsumedCapacity", "TOTAL");
	ddb_buf_putc(&b, '}');
	rate_take(*guess, seg);
	rc = aj_call(&w->aj, AJ_DYNAMODB, "Scan", b.p, b.n, 0, &a, &v);
	free(b.p);
	if (rc != 0) {
		rate_settle(*guess, 0);
		ddb_arena_free(&a);
		return rc;
	}
	its = jv_get(&v, "Items");
	if (its == NULL || its->type != JV_ARRAY) {
		warnx("Scan: segment %ld: no Items in the answer", seg);
		rate_settle(*guess, *guess);
		ddb_arena_free(&a);
		return DDB_EXIT_TEMPFAIL;
	}
	for (i = 0; i < its->n && rc == 0; i++)
		rc = add_record(out, &its->u.a[i], seg);
	/* without its ConsumedCapacity: Scan reads in 4 KB steps, half a
	 * unit each when not consistent; the records are larger than the
	 * items, so this guesses high */
	cc = jv_get(&v, "ConsumedCapacity");
	if ((cc = jv_get(cc, "CapacityUnits")) != NULL &&
	    cc->type == JV_NUMBER)
		used = strtod(cc->u.s, NULL);
	else
		used = ceil((double)out->n / 4096) * (consistent ? 1 : 0.5);
	*count = (long)its->n;
	if (rc == 0 && (lek = jv_get(&v, "LastEvaluatedKey")) != NULL &&
	    lek->type == JV_OBJECT && lek->n > 0) {
		struct ddb_buf k = { 0 };

		ddb_json_write(&k, lek);
		ddb_buf_putc(&k, '\0');
		*next = k.p;
	}
	if (verbose)
		warnx("segment %ld: a page of %zu items, %g read capacity "
		    "units%s", seg, its->n, used, *next ? "" : "; its end");
	rate_settle(*guess, used);
	*guess = used > 0 ? used : 0.5;
	ddb_arena_free(&a);
	return rc;
}

/* where a record of a staged batch is from */
struct where {
	long seg, page;
};

static int
save_progress(void *arg, const struct ddb_batch *b)
{
	const struct where *w = arg;
	struct ddb_batch *pb = &st.seg[w->seg].pb;
	int rc;

	pthread_mutex_lock(&mu);
	pb->nr = b->nr;
	memcpy(pb->lo, b->lo, sizeof b->lo);
	memcpy(pb->hi, b->hi, sizeof b->hi);
	pb->attempts = b->attempts;
	rc = sstate_save(&st);
	pthread_mutex_unlock(&mu);
	return rc;
}

/* record i of a segment's page named: the segment, page, and its place */
static void
name_record(void *arg, long i, const char *rec, size_t n,
    struct ddb_record_name *out)
{
	const struct where *w = arg;
	struct ddb_buf b = { 0 };
	char *l;

	(void)rec;
	(void)n;
	out->label = xasprintf("segment %ld page %ld item %ld", w->seg,
	    w->page, i + 1);
	out->file = xasprintf("scan.%s.%s.%ld.%ld.%ld", table, created, w->seg,
	    w->page, i + 1);
	ddb_safe_name(out->file);
	PUTS(&b, "\"source\":\"scan\",\"table\":");
	ddb_json_str(&b, table, strlen(table));
	l = xasprintf(",\"createdAt\":%s,\"segment\":%ld,\"page\":%ld,"
	    "\"pageItem\":%ld", created, w->seg, w->page, i + 1);
	ddb_buf_put(&b, l, strlen(l));
	free(l);
	ddb_buf_putc(&b, '\0');
	out->meta = b.p;
}

/* segment seg's staged batch on the consumer's stdin; its status */
static int
run_consumer(long seg, long page)
{
	struct ddb_sink sk = sink_opts;
	struct where w;
	char *add[4], **env;
	int rc, i;

	/* ours, and where its page is from */
	add[0] = xasprintf("DDB_SCAN_TABLE=%s", table);
	add[1] = xasprintf("DDB_SCAN_SEGMENT=%ld", seg);
	add[2] = xasprintf("DDB_SCAN_PAGE=%ld", page);
	add[3] = NULL;
	env = ddb_consumer_env("DDB_SCAN_", add);
	pthread_mutex_lock(&mu_out);
	fflush(stdout);
	pthread_mutex_unlock(&mu_out);
	w.seg = seg;
	w.page = page;
	sk.cmd = cmd;
	sk.env = env;
	sk.save = save_progress;
	sk.name = name_record;
	sk.arg = &w;
	rc = ddb_batch_run(st.dir, &st.seg[seg].pb, &sk);
	pthread_mutex_lock(&mu);
	items += sk.delivered;
	bisected += sk.bisected;
	dead_count += sk.dead_count;
	tempfails += sk.tempfails;
	pthread_mutex_unlock(&mu);
	free(env);
	for (i = 0; i < 3; i++)
		free(add[i]);
	return rc;
}

/* the batch of segment seg committed: its cursor moves past it */
static int
commit(long seg)
{
	struct seg *s = &st.seg[seg];
	int rc;

	pthread_mutex_lock(&mu);
	free(s->pos);
	s->pos = s->pnext;
	s->pnext = NULL;
	s->done = s->pos == NULL;
	s->pages++;
	s->items += s->pb.count;
	pages++;
	s->pending = 0;
	rc = sstate_save(&st);
	pthread_mutex_unlock(&mu);
	if (rc == 0)
		ddb_batch_remove(st.dir, seg);
	return rc;
}

/*
 * hand on a batch of records (out; with a command, part: the batch's
 * earlier pages, staged so far, or NULL); with a command: staged, then
 * committed
 */
static int
deliver(long seg, struct ddb_batch *part, struct ddb_buf *out, long count,
    char *next)
{
	struct ddb_batch bt;
	struct seg *s;
	int rc;

	if (cmd == NULL) {
		pthread_mutex_lock(&mu_out);
		rc = ddb_fwrite_all(stdout, out->p, out->n) != 0 ||
		    fflush(stdout) != 0;
		pthread_mutex_unlock(&mu_out);
		if (rc) {
			warn("stdout");
			free(next);
			return DDB_EXIT_IO;
		}
		pthread_mutex_lock(&mu);
		items += count;
		pages += count > 0;
		pthread_mutex_unlock(&mu);
		free(next);
		return 0;
	}
	s = &st.seg[seg];
	if (count == 0) {	/* nothing to hand on: just the position */
		if (part)
			ddb_batch_drop(part);
		pthread_mutex_lock(&mu);
		free(s->pos);
		s->pos = next;
		s->done = next == NULL;
		rc = sstate_save(&st);
		pthread_mutex_unlock(&mu);
		return rc;
	}
	if (part)
		bt = *part;
	if ((part == NULL && (rc = ddb_batch_begin(&bt, st.dir, seg)) != 0) ||
	    (rc = ddb_batch_add(&bt, out->p, out->n, count - bt.count)) != 0 ||
	    (rc = ddb_batch_stage(&bt, st.dir)) != 0) {
		ddb_batch_drop(&bt);
		free(next);
		return rc;
	}
	pthread_mutex_lock(&mu);
	s->pending = 1;
	s->pb = bt;
	s->pnext = next;
	rc = sstate_save(&st);
	pthread_mutex_unlock(&mu);
	if (rc != 0)
		return rc;
	warnx("batch: segment %ld page %ld: %ld items", seg, s->pages + 1,
	    count);
	if ((rc = run_consumer(seg, s->pages + 1)) != 0)
		return rc;
	return commit(seg);
}

/*
 * More pages after the first (out, *count, *next) while the batch has room
 * (--batch-size, --batch-bytes): whole pages, the earlier ones staged to
 * bt's file as they come (*part), so a batch is bounded by the disk;
 * out keeps the last page, *count the batch's items, *next the
 * LastEvaluatedKey after it
 */
static int
fill(struct worker *w, long seg, struct ddb_buf *out, long *count,
    char **next, double *guess, struct ddb_batch *bt, int *part)
{
	long total = *count, n;
	size_t bytes = out->n;
	char *pos;
	int rc;

	while (*next && (batch_size > 0 || batch_bytes > 0) &&
	    (batch_size == 0 || total < batch_size) &&
	    (batch_bytes == 0 || (long)bytes < batch_bytes) && !ddb_stop) {
		if (!*part) {
			if ((rc = ddb_batch_begin(bt, st.dir, seg)) != 0)
				return rc;
			*part = 1;
		}
		if ((rc = ddb_batch_add(bt, out->p, out->n, total -
		    bt->count)) != 0)
			return rc;
		out->n = 0;
		pos = *next;
		rc = scan_page(w, seg, pos, out, &n, next, guess);
		free(pos);
		if (rc != 0)
			return rc;
		total += n;
		bytes += out->n;
	}
	*count = total;
	return 0;
}

/* one segment to its end, or until a stop */
static int
scan_segment(struct worker *w, long seg)
{
	struct seg *s = st.dir ? &st.seg[seg] : NULL;
	struct ddb_buf out = { 0 };
	struct ddb_batch bt;
	char *pos = NULL, *next;
	double guess = 1;
	long count;
	int rc = 0, part = 0;

	if (s && s->pending) {
		warnx("batch staged by an earlier run, not committed, handed "
		    "on again: segment %ld page %ld: %ld items%s", seg,
		    s->pages + 1, s->pb.count, ddb_todo_text(&s->pb));
		if ((rc = run_consumer(seg, s->pages + 1)) != 0 ||
		    (rc = commit(seg)) != 0)
			return rc;
	}
	for (;;) {
		pthread_mutex_lock(&mu);
		if (s)
			pos = s->done ? NULL : s->pos ? xstrdup(s->pos) : NULL;
		if (ddb_stop || failed || (s && s->done)) {
			pthread_mutex_unlock(&mu);
			break;
		}
		pthread_mutex_unlock(&mu);
		out.n = 0;
		rc = scan_page(w, seg, pos, &out, &count, &next, &guess);
		if (rc == 0 && s != NULL && cmd != NULL)
			rc = fill(w, seg, &out, &count, &next, &guess, &bt,
			    &part);
		if (rc == 0) {
			if (s == NULL) {
				free(pos);
				pos = next ? xstrdup(next) : NULL;
			}
			rc = deliver(seg, part ? &bt : NULL, &out, count, next);
			part = 0;
		} else if (part) {
			ddb_batch_drop(&bt);
			part = 0;
		}
		if (rc != 0 || (s == NULL && pos == NULL))
			break;
		if (s) {
			free(pos);
			pos = NULL;
		}
	}
	free(pos);
	free(out.p);
	return rc;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	long seg;

	for (;;) {
		pthread_mutex_lock(&mu);
		seg = next_seg < segments && !failed && !ddb_stop ?
		    next_seg++ : -1;
		pthread_mutex_unlock(&mu);
		if (seg < 0)
			break;
		if ((w->rc = scan_segment(w, seg)) != 0) {
			fail(w->rc);
			break;
		}
	}
	return NULL;
}

/* --created-at: a time ddb-expand reads, as the JSON it will stand as */
static char *
created_json(const char *s)
{
	struct ddb_time t;
	struct ddb_buf b = { 0 };
	size_t n = strlen(s);
	int num_ = ddb_is_json_number(s, n), e;

	if ((e = ddb_time_parse(s, n, num_, &t)) != 0)
		ddb_usage_error(usage, "--created-at %s %s", s,
		    ddb_time_strerror(e));
	if (num_)
		return xstrdup(s);
	ddb_json_str(&b, s, n);
	ddb_buf_putc(&b, '\0');
	return b.p;
}

/* a state of another scan than the one asked for: touch nothing */
static int
same_scan(int seg_given, int page_given, int cons_given,
    const char *given)
{
	const char *what = NULL;

	if (strcmp(st.table, table) != 0)
		what = "of another table";
	else if (seg_given && st.segments != segments)
		what = "with another --segments";
	else if (page_given && st.page_size != page_size)
		what = "with another --page-size";
	else if (cons_given && !st.consistent)
		what = "without --consistent";
	else if (given && strcmp(st.created, given) != 0)
		what = "with another --created-at";
	if (what) {
		warnx("%s holds a scan %s (table %s, --segments %ld, "
		    "--page-size %ld%s, --created-at %s); give its settings "
		    "or another state directory", st.dir, what, st.table,
		    st.segments, st.page_size, st.consistent ?
		    ", --consistent" : "", st.created);
		return DDB_EXIT_USAGE;
	}
	segments = st.segments;
	page_size = st.page_size;
	consistent = st.consistent;
	return 0;
}

/* ddb_batch_sweep: which batch files the state names */
static int
staged(void *arg, long part)
{
	(void)arg;
	return st.seg != NULL && part < st.segments && st.seg[part].pending;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' },
		/* no short twins: every letter of the suite is taken */
		{ "state", required_argument, NULL, OPT_STATE },
		{ "segments", required_argument, NULL, OPT_SEGMENTS },
		{ "page-size", required_argument, NULL, OPT_PAGE },
		{ "rcu", required_argument, NULL, OPT_RCU },
		{ "consistent", no_argument, NULL, OPT_CONSISTENT },
		{ "created-at", required_argument, NULL, OPT_CREATED },
		{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
		{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
		{ "json", no_argument, NULL, OPT_JSON },
		DDB_SINK_LONGOPTS,
		AJ_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *statedir = NULL;
	char *tarn = NULL, *now_s = NULL;
	int c, rc, seg_given = 0, page_given = 0, cons_given = 0;
	struct worker *w = NULL;
	struct aj main_aj = { 0 };
	struct aj_opts ao;
	long nw = 0, i;

	aj_opts_init(&ao);
	while ((c = getopt_long(argc, argv, "+t:" AJ_OPTS "hV", longopts,
	    NULL)) != -1)
		switch (c) {
		case 't': table = optarg; break;
		case OPT_STATE: statedir = optarg; break;
		case OPT_JSON: json_out = 1; break;
		case DDB_OPT_DEAD:
		case DDB_OPT_ATTEMPTS:
			if (ddb_sink_opt(&sink_opts, c, optarg) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_SEGMENTS:
			if (ddb_long_opt(optarg, 1, 1000000, "--segments",
			    &segments) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			seg_given = 1;
			break;
		case OPT_PAGE:
			if (ddb_long_opt(optarg, 1, 1000000000L, "--page-size",
			    &page_size) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			page_given = 1;
			break;
		case OPT_RCU:
			if (ddb_double_opt(optarg, 0.5, 1e9, "--rcu", &rcu) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_CONSISTENT: consistent = cons_given = 1; break;
		case OPT_BATCH_SIZE:
			if (ddb_long_opt(optarg, 1, 1000000000L, "batch size",
			    &batch_size) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_BATCH_BYTES:
			if (ddb_long_opt(optarg, 1, 1L << 40, "batch bytes",
			    &batch_bytes) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_CREATED:
			free(created_given);
			created_given = created_json(optarg);
			break;
		case 'h': usage(stdout, 0);
		case 'V': ddb_print_version();
		default:
			if (aj_opt(&ao, c, optarg) != 0)
				usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	verbose = ao.verbose;
	if (table == NULL)
		ddb_usage_error(usage, "no table given (-t)");
	if (!ddb_table_name_ok(table, strlen(table)))
		ddb_usage_error(usage, "bad table name: %s (3 to 255 of A-Z "
		    "a-z 0-9 _ - .)", table);
	if (argc > 0)
		cmd = argv;
	if (cmd && statedir == NULL)
		ddb_usage_error(usage, "a command needs a state directory "
		    "(--state)");
	if (statedir && cmd == NULL)
		ddb_usage_error(usage, "--state needs a command: records on "
		    "stdout are never committed");
	if (json_out && cmd == NULL)
		ddb_usage_error(usage, "--json needs a command (without one "
		    "the records are on stdout)");
	ddb_catch_stop();
	if (statedir) {
		st.dir = statedir;
		if ((rc = ddb_dir_lock(statedir, &st.lockfd, verbose)) == -1) {
			rc = 0;
			goto done;
		}
		if (rc != 0 || (rc = sstate_load(&st)) != 0)
			goto done;
		ddb_batch_sweep(st.dir, staged, NULL);
		ddb_batch_sweep(st.dir, staged, NULL);
		if (st.exists && (rc = same_scan(seg_given, page_given,
		    cons_given, created_given)) != 0)
			goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		errx(DDB_EXIT_IO, "cannot initialise libcurl");
	rc = aj_start(&main_aj, &ao, verbose);
	if (rc == 0)
		rc = describe(&main_aj, &tarn);
	if (rc != 0)
		goto out;
	arn = tarn;
	if (st.exists) {
		created = st.created;
	} else {
		if (created_given == NULL)
			now_s = xasprintf("%lld", (long long)scan_t0(main_aj.date));
		created = created_given ? created_given : now_s;
		if (statedir) {	/* the settings, created_at first of all */
			st.table = xstrdup(table);
			st.arn = xstrdup(arn);
			st.created = xstrdup(created);
			st.segments = segments;
			st.page_size = page_size;
			st.consistent = consistent;
			st.seg = xcalloc((size_t)segments, sizeof *st.seg);
			if ((rc = sstate_save(&st)) != 0)
				goto out;
		}
	}
	nw = segments < MAX_WORKERS ? segments : MAX_WORKERS;
	w = xcalloc((size_t)nw, sizeof *w);
	clock_gettime(CLOCK_MONOTONIC, &filled);
	tokens = rcu;
	for (i = 0; i < nw && rc == 0; i++)
		rc = aj_start(&w[i].aj, &ao, 0);
	if (rc != 0) {
		nw = i;
		goto out;
	}
	for (i = 0; i < nw; i++) {
		w[i].aj.verbose = verbose;
		if ((errno = pthread_create(&w[i].tid, NULL, work, &w[i])) != 0)
			err(DDB_EXIT_IO, "pthread_create");
	}
	for (i = 0; i < nw; i++)
		pthread_join(w[i].tid, NULL);
	rc = failed;
	if (rc == 0 && ddb_stop && st.dir) {
		for (i = 0; i < segments && st.seg[i].done; i++)
			;
		if (i < segments) {
			warnx("stopped by a signal; the next run with --state "
			    "%s goes on", st.dir);
			rc = DDB_EXIT_TEMPFAIL;
		}
	} else if (rc == 0 && ddb_stop) {
		warnx("stopped by a signal before the end of the scan");
		rc = DDB_EXIT_TEMPFAIL;
	}
out:
	for (i = 0; i < nw; i++)
		calls += w[i].aj.calls;
	calls += main_aj.calls;
	if (items > 0 || verbose || bisected || dead_count || tempfails)
		warnx("%s: %ld items in %ld pages, %g read capacity units, %ld "
		    "requests%s", table, items, pages, consumed, calls,
		    ddb_sink_counts(bisected, dead_count, tempfails));
	/* a run whose state is sound, its work done up to where it stopped */
	if (json_out && arn && (rc == 0 || rc == DDB_EXIT_DATA ||
	    rc == DDB_EXIT_ATTEMPTS || rc == DDB_EXIT_TEMPFAIL))
		printf("{\"items\":%ld,\"pages\":%ld,\"read_capacity_units\":%g,"
		    "\"requests\":%ld,\"bisections\":%ld,\"dead_lettered\":%ld,"
		    "\"temporary_failures\":%ld}\n", items, pages, consumed, calls,
		    bisected, dead_count, tempfails);
	for (i = 0; i < nw; i++)
		aj_close(&w[i].aj);
	aj_close(&main_aj);
	curl_global_cleanup();
	free(w);
	free(tarn);
	free(now_s);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
done:
	free(created_given);
	sstate_free(&st);
	if (rc == 0)
		ddb_close_stdout();
	return rc;
}
