/* ddb-stream: read a DynamoDB stream, hand each batch to a command, checkpoint */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

#define PAGE_MAX 1000		/* GetRecords' Limit at most */
/*
 * A batch is handed on once it holds --batch-size records or
 * --batch-bytes bytes, once its first record was read --batch-window
 * seconds ago, or when every shard is caught up and the run ends.  The
 * defaults make objects a lake reads well (few, large) and bound how long
 * a --follow service holds a change.
 */
#define BATCH_RECORDS 100000L
#define BATCH_BYTES (256L << 20)
#define BATCH_WINDOW 300L
#define OPEN_EMPTY 3		/* empty pages in a row: an open shard is
				   caught up for this run */
/*
 * Several GetRecords in flight, each on a shard of its own: a shard's
 * pages chain (each names the next), so one at a time per shard keeps its
 * records in order.  Eight readers keep about 400 pages a second in
 * flight at 20 ms a request, more than two cores parse; each costs a
 * thread and a connection.
 */
#define READERS 8
#define SHARD_RATE 5.0		/* GetRecords a second per shard: the service's
				   limit, for all the shard's readers */
#define RATE_MARGIN 1.1	/* spacing a little above 1/rate: the service
				   counts arrivals, which jitter */
#define DESCRIBE_GAP 0.5	/* seconds between DescribeStream calls: a
				   fifth of its 10 a second, for the account */

enum { OPT_STATE = 256, OPT_LIMIT, OPT_FOLLOW, OPT_LATEST, OPT_GAP,
    OPT_LIST_EVERY, OPT_BATCH_SIZE, OPT_BATCH_BYTES, OPT_BATCH_WINDOW,
    OPT_MAX_LAG, OPT_JSON, OPT_READERS, OPT_SHARD_RATE };

static struct state st;
static struct aj aj;
static const char *arn;
static char **cmd;		/* the consumer, or NULL: stdout */
static int follow, latest, accept_gap;
static long max_records;	/* 0: no bound */
static long max_seconds;
static long list_every = 60;	/* follow mode: DescribeStream this often */
static long batch_size = BATCH_RECORDS, batch_window = BATCH_WINDOW;
static long batch_bytes = BATCH_BYTES;
static long brecs;		/* records in the batch */
static long max_lag;		/* --max-lag, 0: none */
static int json;		/* --json: the run's summary on stdout */
static double bt0;		/* when its first record was read */
static int skipping;		/* --latest, first run: drop what is there */
static long delivered, batches;
static struct ddb_sink sink_opts;	/* --dead-letter, --batch-attempts */
static long bisected, dead_count, tempfails;	/* the run's, as counted */
static struct ddb_buf batch;	/* records read, not yet staged: NDJSON */
static long bufrecs;		/* how many */
static size_t bbytes;		/* the batch's size, staged or not */
static int staging;		/* st.bt is being staged */
static size_t *order, norder;	/* shard indexes in the batch, in order */
static long readers = READERS;	/* --readers */
static double shard_rate = SHARD_RATE;	/* --shard-rate */

/*
 * A GetRecords page, read by a reader thread into its own buffers, then
 * merged into the batch by the main thread (merge()), which alone touches
 * the batch, the state and every shard that is not busy
 */
struct page {
	size_t shard;		/* index in st.sh (fixed while pages fly) */
	long limit;
	int rc;			/* 0 or a DDB_EXIT_* status (said) */
	struct ddb_buf text;	/* the records as batch lines */
	long n;
	char *first, *last;	/* their sequence numbers */
	double when;		/* the first ApproximateCreationDateTime, 0:
				   none */
	double sent;		/* when its last GetRecords went (ddb_now()) */
	int ready;		/* read: the fields above are set */
	struct page *next;	/* the readers' queue */
	struct page *fly;	/* the pages in flight, in the order handed out */
};

struct reader {
	struct aj aj;
	struct ddb_arena a;	/* its answers' trees, reset after each page:
				   the memory of one page kept for the next */
	pthread_t tid;
};

static struct reader *rd;
static struct page *spare;	/* merged pages, for dispatch() again */
static long nrd;		/* readers started */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;	/* the queues */
static pthread_cond_t todo_cv, done_cv;
static struct page *todo, **todo_tail = &todo;
/* merged in the order handed out, whatever order they are read in: the
 * batch's lines are the same for the same pages handed out */
static struct page *fly, **fly_tail = &fly;
static int quit;		/* readers: no more pages */
static long inflight;		/* pages handed out, not yet merged */
static long inflight_recs;	/* their limits: records they may bring */

static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: ddb-stream [-v] [--state dir] [--limit n|ns]... "
	    "[--follow] [--latest]\n"
	    "                  [--accept-gap] [--list-every secs] "
	    "[--batch-size n]\n"
	    "                  [--batch-bytes n] [--batch-window secs] "
	    "[-u url] [-p profile]\n"
	    "                  [-r region] [-a attempts] [-g secs] "
	    "[--readers n]\n"
	    "                  [--shard-rate n] "
	    "[--dead-letter dir|s3://bucket/prefix]\n"
	    "                  [--batch-attempts n] "
	    "stream [command [arg ...]]\n");
	if (status == 0)
		fprintf(fp,
		    "  stream                 a stream ARN, or a table name "
		    "(its latest stream)\n"
		    "  command                run per batch, the records on "
		    "its stdin; its exit 0\n"
		    "                         commits the batch (none: "
		    "records to stdout)\n"
		    "  --state DIR            positions, lock, batch in "
		    "flight (needed with a command)\n"
		    "  --limit N|Ns           stop after N records or N "
		    "seconds (repeatable)\n"
		    "  --follow               keep reading: a service, not a "
		    "cron run\n"
		    "  --list-every SECS      --follow: look for new shards "
		    "this often (60)\n"
		    "  --batch-size N         records a batch at most "
		    "(100000)\n"
		    "  --batch-bytes N        bytes a batch at most, about "
		    "(268435456: 256 MiB)\n"
		    "  --max-lag SECS         exit 10 when a record not yet "
		    "committed is older\n"
		    "  --json                 the run's summary (records, lag) "
		    "as JSON on stdout\n"
		    "  --batch-window SECS    hand a batch on this long after "
		    "its first record at\n"
		    "                         the latest (300; 0: each round "
		    "of reads)\n"
		    "  --readers N            GetRecords in flight at most, "
		    "each on its own shard (8)\n"
		    "  --shard-rate N         GetRecords a second per shard "
		    "at most (5, the\n"
		    "                         service's limit for all of a "
		    "shard's readers)\n"
		    "  --latest               a new state starts at the "
		    "stream's end, not TRIM_HORIZON\n"
		    "  --accept-gap           trimmed records: log the gap, "
		    "go on from TRIM_HORIZON\n"
		    "  --dead-letter PLACE    a record the command refuses (exit 1, "
		    "bisected to\n"
		    "                         it) goes to PLACE, a directory "
		    "or s3://BUCKET/PREFIX,\n"
		    "                         and the stream goes on (none: the "
		    "run stops there)\n"
		    "  --batch-attempts N     the Nth temporary failure (exit "
		    "75) in a row of a\n"
		    "                         batch: its records to "
		    "--dead-letter, or exit 11 (none)\n"
		    "  -u, --endpoint-url URL DynamoDB and Streams endpoint\n"
		    "  -p, --profile NAME     AWS profile\n"
		    "  -r, --region NAME      AWS region\n"
		    "  -a, --max-attempts N   tries per request (10)\n"
		    "  -g, --backoff SECS     first retry waits up to this, "
		    "doubling (0.25)\n"
		    "  -v, --verbose          log every request's retries\n"
		    "  -h, --help             this text\n"
		    "  -V, --version          print the version\n");
	exit(status);
}

