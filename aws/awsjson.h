/*
 * awsjson.h: AWS JSON 1.0 calls to DynamoDB and DynamoDB Streams, signed
 * and retried; the client ddb-stream and ddb-scan share
 */
#ifndef AWSJSON_H
#define AWSJSON_H

#include <stddef.h>
#include <time.h>

#include "ddb.h"
#include "aws.h"

enum { AJ_STREAMS, AJ_DYNAMODB };

/*
 * Events: answers of GetRecords and GetShardIterator that are no failure
 * but ask the caller to act.  aj_call returns them only to a caller that
 * takes them; negative, as aws.h's retry events, so apart from 0 and
 * every DDB_EXIT_* status.
 */
enum {
	AJ_EXPIRED_ITERATOR = -3,	/* a fresh iterator from the checkpoint */
	AJ_TRIMMED = -4		/* TrimmedDataAccessException: records gone */
};

struct aj {
	struct http http;
	struct creds creds;
	time_t creds_at;	/* when the chain was last read */
	const char *profile;
	int explicit_profile;	/* 1 option, 2 AWS_PROFILE, 0 none */
	char *region;
	struct aws_ep ep[2];	/* per AJ_STREAMS, AJ_DYNAMODB */
	int verbose;
	long calls;		/* requests sent, for the log */
	time_t date;		/* the last answer's Date (the server's clock,
				   to the second), 0 if it had none */
};

/*
 * The options every JSON 1.0 client takes, with the same letters and
 * words: AJ_OPTS in its getopt string, AJ_LONGOPTS in its table
 * (<getopt.h>), and aj_opt() for each of their letters
 */
#define AJ_OPTS "u:p:r:a:g:v"
#define AJ_LONGOPTS \
	{ "endpoint-url", required_argument, NULL, 'u' }, \
	{ "profile", required_argument, NULL, 'p' }, \
	{ "region", required_argument, NULL, 'r' }, \
	{ "max-attempts", required_argument, NULL, 'a' }, \
	{ "backoff", required_argument, NULL, 'g' }, \
	{ "verbose", no_argument, NULL, 'v' }
struct aj_opts {
	struct http http;	/* the settings of every client (-a, -g) */
	const char *endpoint, *profile, *region;	/* NULL: not given */
	int verbose;		/* -v: the tool's log, never http.verbose */
};
void aj_opts_init(struct aj_opts *o);
/* option c with arg into o: 0, or -1 (not one of AJ_OPTS, or a bad value:
 * said), for the tool's usage() */
int aj_opt(struct aj_opts *o, int c, const char *arg);
/* a client by o: its own libcurl handle, settings, credentials; verbose:
 * say where it goes and retries.  0 or a DDB_EXIT_* status (said) */
int aj_start(struct aj *c, const struct aj_opts *o, int verbose);
/* what aj_start() took, the libcurl handle too */
void aj_close(struct aj *c);
/*
 * One operation ("GetRecords"); *out is the answer, parsed into a.
 * Returns 0, or a DDB_EXIT_* status (75 temporary, 4 refused, 3 local)
 * after saying why.  events nonzero: the caller takes the events, and an
 * answer that is one returns AJ_EXPIRED_ITERATOR or AJ_TRIMMED, nothing
 * said; events 0: such an answer is refused as any other (said, 4).
 */
int aj_call(struct aj *c, int service, const char *op, const char *body,
    size_t n, int events, struct ddb_arena *a, struct jv *out);

#endif
