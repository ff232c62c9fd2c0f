/* awsjson.c: signed AWS JSON 1.0 calls to DynamoDB Streams, retried */
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "awsjson.h"
#include "sigv4.h"

static const char *const target_prefix[2] = {
	"DynamoDBStreams_20120810", "DynamoDB_20120810"
};

static int
read_creds(struct aj *c)
{
	struct creds fresh;
	int rc;

	rc = creds_find(&c->http, c->profile, c->explicit_profile, &fresh);
	if (rc != 0)
		return rc == DDB_EXIT_TEMPFAIL ? DDB_EXIT_TEMPFAIL :
		    rc == DDB_EXIT_IO ? DDB_EXIT_IO : DDB_EXIT_REFUSED;
	creds_free(&c->creds);
	c->creds = fresh;
	c->creds_at = time(NULL);
	return 0;
}

static int
renew(struct aj *c, int force)
{
	int rc = creds_renew(&c->http, &c->creds, force);

	if (rc != 0)
		return rc == DDB_EXIT_TEMPFAIL ? DDB_EXIT_TEMPFAIL :
		    rc == DDB_EXIT_IO ? DDB_EXIT_IO : DDB_EXIT_REFUSED;
	return 0;
}

static int
aj_open(struct aj *c, const char *endpoint, const char *profile,
    int explicit_profile, const char *region)
{
	static const char *const ids[2] = { "dynamodb_streams", "dynamodb" };
	static const char *const names[2] = { "streams.dynamodb", "dynamodb" };
	char *ep;
	int svc, rc = 0;

	c->profile = profile;
	c->explicit_profile = explicit_profile;
	c->region = aws_region(region, profile);
	for (svc = 0; svc < 2 && rc == 0; svc++) {
		if ((ep = aws_endpoint(endpoint, ids[svc], profile)) == NULL)
			ep = xasprintf("https://%s.%s.amazonaws.com",
			    names[svc], c->region);
		rc = aws_ep_parse(NULL, ep, &c->ep[svc]);
		free(ep);
	}
	if (rc == 0)
		rc = read_creds(c);
	if (rc == 0 && c->verbose)
		warnx("credentials from %s; region %s; streams endpoint %s",
		    c->creds.source, c->region, c->ep[AJ_STREAMS].url);
	return rc;
}

void
aj_opts_init(struct aj_opts *o)
{
	memset(o, 0, sizeof *o);
	aws_http_defaults(&o->http, 120, 10);
}

int
aj_opt(struct aj_opts *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case 'u': o->endpoint = arg; return 0;
	case 'p': o->profile = arg; return 0;
	case 'r': o->region = arg; return 0;
	case 'a':
		if (ddb_long_opt(arg, 1, 100, "max attempts", &v) != 0)
			return -1;
		o->http.max_attempts = (int)v;
		return 0;
	case 'g':
		return ddb_double_opt(arg, 0, 60, "backoff", &o->http.backoff);
	case 'v': o->verbose = 1; return 0;	/* never http.verbose: bodies hold items */
	}
	return -1;
}

int
aj_start(struct aj *c, const struct aj_opts *o, int verbose)
{
	const char *profile;
	int how;

	c->http = o->http;
	c->verbose = verbose;
	if ((c->http.curl = curl_easy_init()) == NULL) {
		warnx("cannot initialise libcurl");
		return DDB_EXIT_IO;
	}
	profile = aws_profile(o->profile, &how);
	return aj_open(c, o->endpoint, profile, how, o->region);
}

void
aj_close(struct aj *c)
{
	int i;

	curl_easy_cleanup(c->http.curl);
	c->http.curl = NULL;
	creds_free(&c->creds);
	free(c->region);
	for (i = 0; i < 2; i++)
		aws_ep_free(&c->ep[i]);
}

static void
copy_str(char *dst, size_t n, const struct jv *v)
{
	size_t k;

	if (n == 0)
		return;
	dst[0] = '\0';
	if (v == NULL || v->type != JV_STRING)
		return;
	k = v->n < n - 1 ? v->n : n - 1;
	memcpy(dst, v->u.s, k);
	dst[k] = '\0';
}

static int
type_is(const char *t, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(t, *names) == 0)
			return 1;
	return 0;
}

/*
 * What an answer of DynamoDB or its Streams means, for the shared request
 * loop of aws/ (which takes it as its parameter, as it takes S3's XML
 * one): 0, AWS_AGAIN (throttling, 5xx, network), AWS_RENEW (the
 * credentials expired), an event (awsjson.h), or REFUSED (for good:
 * access, signature, no resource).  type gets the error's short name
 * (after the '#' of __type), msg its message.
 */
