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

#endif