/* --limit: N records, or Ns seconds */
static void
limit_arg(const char *s)
{
	size_t n = strlen(s);
	int secs = n > 1 && s[n - 1] == 's';
	char *t = xstrndup(s, n - (size_t)secs);
	long v;

	if (ddb_long_arg(t, 1, 1000000000L, &v) != 0)
		ddb_usage_error(usage, "bad limit: %s", s);
	free(t);
	if (secs)
		max_seconds = v;
	else
		max_records = v;
}

/* wait secs, whole: a signal only shortens the wait of the main thread's
 * loop by the rest of it */
static void
pause_for(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !ddb_stop)
		;
}

/*
 * op, its body the "name": "text" members given in pairs up to a NULL name
 * (a NULL text leaves its member out), then Limit if limit > 0; aj_call's
 * results (events: the caller takes AJ_EXPIRED_ITERATOR and AJ_TRIMMED)
 */
static int
call(struct aj *c, int svc, const char *op, long limit, int events,
    struct ddb_arena *a, struct jv *out, ...)
{
	static double described;	/* the last DescribeStream (main's) */
	struct ddb_buf b = { 0 };
	const char *k, *v;
	char lim[32];
	va_list ap;
	int rc;

	ddb_buf_putc(&b, '{');
	va_start(ap, out);
	while ((k = va_arg(ap, const char *)) != NULL)
		if ((v = va_arg(ap, const char *)) != NULL)
			ddb_json_member(&b, k, v);
	va_end(ap);
	if (limit > 0) {
		snprintf(lim, sizeof lim, ",\"Limit\":%ld", limit);
		ddb_buf_put(&b, lim, strlen(lim));
	}
	ddb_buf_putc(&b, '}');
	if (strcmp(op, "DescribeStream") == 0) {
		double wait = described + DESCRIBE_GAP - ddb_now();

		if (described > 0 && wait > 0)
			pause_for(wait);
		described = ddb_now();
	}
	rc = aj_call(c, svc, op, b.p, b.n, events, a, out);
	free(b.p);
	return rc;
}

/* a table's latest stream ARN */
static int
resolve(const char *name, char **out)
{
	struct ddb_arena a = { 0 };
	struct jv v;
	const char *s;
	int rc;

	rc = call(&aj, AJ_DYNAMODB, "DescribeTable", 0, 0, &a, &v, "TableName",
	    name, (char *)NULL);
	if (rc == 0) {
		s = jv_get_str(jv_get(&v, "Table"), "LatestStreamArn");
		if (s == NULL) {
			warnx("table %s has no stream", name);
			rc = DDB_EXIT_REFUSED;
		} else if (!stream_arn_ok(s)) {
			warnx("DescribeTable: table %s: its LatestStreamArn is "
			    "not a stream ARN: refused", name);
			rc = DDB_EXIT_TEMPFAIL;
		} else {
			*out = xstrdup(s);
		}
	}
	ddb_arena_free(&a);
	return rc;
}

/* every shard of every DescribeStream page */
static int
list_shards(void)
{
	struct ddb_arena a = { 0 };
	char *start = NULL;
	size_t i, k, n = 0;
	int rc = 0;

	for (i = 0; i < st.nsh; i++)
		st.sh[i].listed = 0;
	do {
		struct jv v, *sd, *shards;
		const char *last;

		rc = call(&aj, AJ_STREAMS, "DescribeStream", 0, 0, &a, &v,
		    "StreamArn", arn, "ExclusiveStartShardId", start,
		    (char *)NULL);
		free(start);
		start = NULL;
		if (rc != 0)
			break;
		sd = jv_get(&v, "StreamDescription");
		shards = sd ? jv_get(sd, "Shards") : NULL;
		if (shards == NULL || shards->type != JV_ARRAY) {
			warnx("DescribeStream: no Shards in the answer");
			rc = DDB_EXIT_TEMPFAIL;
			break;
		}
		for (k = 0; k < shards->n; k++) {
			const struct jv *sj = &shards->u.a[k];
			const char *id = jv_get_str(sj, "ShardId");
			const char *par = jv_get_str(sj, "ParentShardId");
			struct shard *sh;

			if (id == NULL)
				continue;
			if (!shard_id_ok(id) || (par && !shard_id_ok(par))) {
				if (!shard_id_ok(id))
					par = id;
				warnx("DescribeStream: a ShardId (%zu bytes) "
				    "that is not 28 to 65 printable ASCII "
				    "characters without a space: refused",
				    strlen(par));
				rc = DDB_EXIT_TEMPFAIL;
				goto out;
			}
			sh = state_shard(&st, id, 1);
			sh->listed = 1;
			if (par && sh->parent == NULL)
				sh->parent = xstrdup(par);
			sh->closed = jv_get_str(jv_get(sj, "SequenceNumberRange"),
			    "EndingSequenceNumber") != NULL;
			n++;
		}
		if ((last = jv_get_str(sd, "LastEvaluatedShardId")) != NULL)
			start = xstrdup(last);
		ddb_arena_reset(&a);
	} while (start);
out:
	free(start);
	ddb_arena_free(&a);
	if (rc == 0 && aj.verbose)
		warnx("%s: %zu shards", arn, n);
	return rc;
}

