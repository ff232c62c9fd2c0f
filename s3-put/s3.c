/* s3.c: signed S3 calls through the shared retry loop; S3's XML errors */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3put.h"
#include "sigv4.h"

#define COMPLETE_RESULT "CompleteMultipartUploadResult"

/* what an answer means: 0, AWS_AGAIN (temporary) or DDB_EXIT_REFUSED */
/* the root element of an answer's XML: "Error", "CompleteMultipartUploadResult";
 * "" if it is no XML */
static void
xml_root_of(const struct resp *r, char *out, size_t n)
{
	struct xml_doc d;

	out[0] = '\0';
	if (xml_parse(&d, r->body, r->len) == 0) {
		snprintf(out, n, "%s", xml_root(&d));
		xml_free(&d);
	}
}

static int
classify(const struct s3_call *c, const struct resp *r)
{
	char *code, root[64];
	int rc;

	if (r->cc != CURLE_OK)
		return aws_transport_permanent(r->cc) ? DDB_EXIT_REFUSED :
		    AWS_AGAIN;
	if (r->status >= 200 && r->status < 300) {
		if (!c->xml_error_in_200)
			return DDB_EXIT_OK;
		/*
		 * S3 answers 200 at once and completes the upload while it
		 * sends whitespace: only the result in the body says it did.
		 * Without one (an empty body, a connection closed after the
		 * whitespace) the upload may not be complete: Complete again
		 * (it is idempotent)
		 */
		xml_root_of(r, root, sizeof root);
		if (strcmp(root, "Error") != 0)
			return strcmp(root, COMPLETE_RESULT) == 0 ?
			    DDB_EXIT_OK : AWS_AGAIN;
		code = xml_value(r->body, "Code");
		rc = code && (strcmp(code, "InternalError") == 0 ||
		    strcmp(code, "SlowDown") == 0 ||
		    strcmp(code, "ServiceUnavailable") == 0) ?
		    AWS_AGAIN : DDB_EXIT_REFUSED;
		free(code);
		return rc;
	}
	/* 501 NotImplemented will not change by trying again */
	if ((r->status >= 500 && r->status != 501) || r->status == 429 ||
	    r->status == 408)
		return AWS_AGAIN;
	/* a clock that is off (403 RequestTimeTooSkewed) can be set right */
	code = xml_value(r->body, "Code");
	rc = code && (strcmp(code, "RequestTimeout") == 0 ||
	    strcmp(code, "SlowDown") == 0 ||
	    strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "RequestTimeTooSkewed") == 0) ?
	    AWS_AGAIN : DDB_EXIT_REFUSED;
	free(code);
	return rc;
}

/* why an answer failed: a 200 without the result it must hold, or S3's */
static void
describe(const struct s3_call *c, const struct resp *r, char *why, size_t n)
{
	char root[64] = "";

	if (c->xml_error_in_200 && r->cc == CURLE_OK)
		xml_root_of(r, root, sizeof root);
	if (c->xml_error_in_200 && r->cc == CURLE_OK && r->status >= 200 &&
	    r->status < 300 && strcmp(root, "Error") != 0)
		snprintf(why, n, "HTTP %ld without a %s in the body", r->status,
		    COMPLETE_RESULT);
	else
		aws_xml_describe(r, why, n);
}

void
s3_report(const struct s3_call *c, const struct resp *r, int attempts)
{
	char why[512];

	describe(c, r, why, sizeof why);
	if (attempts > 1)
		warnx("%s: %s (after %d attempts)", c->what, why, attempts);
	else
		warnx("%s: %s", c->what, why);
}

static int
expired_token(const struct resp *r)
{
	char *code = r->cc == CURLE_OK ? xml_value(r->body, "Code") : NULL;
	int e = code && strcmp(code, "ExpiredToken") == 0;

	free(code);
	return e;
}

/* one call as the retry loop sees it */
struct s3_try {
	struct s3 *s;
	const struct s3_call *c;
	const char *uri, *url;
	int renew_failed;	/* creds_renew said why: no report */
};

