/* stream.h: what ddb-stream's files share */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <time.h>

#include "ddb.h"
#include "../s3-put/s3put.h"

/*
 * awsjson.c: AWS JSON 1.0 calls to DynamoDB and DynamoDB Streams, signed,
 * retried.  The signer, the credential chain and the HTTP exchange are
 * s3-put's today (sigv4.o creds.o http.o) and move to aws/ (issue 10):
 * only this file knows them.
 */
enum { AJ_STREAMS, AJ_DYNAMODB };

/* what an answer means (aj_classify): the service-specific classifier */
enum {
	AJ_OK,
	AJ_TEMP = 100,		/* throttling, 5xx, network (100: apart from
				   every DDB_EXIT_* status): back off */
	AJ_EXPIRED_ITERATOR,	/* a fresh iterator from the checkpoint */
	AJ_TRIMMED,		/* TrimmedDataAccessException: records gone */
	AJ_RENEW,		/* ExpiredTokenException: re-read credentials */
	AJ_REFUSED		/* for good: access, signature, no resource */
};

struct aj {
	struct http http;
	struct creds creds;
	time_t creds_at;	/* when the chain was last read */
	const char *profile;
	int explicit_profile;	/* 1 option, 2 AWS_PROFILE, 0 none */
	char *region;
	char *url[2], *host[2], *path[2];	/* per AJ_STREAMS, AJ_DYNAMODB */
	int verbose;
	long calls;		/* requests sent, for the log */
};

int aj_open(struct aj *c, const char *endpoint, const char *profile,
    int explicit_profile, const char *region);
void aj_close(struct aj *c);
int aj_classify(long status, int transport_ok, int transport_permanent,
    const char *body, size_t len, char *type, size_t typesz, char *msg,
    size_t msgsz);
/*
 * One operation ("GetRecords"); *out is the answer, parsed into a.
 * Returns AJ_OK, AJ_EXPIRED_ITERATOR or AJ_TRIMMED (the caller acts), or
 * a DDB_EXIT_* status (75 temporary, 4 refused) after saying why.
 */
int aj_call(struct aj *c, int service, const char *op, const char *body,
    size_t n, struct ddb_arena *a, struct jv *out);

/* state.c: the state directory (lock, positions, the pending batch) */
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
	char *bfirst, *blast;	/* the batch's range of this shard */
	long bcount;
};

struct pending {		/* a batch handed on, not yet acknowledged */
	char *id, *first, *last;
	long count;
};

struct state {
	char *dir, *arn;
	int lockfd;
	int exists;		/* a state file was there */
	struct shard *sh;
	size_t nsh, capsh;
	struct pending *pend;
	size_t npend;
};

int state_lock(struct state *st, const char *dir);
int state_load(struct state *st);
int state_save(struct state *st, const struct pending *p, size_t np);
struct shard *state_shard(struct state *st, const char *id, int add);
int seq_cmp(const char *a, const char *b);
int seq_ok(const char *s, size_t n);

#endif