/* a known shard the stream no longer lists, not read to its end: loss */
static int
check_vanished(void)
{
	size_t i;

	for (i = 0; i < st.nsh; i++) {
		struct shard *sh = &st.sh[i];

		if (sh->listed || !sh->known)
			continue;
		if (sh->done) {
			sh->known = 0;	/* aged out, read: forget it */
			continue;
		}
		if (!accept_gap) {
			warnx("GAP: shard %s is gone from the stream (trimmed) "
			    "after seq %s: its later records are lost; "
			    "--accept-gap accepts the gap", sh->id, sh->seq ? sh->seq : "-");
			return DDB_EXIT_GAP;
		}
		warnx("GAP accepted: shard %s is gone from the stream after "
		    "seq %s; its later records are lost", sh->id,
		    sh->seq ? sh->seq : "-");
		sh->done = 1;
		sh->known = 0;
	}
	return 0;
}

/* may its records be read yet: its parent read to its end, or aged out */
static int
readable(const struct shard *sh)
{
	const struct shard *p;

	if (sh->done || !sh->listed)
		return 0;
	if (sh->parent == NULL)
		return 1;
	p = state_shard(&st, sh->parent, 0);
	return p == NULL || p->done || (!p->listed && !p->known);
}

static int
get_iterator(struct aj *c, struct shard *sh, const char *type, const char *seq)
{
	struct ddb_arena a = { 0 };
	struct jv v;
	const char *it;
	int rc;

	rc = call(c, AJ_STREAMS, "GetShardIterator", 0, 1, &a, &v, "StreamArn",
	    arn, "ShardId", sh->id, "ShardIteratorType", type, "SequenceNumber",
	    seq, (char *)NULL);
	if (rc == 0) {
		if ((it = jv_get_str(&v, "ShardIterator")) == NULL) {
			warnx("GetShardIterator: shard %s: no ShardIterator",
			    sh->id);
			rc = DDB_EXIT_TEMPFAIL;
		} else {
			free(sh->iter);
			sh->iter = xstrdup(it);
		}
	}
	ddb_arena_free(&a);
	return rc;
}

/* an iterator from where this shard stands: read, acknowledged, or new */
static int
fresh_iterator(struct aj *c, struct shard *sh)
{
	const char *pos = sh->rseq ? sh->rseq : sh->seq;

	return pos ? get_iterator(c, sh, "AFTER_SEQUENCE_NUMBER", pos) :
	    get_iterator(c, sh, "TRIM_HORIZON", NULL);
}

static int
trimmed(struct aj *c, struct shard *sh)
{
	const char *pos = sh->rseq ? sh->rseq : sh->seq;

	if (!accept_gap) {
		warnx("GAP: shard %s: the records after seq %s are gone from "
		    "the stream (TrimmedDataAccessException, older than it "
		    "keeps); nothing skipped; --accept-gap accepts the "
		    "gap", sh->id,
		    pos ? pos : "-");
		return DDB_EXIT_GAP;
	}
	warnx("GAP accepted: shard %s: records after seq %s are lost; going "
	    "on from TRIM_HORIZON", sh->id, pos ? pos : "-");
	free(sh->rseq);
	sh->rseq = NULL;
	free(sh->seq);
	sh->seq = NULL;
	return get_iterator(c, sh, "TRIM_HORIZON", NULL);
}

/* the time of day, epoch seconds: records' times are the service's */
static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The records read so far to the staged batch's file (with a consumer):
 * a batch is bounded by the disk, not by memory
 */
static int
spill(void)
{
	int rc;

	if (cmd == NULL || skipping || batch.n == 0)
		return 0;
	bbytes += batch.n;
	if (!staging) {
		if ((rc = ddb_batch_begin(&st.bt, st.dir, 0)) != 0)
			return rc;
		staging = 1;
	}
	rc = ddb_batch_add(&st.bt, batch.p, batch.n, bufrecs);
	batch.n = 0;
	bufrecs = 0;
	return rc;
}

/*
 * One record as a line of a Lambda event's Records, plus eventSourceARN,
 * to the page's text (a reader's work: the shard is busy, its fields
 * are this reader's)
 */
static int
page_record(struct page *pg, const struct shard *sh, const struct jv *r)
{
	const char *seq = jv_get_str(jv_get(r, "dynamodb"), "SequenceNumber");

	if (r->type != JV_OBJECT || r->n == 0 || seq == NULL ||
	    !ddb_seq_ok(seq, strlen(seq))) {
		const char *after = pg->last ? pg->last : sh->rseq;

		warnx("shard %s: a record without a valid SequenceNumber "
		    "(after seq %s)", sh->id, after ? after : "-");
		return DDB_EXIT_DATA;
	}
	if (pg->when == 0) {
		/* the oldest record of this page with a time: how far behind
		 * the shard is (ApproximateCreationDateTime, epoch seconds) */
		const struct jv *t = jv_get(jv_get(r, "dynamodb"),
		    "ApproximateCreationDateTime");

		if (t && t->type == JV_NUMBER && strtod(t->u.s, NULL) > 0)
			pg->when = strtod(t->u.s, NULL);
	}
	if (pg->first == NULL)
		pg->first = xstrdup(seq);
	free(pg->last);
	pg->last = xstrdup(seq);
	pg->n++;
	ddb_buf_putc(&pg->text, '{');
	ddb_json_members(&pg->text, r, 0);
	if (jv_get(r, "eventSourceARN") == NULL) {
		ddb_buf_put(&pg->text, ",\"eventSourceARN\":", 18);
		ddb_json_str(&pg->text, arn, strlen(arn));
	}
	ddb_buf_put(&pg->text, "}\n", 2);
	return 0;
}

/*
 * One GetRecords page of a busy shard, read by reader r: a fresh
 * iterator first when it has none (or its own expired), the page's
 * records to pg, the next iterator, or the shard's end
 */