enum { REFUSED = -5 };	/* apart from aws.h's and awsjson.h's events */
static int
classify(long status, int transport_ok, int transport_permanent,
    const char *body, size_t len, char *type, size_t typesz, char *msg,
    size_t msgsz)
{
	static const char *const temp[] = {
		"LimitExceededException", "ThrottlingException",
		"ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"TooManyRequestsException", "InternalServerError",
		"InternalFailure", "ServiceUnavailable",
		"ServiceUnavailableException", "RequestTimeout", NULL
	};
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	struct jv v, *t, *m;
	size_t off;
	char *h;

	type[0] = msg[0] = '\0';
	if (!transport_ok)
		return transport_permanent ? REFUSED : AWS_AGAIN;
	if (body && len > 0 && ddb_json_parse(&a, &st, body, len, 16, &v,
	    &off) == 0 && v.type == JV_OBJECT) {
		t = jv_get(&v, "__type");
		if ((m = jv_get(&v, "message")) == NULL)
			m = jv_get(&v, "Message");
		copy_str(type, typesz, t);
		copy_str(msg, msgsz, m);
	} else if (status >= 200 && status < 300) {
		/* a 200 that is no JSON object: cut off on the way */
		snprintf(type, typesz, "%s", "malformed answer");
		status = 500;
	}
	ddb_arena_free(&a);
	ddb_json_stack_free(&st);
	if ((h = strrchr(type, '#')) != NULL)
		memmove(type, h + 1, strlen(h + 1) + 1);
	if (status >= 200 && status < 300)
		return 0;
	if (strcmp(type, "ExpiredIteratorException") == 0)
		return AJ_EXPIRED_ITERATOR;
	if (strcmp(type, "TrimmedDataAccessException") == 0)
		return AJ_TRIMMED;
	if (strcmp(type, "ExpiredTokenException") == 0 ||
	    strcmp(type, "ExpiredToken") == 0)
		return AWS_RENEW;
	if (type_is(type, temp))
		return AWS_AGAIN;
	if ((status >= 500 && status != 501) || status == 429 || status == 408)
		return AWS_AGAIN;
	return REFUSED;
}

/* one call as the retry loop sees it */
struct aj_try {
	struct aj *c;
	int svc;
	const char *target, *body;
	size_t n;
	struct ddb_arena *a;	/* a 2xx answer parsed into a, to out */
	struct ddb_json_stack *st;
	struct jv *out;
};

/* one signed exchange, with credentials read again when they are due */
static int
send_once(void *arg, struct resp *r)
{
	const struct aj_try *t = arg;
	struct aj *c = t->c;
	struct sigv4_header hs[2] = {
		{ "x-amz-target", t->target },
		{ "content-type", "application/x-amz-json-1.0" }
	};
	struct curl_slist *l;
	struct hreq hr = { 0 };
	int rc;

	/* credentials that expire: renewed shortly before */
	if ((rc = renew(c, 0)) != 0)
		return rc;
	l = aws_post_headers(&c->ep[t->svc], &c->creds, c->region, "dynamodb",
	    hs, 2, t->body, t->n);
	hr.method = "POST";
	hr.url = c->ep[t->svc].url;
	hr.headers = l;
	hr.body = t->body;
	hr.len = t->n;
	http_do(&c->http, &hr, r);
	curl_slist_free_all(l);
	c->calls++;
	return 0;
}

/*
 * classify() for the retry loop, with why for the log.  A 2xx answer that
 * is a JSON object is parsed once, here, into the caller's out: classify()
 * would parse it only to find it is one.
 */
static int
classify_once(void *arg, const struct resp *r, char *why, size_t n)
{
	const struct aj_try *t = arg;
	char type[128], msg[256];
	size_t off;
	int kind;

	if (r->cc == CURLE_OK && r->status >= 200 && r->status < 300 &&
	    r->body && ddb_json_parse(t->a, t->st, r->body, r->len,
	    DDB_READ_DEPTH, t->out, &off) == 0 && t->out->type == JV_OBJECT) {
		snprintf(why, n, "HTTP %ld", r->status);
		return 0;
	}
	kind = classify(r->status, r->cc == CURLE_OK,
	    aws_transport_permanent(r->cc), r->body, r->len, type,
	    sizeof type, msg, sizeof msg);
	if (r->cc != CURLE_OK)
		snprintf(why, n, "%s", r->err);
	else
		snprintf(why, n, "HTTP %ld%s%s%s%s", r->status,
		    *type ? " " : "", type, *msg ? ": " : "", msg);
	return kind;
}

static int
renew_cb(void *arg)
{
	return renew(((const struct aj_try *)arg)->c, 1);
}

int
aj_call(struct aj *c, int svc, const char *op, const char *body, size_t n,
    int events, struct ddb_arena *a, struct jv *out)
{
	char target[96];
	struct ddb_json_stack st = { 0 };
	struct aj_try t = { c, svc, target, body, n, a, &st, out };
	struct aws_call ac = { send_once, classify_once, renew_cb, &t, op,
	    c->verbose, 0, "" };
	struct resp r = { 0 };
	int kind, rc;

	snprintf(target, sizeof target, "%s.%s", target_prefix[svc], op);
	kind = aws_retry(&c->http, &ac, &r);
	c->date = r.date ? curl_getdate(r.date, NULL) : 0;
	if (c->date < 0)
		c->date = 0;
	switch (kind) {
	case 0:			/* parsed by classify_once */
		rc = 0;
		break;
	case AWS_AGAIN:
		warnx("%s: %s (after %d attempts)", op, ac.why,
		    c->http.max_attempts);
		rc = DDB_EXIT_TEMPFAIL;
		break;
	case AJ_EXPIRED_ITERATOR:
	case AJ_TRIMMED:
		if (events) {
			rc = kind;
			break;
		}
		/* FALLTHROUGH */
	case REFUSED:
	case AWS_RENEW:		/* expired again, just after a renewal */
		warnx("%s: %s", op, ac.why);
		rc = DDB_EXIT_REFUSED;
		break;
	default:		/* credentials could not be read: said */
		rc = kind;
		break;
	}
	ddb_json_stack_free(&st);
	resp_free(&r);
	return rc;
}
