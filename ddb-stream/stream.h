/* stream.h: what ddb-stream's files share */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <time.h>

#include "ddb.h"
#include "awsjson.h"
#include "statedir.h"

/* state.c: the state file (positions, the pending batch); the directory
 * and its lock are statedir.c's */
struct shard {
	char *id, *parent;
	char *seq;		/* last acknowledged sequence number, or NULL */
	int done;		/* read to its end, acknowledged */
	int listed;		/* DescribeStream named it this run */
	int known;		/* in the state file */
	int closed;		/* has an EndingSequenceNumber */
	/* in memory only */
	char *iter;		/* shard iterator, NULL: get one */
	char *rseq;		/* last sequence number read (the batch's) */
	int ended;		/* no NextShardIterator: read to its end */
	int empty;		/* empty pages in a row */
	int idle;		/* caught up for this round */
	int busy;		/* a reader has a page of it in flight: only
				   that reader touches iter, rseq, seq, ended */
	double next_at;		/* no GetRecords before this (ddb_now()) */
	char *bfirst, *blast;	/* the batch's range of this shard */
	long bcount;
	double oldest;		/* ApproximateCreationDateTime of the oldest
				   record read and not committed, 0: none */
	double lag, maxlag;	/* its age when read: last, and most, this run */
};

struct pending {		/* a shard's range of the staged batch */
	char *id, *first, *last;
	long count;
};

struct state {
	char *dir, *arn;
	int lockfd;
	int exists;		/* a state file was there */
	struct shard *sh;
	size_t nsh, capsh;
	int legacy;		/* read from a ddb-stream-state 1 file */
	int oldbatch;		/* ... which named a batch in flight */
	int staged;		/* a batch is staged: bt, its ranges pend */
	long committed;		/* when the last batch was committed (epoch
				   seconds), 0: never */
	struct ddb_batch bt;
	struct pending *pend;
	size_t npend;
};

int state_load(struct state *st);
int state_save(struct state *st);
void state_ranges_free(struct state *st);
struct shard *state_shard(struct state *st, const char *id, int add);
int seq_cmp(const char *a, const char *b);
int shard_id_ok(const char *s);
int stream_arn_ok(const char *s);

#endif