static int
read_page(struct reader *r, struct page *pg)
{
	struct aj *c = &r->aj;
	struct shard *sh = &st.sh[pg->shard];
	struct ddb_arena *a = &r->a;
	struct jv v, *recs;
	const char *next;
	size_t i;
	long before;
	int rc, tries = 0;

	for (;;) {
		if (sh->iter == NULL && (rc = fresh_iterator(c, sh)) != 0)
			goto trim_or_fail;
		before = c->calls;
		pg->sent = ddb_now();
		rc = call(c, AJ_STREAMS, "GetRecords", pg->limit, 1, a, &v,
		    "ShardIterator", sh->iter, (char *)NULL);
		if (c->calls - before > 1)	/* retried: its last try was
						   later */
			pg->sent = ddb_now();
		if (rc == AJ_EXPIRED_ITERATOR && ++tries < 5) {
			if (c->verbose)
				warnx("shard %s: iterator expired; a fresh one "
				    "after seq %s", sh->id, sh->rseq ? sh->rseq :
				    sh->seq ? sh->seq : "-");
			free(sh->iter);
			sh->iter = NULL;
			ddb_arena_reset(a);
			continue;
		}
trim_or_fail:
		if (rc == AJ_TRIMMED) {
			if ((rc = trimmed(c, sh)) != 0)
				break;
			ddb_arena_reset(a);
			continue;
		}
		break;
	}
	if (rc < 0) {		/* an event still, after the tries */
		warnx("shard %s: %s, again with a fresh iterator: for a later "
		    "run", sh->id, rc == AJ_TRIMMED ?
		    "TrimmedDataAccessException" : "ExpiredIteratorException");
		rc = DDB_EXIT_TEMPFAIL;
	}
	if (rc != 0) {
		ddb_arena_reset(a);
		return rc;
	}
	recs = jv_get(&v, "Records");
	if (recs && recs->type != JV_ARRAY)
		recs = NULL;
	for (i = 0; recs && i < recs->n; i++)
		if ((rc = page_record(pg, sh, &recs->u.a[i])) != 0) {
			ddb_arena_reset(a);
			return rc;
		}
	next = jv_get_str(&v, "NextShardIterator");
	free(sh->iter);
	sh->iter = NULL;
	if (next == NULL)
		sh->ended = 1;
	else
		sh->iter = xstrdup(next);
	ddb_arena_reset(a);
	return 0;
}

/* a reader: pages from todo, read, marked ready, until quit */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct page *pg;

	for (;;) {
		pthread_mutex_lock(&mu);
		while (todo == NULL && !quit)
			pthread_cond_wait(&todo_cv, &mu);
		if ((pg = todo) == NULL) {
			pthread_mutex_unlock(&mu);
			return NULL;
		}
		if ((todo = pg->next) == NULL)
			todo_tail = &todo;
		pthread_mutex_unlock(&mu);
		pg->rc = read_page(r, pg);
		pthread_mutex_lock(&mu);
		pg->ready = 1;
		pthread_cond_signal(&done_cv);
		pthread_mutex_unlock(&mu);
	}
}

/* the readers, each with its own client; signals stay the main thread's */
static int
readers_start(const struct aj_opts *ao)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&done_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&todo_cv, NULL);
	rd = xmalloc((size_t)readers * sizeof *rd);
	memset(rd, 0, (size_t)readers * sizeof *rd);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (nrd = 0; nrd < readers; nrd++) {
		if ((rc = aj_start(&rd[nrd].aj, ao, 0)) != 0) {
			aj_close(&rd[nrd].aj);
			break;
		}
		rd[nrd].aj.verbose = ao->verbose;
		if ((errno = pthread_create(&rd[nrd].tid, NULL, reader_main,
		    &rd[nrd])) != 0) {
			warn("pthread_create");
			aj_close(&rd[nrd].aj);
			rc = DDB_EXIT_IO;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return nrd == readers ? 0 : rc;
}

/*
 * A merged page back to the spares, its text's memory kept for the next
 * page handed out (the main thread's: dispatch() takes them)
 */
static void
page_free(struct page *pg)
{
	free(pg->first);
	free(pg->last);
	pg->next = spare;
	spare = pg;
}

/* a page to hand out: a spare, its text empty, or a new one */
static struct page *
page_new(void)
{
	struct page *pg = spare;
	struct ddb_buf text = { 0 };

	if (pg != NULL) {
		spare = pg->next;
		text = pg->text;
		text.n = 0;
	} else {
		pg = xmalloc(sizeof *pg);
	}
	memset(pg, 0, sizeof *pg);
	pg->text = text;
	return pg;
}

/* the first page handed out, once read, or NULL when it is not by deadline
 * (ddb_now()) */
static struct page *
page_wait(double deadline)
{
	struct page *pg;
	struct timespec ts;
	double d;

	if (deadline > ddb_now() + 1)
		deadline = ddb_now() + 1;	/* a signal is seen within a
						   second */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d = deadline - ddb_now();
	if (d < 0)
		d = 0;
	ts.tv_sec += (time_t)d;
	ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mu);
	while (fly && !fly->ready)
		if (pthread_cond_timedwait(&done_cv, &mu, &ts) == ETIMEDOUT)
			break;
	if ((pg = fly) != NULL && !pg->ready)
		pg = NULL;
	if (pg != NULL) {
		if ((fly = pg->fly) == NULL)
			fly_tail = &fly;
		inflight--;
		inflight_recs -= pg->limit;
	}
	pthread_mutex_unlock(&mu);
	return pg;
}

/* the readers stopped (the pages in flight read first), their clients
 * closed, their requests counted */
static void
readers_stop(void)
{
	struct page *pg;
	long i;

	while (inflight > 0)
		if ((pg = page_wait(ddb_now() + 1)) != NULL) {
			st.sh[pg->shard].busy = 0;
			page_free(pg);
		}
	pthread_mutex_lock(&mu);
	quit = 1;
	pthread_cond_broadcast(&todo_cv);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < nrd; i++) {
		pthread_join(rd[i].tid, NULL);
		aj.calls += rd[i].aj.calls;
		aj_close(&rd[i].aj);
		ddb_arena_free(&rd[i].a);
	}
	while ((pg = spare) != NULL) {
		spare = pg->next;
		free(pg->text.p);
		free(pg);
	}
	free(rd);
	rd = NULL;
	nrd = 0;
}