/* sign for now and send once */
static int
s3_send(void *arg, struct resp *r)
{
	struct s3_try *t = arg;
	const struct s3_call *c = t->c;
	struct s3 *s = t->s;
	struct sigv4_key k;
	struct sigv4_header hs[64];
	struct sigv4_request q;
	struct curl_slist *l = NULL;
	struct hreq hr;
	time_t now = time(NULL);
	struct tm tm;
	size_t n = 0, first_extra, i;
	int has_ct = 0;
	char date[17], *auth;
	int rc;

	/* credentials that expire: renewed shortly before */
	if ((rc = creds_renew(s->h, s->c, 0)) != 0) {
		t->renew_failed = 1;
		return rc;
	}
	now = time(NULL);
	k = (struct sigv4_key){ s->c->akid, s->c->secret, s->region, "s3" };
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	hs[n++] = (struct sigv4_header){ "host", s->host };
	hs[n++] = (struct sigv4_header){ "x-amz-date", date };
	hs[n++] = (struct sigv4_header){ "x-amz-content-sha256", c->sha256 };
	if (s->c->token)
		hs[n++] = (struct sigv4_header){ "x-amz-security-token",
		    s->c->token };
	if (c->md5)
		hs[n++] = (struct sigv4_header){ "content-md5", c->md5 };
	first_extra = n;
	for (i = 0; i < c->nheaders && n < sizeof hs / sizeof hs[0]; i++) {
		const char *colon = strchr(c->headers[i], ':');

		hs[n].name = xstrndup(c->headers[i],
		    (size_t)(colon - c->headers[i]));
		if (strcasecmp(hs[n].name, "content-type") == 0)
			has_ct = 1;
		hs[n++].value = colon + 1;
	}
	q.method = c->method;
	q.uri = t->uri;
	q.query = c->query;
	q.headers = hs;
	q.nheaders = n;
	q.payload_hash = c->sha256;
	auth = sigv4_authorization(&q, &k, date);
	for (i = 0; i < n; i++)
		l = aws_header(l, hs[i].name, hs[i].value);
	l = aws_header(l, "Authorization", auth);
	/* no 100-continue round trip; no curl-made Content-Type */
	l = aws_header(l, "Expect", NULL);
	if (strcmp(c->method, "POST") == 0 && !has_ct)
		l = aws_header(l, "Content-Type", NULL);
	for (i = first_extra; i < n; i++)
		free((char *)hs[i].name);
	memset(auth, 0, strlen(auth));
	free(auth);

	hr = (struct hreq){ c->method, t->url, l, c->body, c->len, 0, 0, 0 };
	http_do(s->h, &hr, r);
	curl_slist_free_all(l);
	return 0;
}

static int
s3_classify(void *arg, const struct resp *r, char *why, size_t n)
{
	const struct s3_try *t = arg;
	int v = classify(t->c, r);

	/* renewed too late (a clock off): once more, renewed */
	if (v == DDB_EXIT_REFUSED && t->s->c->expires != 0 && expired_token(r))
		v = AWS_RENEW;
	if (v != DDB_EXIT_OK)
		describe(t->c, r, why, n);
	return v;
}

static int
s3_renew(void *arg)
{
	struct s3_try *t = arg;
	int rc = creds_renew(t->s->h, t->s->c, 1);

	t->renew_failed = rc != 0;
	return rc;
}

/*
 * A signed S3 call, retried on throttling, 5xx and network errors.
 * Returns 0, DDB_EXIT_REFUSED or DDB_EXIT_TEMPFAIL; r holds the last response.
 */
int
s3_do(struct s3 *s, const struct s3_call *c, struct resp *r)
{
	struct s3_try t = { s, c, NULL, NULL, 0 };
	struct aws_call ac = { s3_send, s3_classify, s3_renew, &t, c->what,
	    s->h->verbose, 0, "" };
	char *uri, *url;
	int rc;

	/* a bucket's own resource: "/bucket" path-style, "/" virtual */
	uri = c->key[0] ? xasprintf("%s/%s", s->prefix, c->key) :
	    xasprintf("%s", s->prefix[0] ? s->prefix : "/");
	url = xasprintf("%s%s%s%s", s->base, uri, c->query[0] ? "?" : "",
	    c->query);
	t.uri = uri;
	t.url = url;
	rc = aws_retry(s->h, &ac, r);
	if (rc == AWS_AGAIN)
		rc = DDB_EXIT_TEMPFAIL;
	else if (rc == AWS_RENEW)	/* expired again after a renewal */
		rc = DDB_EXIT_REFUSED;
	if (rc != DDB_EXIT_OK && !c->quiet && !t.renew_failed)
		s3_report(c, r, ac.attempts);
	free(uri);
	free(url);
	return rc;
}