/*
 * Pages for the shards that may be read now, while readers are free and
 * the batch has room for what they may bring: a shard readable, not at
 * its end, not caught up, not busy, its GetRecords spacing passed.
 * Returns the earliest time a shard waiting on its spacing may go
 * (0: none waits).
 */
static double
dispatch(void)
{
	static size_t rot;
	double now = ddb_now(), soon = 0;
	long room = batch_size - brecs - inflight_recs;
	size_t i;

	if (max_records && max_records - delivered - brecs - inflight_recs <
	    room)
		room = max_records - delivered - brecs - inflight_recs;
	if ((long)(bbytes + batch.n) >= batch_bytes)
		room = 0;
	for (i = 0; i < st.nsh && inflight < nrd && room > 0; i++) {
		struct shard *sh = &st.sh[(rot + i) % st.nsh];
		struct page *pg;

		if (sh->busy || !readable(sh) || sh->ended || sh->idle)
			continue;
		if (sh->next_at > now) {
			if (soon == 0 || sh->next_at < soon)
				soon = sh->next_at;
			continue;
		}
		pg = page_new();
		pg->shard = (size_t)(sh - st.sh);
		pg->limit = room < PAGE_MAX ? room : PAGE_MAX;
		room -= pg->limit;
		sh->busy = 1;
		pthread_mutex_lock(&mu);
		*todo_tail = pg;
		todo_tail = &pg->next;
		*fly_tail = pg;
		fly_tail = &pg->fly;
		inflight++;
		inflight_recs += pg->limit;
		pthread_cond_signal(&todo_cv);
		pthread_mutex_unlock(&mu);
	}
	rot++;
	return soon;
}

/*
 * A read page into the batch (the main thread's): the shard's range, its
 * lag, its records; *ended: the shard is read to its end
 */
static int
merge(struct page *pg, int *ended)
{
	struct shard *sh = &st.sh[pg->shard];
	int rc = pg->rc;

	sh->busy = 0;
	sh->next_at = pg->sent + RATE_MARGIN / shard_rate;
	if (rc == 0 && pg->n > 0) {
		if (sh->oldest == 0 && pg->when > 0) {
			sh->oldest = pg->when;
			sh->lag = wall() - pg->when;
			if (sh->lag < 0)
				sh->lag = 0;
			if (sh->lag > sh->maxlag)
				sh->maxlag = sh->lag;
		}
		if (sh->bcount == 0) {
			order[norder++] = pg->shard;
			free(sh->bfirst);
			sh->bfirst = xstrdup(pg->first);
		}
		free(sh->blast);
		sh->blast = xstrdup(pg->last);
		free(sh->rseq);
		sh->rseq = xstrdup(pg->last);
		sh->bcount += pg->n;
		ddb_buf_put(&batch, pg->text.p, pg->text.n);
		bufrecs += pg->n;
		if (brecs == 0)
			bt0 = ddb_now();
		brecs += pg->n;
		sh->empty = 0;
	} else if (rc == 0 && !sh->ended && !sh->closed) {
		/* an open shard is caught up after a few empty pages in a
		 * row; an empty page is no end of a closed one, which is
		 * read until its last page */
		if (++sh->empty >= OPEN_EMPTY)
			sh->idle = 1;
	}
	if (sh->ended)
		*ended = 1;
	page_free(pg);
	if (rc == 0)
		rc = spill();
	return rc;
}

/* every page in flight merged: the batch may be handed on */
static int
drain(int *ended)
{
	struct page *pg;
	int rc = 0, prc;

	while (inflight > 0)
		if ((pg = page_wait(ddb_now() + 1)) != NULL &&
		    (prc = merge(pg, ended)) != 0 && rc == 0)
			rc = prc;
	return rc;
}

static void
log_batch(const char *what)
{
	struct ddb_buf b = { 0 };
	size_t i;
	long n = 0;
	char *l;

	for (i = 0; i < norder; i++)
		n += st.sh[order[i]].bcount;
	for (i = 0; i < norder; i++) {
		struct shard *sh = &st.sh[order[i]];
		l = xasprintf(" %s %s..%s (%ld)", sh->id, sh->bfirst,
		    sh->blast, sh->bcount);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	ddb_buf_putc(&b, '\0');
	warnx("%s %ld record%s:%s", what, n, n == 1 ? "" : "s", b.p);
	free(b.p);
}

static int
save_progress(void *arg, const struct ddb_batch *b)
{
	(void)arg;
	st.bt.nr = b->nr;
	memcpy(st.bt.lo, b->lo, sizeof b->lo);
	memcpy(st.bt.hi, b->hi, sizeof b->hi);
	st.bt.attempts = b->attempts;
	return state_save(&st);
}

/*
 * Record i of the staged batch named: its shard (the range of the batch
 * whose sequence numbers hold its own) and sequence number
 */
static void
name_record(void *arg, long i, const char *rec, size_t n,
    struct ddb_record_name *out)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack js = { 0 };
	struct ddb_buf b = { 0 };
	const char *seq = NULL, *shard = "-";
	struct jv v;
	size_t k, off;
	char *l;

	(void)arg;
	if (ddb_json_parse(&a, &js, rec, n, DDB_READ_DEPTH, &v, &off) == 0)
		seq = jv_get_str(jv_get(&v, "dynamodb"), "SequenceNumber");
	if (seq && !ddb_seq_ok(seq, strlen(seq)))
		seq = NULL;
	for (k = 0; seq && k < st.npend; k++)
		if (seq_cmp(st.pend[k].first, seq) <= 0 &&
		    seq_cmp(seq, st.pend[k].last) <= 0) {
			shard = st.pend[k].id;
			break;
		}
	if (seq == NULL)
		seq = "-";
	out->label = xasprintf("shard %s seq %s", shard, seq);
	out->file = xasprintf("stream.%s.%s", shard, seq);
	ddb_safe_name(out->file);
	ddb_buf_put(&b, "\"source\":\"stream\",\"stream\":", 27);
	ddb_json_str(&b, arn, strlen(arn));
	ddb_buf_put(&b, ",\"shard\":", 9);
	ddb_json_str(&b, shard, strlen(shard));
	ddb_buf_put(&b, ",\"sequenceNumber\":", 18);
	ddb_json_str(&b, seq, strlen(seq));
	l = xasprintf(",\"batchRecord\":%ld,\"batchRecords\":%ld", i + 1,
	    st.bt.count);
	ddb_buf_put(&b, l, strlen(l));
	free(l);
	ddb_buf_putc(&b, '\0');
	out->meta = b.p;
	ddb_arena_free(&a);
	ddb_json_stack_free(&js);
}

/* the staged batch on the consumer's stdin; its status as the suite's */
static int
run_consumer(void)
{
	struct ddb_sink sk = sink_opts;
	char *add[2], **env;
	int rc;

	add[0] = xasprintf("DDB_STREAM_ARN=%s", arn);
	add[1] = NULL;
	env = ddb_consumer_env("DDB_STREAM_ARN=", add);
	sk.cmd = cmd;
	sk.env = env;
	sk.save = save_progress;
	sk.name = name_record;
	rc = ddb_batch_run(st.dir, &st.bt, &sk);
	delivered += sk.delivered;
	bisected += sk.bisected;
	dead_count += sk.dead_count;
	tempfails += sk.tempfails;
	free(env);
	free(add[0]);
	return rc;
}

/* the staged batch taken: the cursors move past it, the batch goes */
static int
commit(void)
{
	size_t i;
	int rc;

	for (i = 0; i < st.npend; i++) {
		struct shard *sh = state_shard(&st, st.pend[i].id, 1);

		free(sh->seq);
		sh->seq = xstrdup(st.pend[i].last);
		sh->known = 1;
		sh->oldest = 0;
	}
	st.committed = (long)time(NULL);
	batches++;
	st.staged = 0;
	state_ranges_free(&st);
	if ((rc = state_save(&st)) == 0)
		ddb_batch_remove(st.dir, 0);
	return rc;
}

/*
 * Hand the batch on.  With a consumer, the life cycle of statedir.h: the
 * batch staged and recorded with its ranges (one atomic step), the
 * consumer, then the commit.  Then the shards read to their end are done.
 */
static int
deliver(const char *what)
{
	size_t i;
	int rc = 0;

	if (norder > 0) {
		log_batch(skipping ? "skipped (start at latest)" : what);
		if (skipping) {
			;
		} else if (cmd == NULL) {
			if (ddb_fwrite_all(stdout, batch.p, batch.n) != 0 ||
			    fflush(stdout) != 0)
				err(DDB_EXIT_IO, "stdout");
		} else {
			if ((rc = spill()) != 0)
				return rc;
			staging = 0;
			if ((rc = ddb_batch_stage(&st.bt, st.dir)) != 0)
				return rc;
			state_ranges_free(&st);
			for (i = 0; i < norder; i++) {
				struct shard *sh = &st.sh[order[i]];
				struct pending *p;

				st.pend = xreallocarray(st.pend, i + 1,
				    sizeof *st.pend);
				p = &st.pend[st.npend++];
				p->id = xstrdup(sh->id);
				p->first = xstrdup(sh->bfirst);
				p->last = xstrdup(sh->blast);
				p->count = sh->bcount;
			}
			st.staged = 1;
			if ((rc = state_save(&st)) != 0 ||
			    (rc = run_consumer()) != 0 || (rc = commit()) != 0)
				return rc;
		}
		if (cmd == NULL || skipping)
			batches += !skipping;
	}
	for (i = 0; i < norder; i++) {
		struct shard *sh = &st.sh[order[i]];
		if (cmd == NULL && !skipping)
			delivered += sh->bcount;
		free(sh->seq);
		sh->seq = xstrdup(sh->blast);
		sh->known = 1;
		sh->bcount = 0;
		sh->oldest = 0;
	}
	for (i = 0; i < st.nsh; i++) {
		struct shard *sh = &st.sh[i];
		if (sh->ended && !sh->done) {
			sh->done = 1;
			sh->known = 1;
			warnx("shard %s read to its end (last seq %s)", sh->id,
			    sh->seq ? sh->seq : "-");
		} else if (sh->listed && !sh->known && st.dir) {
			sh->known = 1;
		}
	}
	norder = 0;
	batch.n = 0;
	bufrecs = 0;
	bbytes = 0;
	brecs = 0;
	/* without a command the state is only read, --latest or not */
	if (st.dir && cmd)
		rc = state_save(&st);
	return rc;
}

/*
 * The batch an earlier run staged and did not commit: handed on first,
 * from its file alone, checked against its digest, then committed
 */
static int
resume(void)
{
	struct ddb_buf b = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < st.npend; i++) {
		char *l = xasprintf(" %s %s..%s (%ld)", st.pend[i].id,
		    st.pend[i].first, st.pend[i].last, st.pend[i].count);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	ddb_buf_putc(&b, '\0');
	warnx("batch staged by an earlier run, not committed, handed on "
	    "again: %ld record%s:%s%s", st.bt.count, st.bt.count == 1 ? "" :
	    "s", b.p, ddb_todo_text(&st.bt));
	free(b.p);
	if ((rc = run_consumer()) != 0)
		return rc;
	return commit();
}

/* the batch in hand is to be handed on now */
static int
due(int ended, int caught_up)
{
	/* a shard at its end: its children wait for the commit; records
	 * on stdout go at once */
	if (ended || cmd == NULL || skipping)
		return 1;
	if (brecs >= batch_size || (long)(bbytes + batch.n) >= batch_bytes)
		return 1;
	if (max_records && delivered + brecs >= max_records)
		return 1;
	if (brecs > 0 && ddb_now() - bt0 >= batch_window)
		return 1;
	/* caught up: a run ends and hands on what it has; a service waits
	 * for the batch to fill or for its window */
	return caught_up && !follow;
}

/* the shards again, after one ended or when --list-every is due */
static int
relist(int vanished)
{
	int rc;

	if ((rc = list_shards()) != 0 ||
	    (vanished && (rc = check_vanished()) != 0))
		return rc;
	order = xreallocarray(order, st.nsh + 1, sizeof *order);
	return 0;
}

/*
 * A shard read to its end whose children DescribeStream has not named yet
 * (a shard closes when its children open, so a listing before that lacks
 * them): the shards are to be listed again
 */
static int
children_unlisted(void)
{
	size_t i, k;

	for (i = 0; i < st.nsh; i++) {
		if (!st.sh[i].ended)
			continue;
		for (k = 0; k < st.nsh; k++)
			if (st.sh[k].listed && st.sh[k].parent &&
			    strcmp(st.sh[k].parent, st.sh[i].id) == 0)
				break;
		if (k == st.nsh)
			return 1;
	}
	return 0;
}

/* is any shard to be read still, busy or not caught up */
static int
active(void)
{
	size_t i;

	for (i = 0; i < st.nsh; i++) {
		const struct shard *sh = &st.sh[i];

		if (sh->busy)
			return 1;
		if (readable(sh) && !sh->ended && !sh->idle)
			return 1;
	}
	return 0;
}

/*
 * The readers' loop: pages handed out while readers are free, merged as
 * they come back; a batch handed on once due with nothing in flight; a
 * shard at its end makes the batch go (its children wait for the commit)
 * and the shards listed again
 */
static int
loop(void)
{
	double t0 = ddb_now(), listed_at = ddb_now();
	size_t i;
	int rc;

	for (;;) {
		struct page *pg;
		double soon;
		int ended = 0;

		ddb_dir_alive();
		if (ddb_stop) {
			/* the batch in hand is handed on and committed */
			if ((rc = drain(&ended)) != 0 ||
			    (rc = deliver("batch")) != 0)
				return rc;
			warnx("signal %d: stopped, nothing in flight",
			    (int)ddb_stop);
			return 0;
		}
		if ((max_seconds && ddb_now() - t0 >= max_seconds) ||
		    (max_records && delivered + brecs >= max_records)) {
			if ((rc = drain(&ended)) != 0)
				return rc;
			return deliver("batch");
		}
		soon = dispatch();
		if (inflight > 0 || soon > 0) {
			/* a page back, or a shard's spacing passed */
			if ((pg = page_wait(inflight > 0 ? soon > 0 ? soon :
			    ddb_now() + 1 : soon)) == NULL) {
				if (inflight == 0)
					pause_for(soon - ddb_now());
				continue;
			}
			if ((rc = merge(pg, &ended)) != 0)
				return rc;
			if (!ended && !due(0, 0))
				continue;
			if ((rc = drain(&ended)) != 0 ||
			    (rc = deliver("batch")) != 0)
				return rc;
			if (ended && children_unlisted()) {
				if ((rc = relist(0)) != 0)
					return rc;
				listed_at = ddb_now();
			}
			continue;
		}
		if (active()) {
			/* no room: the batch is full */
			if ((rc = deliver("batch")) != 0)
				return rc;
			continue;
		}
		/* every readable shard is caught up */
		if (due(0, 1) && (rc = deliver("batch")) != 0)
			return rc;
		if (skipping) {
			skipping = 0;
			warnx("caught up; new records are handed on from "
			    "here");
		}
		if (!follow)
			return 0;
		sleep(1);
		/* a caught-up shard gets one page a round, not OPEN_EMPTY:
		 * GetRecords' 5 calls a second are the shard's, for all
		 * its readers */
		for (i = 0; i < st.nsh; i++)
			if (st.sh[i].idle) {
				st.sh[i].idle = 0;
				st.sh[i].empty = OPEN_EMPTY - 1;
			}
		if (ddb_now() - listed_at >= list_every) {
			if ((rc = relist(1)) != 0)
				return rc;
			listed_at = ddb_now();
		}
	}
}

static int
run(const struct aj_opts *ao)
{
	int rc;

	if (st.staged && (rc = resume()) != 0)
		return rc;
	if ((rc = list_shards()) != 0 || (rc = check_vanished()) != 0)
		return rc;
	order = xmalloc((st.nsh + 1) * sizeof *order);
	if (st.dir && !st.exists && (rc = deliver("")) != 0)
		return rc;	/* a new state holds the shards at once */
	if ((rc = readers_start(ao)) == 0)
		rc = loop();
	readers_stop();
	return rc;
}

/* ddb_batch_sweep: which batch files the state names */
static int
staged(void *arg, long part)
{
	(void)arg;
	return st.staged && part == st.bt.part;
}

/*
 * How far behind the run found the stream: per shard the age of its oldest
 * record not yet committed, when it was read (the most this run, and the
 * last one, 0 once committed), and the age of the last commit; logged when
 * the run read records, on stdout as JSON with --json; --max-lag turns a
 * run that found a record older than the bound into DDB_EXIT_LAG
 */
static int
report(int rc)
{
	const struct shard *worst = NULL;
	double now = wall(), lag = 0, maxlag = 0;
	size_t i;

	for (i = 0; i < st.nsh; i++) {
		const struct shard *sh = &st.sh[i];
		double cur = sh->oldest > 0 ? now - sh->oldest : 0;

		if (cur > lag)
			lag = cur;
		if (sh->maxlag > maxlag) {
			maxlag = sh->maxlag;
			worst = sh;
		}
	}
	if (worst && (delivered > 0 || aj.verbose || max_lag)) {
		char ago[64] = "never";

		if (st.committed > 0)
			snprintf(ago, sizeof ago, "%.0f s ago",
			    now - (double)st.committed);
		warnx("lag: the oldest record not yet committed was %.0f s old "
		    "(shard %s), %.0f s now; last commit %s", maxlag,
		    worst->id, lag, ago);
	}
	if (max_lag && worst && maxlag > (double)max_lag) {
		warnx("LAG: shard %s: a record not yet committed was %.0f s "
		    "old, more than --max-lag %ld: the stream is behind", worst->id,
		    maxlag, max_lag);
		if (rc == 0)
			rc = DDB_EXIT_LAG;
	}
	if (json) {
		struct ddb_buf b = { 0 };
		char *l;
		int first = 1;

		l = xasprintf("{\"records\":%ld,\"batches\":%ld,"
		    "\"bisections\":%ld,\"dead_lettered\":%ld,"
		    "\"temporary_failures\":%ld,\"lag\":%.0f,\"max_lag\":%.0f,"
		    "\"last_commit_age\":", delivered, batches, bisected,
		    dead_count, tempfails, lag, maxlag);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
		if (st.committed > 0)
			l = xasprintf("%.0f", now - (double)st.committed);
		else
			l = xstrdup("null");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
		ddb_buf_put(&b, ",\"stream\":", 10);
		ddb_json_str(&b, arn ? arn : "", arn ? strlen(arn) : 0);
		ddb_buf_put(&b, ",\"shards\":[", 11);
		for (i = 0; i < st.nsh; i++) {
			const struct shard *sh = &st.sh[i];

			if (!sh->listed && !sh->known)
				continue;
			ddb_buf_put(&b, first ? "{\"shard\":" : ",{\"shard\":",
			    first ? 9 : 10);
			first = 0;
			ddb_json_str(&b, sh->id, strlen(sh->id));
			l = xasprintf(",\"lag\":%.0f,\"max_lag\":%.0f}",
			    sh->oldest > 0 ? now - sh->oldest : 0, sh->maxlag);
			ddb_buf_put(&b, l, strlen(l));
			free(l);
		}
		ddb_buf_put(&b, "]}\n", 3);
		if (ddb_fwrite_all(stdout, b.p, b.n) != 0)
			warn("stdout");
		free(b.p);
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		/* no short twins: every letter of the suite is taken */
		{ "state", required_argument, NULL, OPT_STATE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "latest", no_argument, NULL, OPT_LATEST },
		{ "accept-gap", no_argument, NULL, OPT_GAP },
		{ "list-every", required_argument, NULL, OPT_LIST_EVERY },
		{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
		{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
		{ "batch-window", required_argument, NULL, OPT_BATCH_WINDOW },
		{ "max-lag", required_argument, NULL, OPT_MAX_LAG },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "readers", required_argument, NULL, OPT_READERS },
		{ "shard-rate", required_argument, NULL, OPT_SHARD_RATE },
		DDB_SINK_LONGOPTS,
		AJ_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *statedir = NULL;
	char *resolved = NULL;
	struct aj_opts ao;
	int c, rc;

	aj_opts_init(&ao);
	while ((c = getopt_long(argc, argv, "+" AJ_OPTS "hV", longopts,
	    NULL)) != -1)
		switch (c) {
		case OPT_STATE: statedir = optarg; break;
		case OPT_LIMIT: limit_arg(optarg); break;
		case OPT_FOLLOW: follow = 1; break;
		case OPT_LATEST: latest = 1; break;
		case OPT_GAP: accept_gap = 1; break;
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
		case OPT_BATCH_WINDOW:
			if (ddb_long_opt(optarg, 0, 7 * 86400, "batch window",
			    &batch_window) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_MAX_LAG:
			if (ddb_long_opt(optarg, 1, 100L * 86400, "max lag",
			    &max_lag) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_JSON: json = 1; break;
		case DDB_OPT_DEAD:
		case DDB_OPT_ATTEMPTS:
			if (ddb_sink_opt(&sink_opts, c, optarg) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_READERS:
			if (ddb_long_opt(optarg, 1, 256, "readers", &readers) !=
			    0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_SHARD_RATE:
			if (ddb_double_opt(optarg, 0.01, 1000, "shard rate",
			    &shard_rate) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case OPT_LIST_EVERY:
			if (ddb_long_opt(optarg, 1, 86400, "list interval",
			    &list_every) != 0)
				usage(stderr, DDB_EXIT_USAGE);
			break;
		case 'h': usage(stdout, 0);
		case 'V': ddb_print_version();
		default:
			if (aj_opt(&ao, c, optarg) != 0)
				usage(stderr, DDB_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ddb_usage_error(usage, "no stream given (an ARN or a table "
		    "name)");
	if (argc > 1)
		cmd = argv + 1;
	if (json && cmd == NULL)
		ddb_usage_error(usage, "--json needs a command (without one "
		    "the records are on stdout)");
	if (cmd && statedir == NULL)
		ddb_usage_error(usage, "a command needs a state directory "
		    "(--state)");
	if (strncmp(argv[0], "arn:", 4) == 0 && !stream_arn_ok(argv[0]))
		ddb_usage_error(usage, "not a stream ARN (arn:PARTITION:dynamodb:"
		    "REGION:ACCOUNT:table/NAME/stream/LABEL, 37 to 1024 "
		    "printable characters without a space): %s", argv[0]);
	ddb_catch_stop();
	if (statedir) {
		st.dir = xstrdup(statedir);
		if ((rc = ddb_dir_lock(statedir, &st.lockfd, ao.verbose)) == -1)
			return 0;
		if (rc != 0 || (rc = state_load(&st)) != 0)
			return rc;
		ddb_batch_sweep(st.dir, staged, NULL);
	}
	skipping = latest && !st.exists;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		errx(DDB_EXIT_IO, "cannot initialise libcurl");
	rc = aj_start(&aj, &ao, ao.verbose);
	if (rc == 0) {
		if (strncmp(argv[0], "arn:", 4) == 0)
			arn = argv[0];	/* checked before the lock */
		else if ((rc = resolve(argv[0], &resolved)) == 0)
			arn = resolved;
	}
	if (rc == 0 && st.arn && strcmp(st.arn, arn) != 0) {
		warnx("%s holds the state of stream %s, not %s", st.dir,
		    st.arn, arn);
		rc = DDB_EXIT_USAGE;
	}
	if (rc == 0) {
		if (st.arn == NULL)
			st.arn = xstrdup(arn);
		rc = run(&ao);
	}
	/* a run whose state is sound, its work done up to where it stopped */
	if (arn && (rc == 0 || rc == DDB_EXIT_DATA || rc == DDB_EXIT_GAP ||
	    rc == DDB_EXIT_ATTEMPTS || rc == DDB_EXIT_TEMPFAIL))
		rc = report(rc);
	if (delivered > 0 || aj.verbose || bisected || dead_count ||
	    tempfails)
		warnx("%s: %ld record%s in %ld batch%s, %ld requests%s",
		    arn ? arn : argv[0], delivered, delivered == 1 ? "" : "s",
		    batches, batches == 1 ? "" : "es", aj.calls,
		    ddb_sink_counts(bisected, dead_count, tempfails));
	aj_close(&aj);
	curl_global_cleanup();
	free(resolved);
	if (rc == 0)
		ddb_close_stdout();
	return rc;
}
