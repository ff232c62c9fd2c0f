/* s3.c: signed S3 calls, retried by the shared loop; S3's XML errors */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3put.h"
#include "sigv4.h"

/* what a failed attempt means: retry (DDB_EXIT_TEMPFAIL) or give up */
static int
classify(const struct s3_call *c, const struct resp *r)
{
	char *code;
	int rc;

	switch (r->cc) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_LOGIN_DENIED:
		return DDB_EXIT_REFUSED;
	default:
		return DDB_EXIT_TEMPFAIL;
	}
	if (r->status >= 200 && r->status < 300) {
		if (!c->xml_error_in_200 || r->body == NULL ||
		    strstr(r->body, "<Error>") == NULL)
			return DDB_EXIT_OK;
		code = xml_value(r->body, "Code");
		rc = code && (strcmp(code, "InternalError") == 0 ||
		    strcmp(code, "SlowDown") == 0 ||
		    strcmp(code, "ServiceUnavailable") == 0) ?
		    DDB_EXIT_TEMPFAIL : DDB_EXIT_REFUSED;
		free(code);
		return rc;
	}
	/* 501 NotImplemented will not change by trying again */
	if ((r->status >= 500 && r->status != 501) || r->status == 429 ||
	    r->status == 408)
		return DDB_EXIT_TEMPFAIL;
	/* a clock that is off (403 RequestTimeTooSkewed) can be set right */
	code = xml_value(r->body, "Code");
	rc = code && (strcmp(code, "RequestTimeout") == 0 ||
	    strcmp(code, "SlowDown") == 0 ||
	    strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "RequestTimeTooSkewed") == 0) ?
	    DDB_EXIT_TEMPFAIL : DDB_EXIT_REFUSED;
	free(code);
	return rc;
}

void
s3_describe(const struct resp *r, char *out, size_t n)
{
	char *code, *msg;

	if (r->cc != CURLE_OK) {
		snprintf(out, n, "%s", r->err);
		return;
	}
	code = xml_value(r->body, "Code");
	msg = xml_value(r->body, "Message");
	snprintf(out, n, "HTTP %ld%s%s%s%s", r->status, code ? " " : "",
	    code ? code : "", msg ? ": " : "", msg ? msg : "");
	free(code);
	free(msg);
}

void
s3_report(const struct s3_call *c, const struct resp *r, int attempts)
{
	char why[512];

	s3_describe(r, why, sizeof why);
	if (attempts > 1)
		fprintf(stderr, "s3-put: %s: %s (after %d attempts)\n",
		    c->what, why, attempts);
	else
		fprintf(stderr, "s3-put: %s: %s\n", c->what, why);
}

static void
add_header(struct curl_slist **l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
add_header(struct curl_slist **l, const char *fmt, ...)
{
	struct curl_slist *n;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL || (n = curl_slist_append(*l, s)) == NULL) {
		fputs("s3-put: out of memory\n", stderr);
		exit(DDB_EXIT_IO);
	}
	free(s);
	*l = n;
}

static int
expired_token(const struct resp *r)
{
	char *code = r->cc == CURLE_OK ? xml_value(r->body, "Code") : NULL;
	int e = code && strcmp(code, "ExpiredToken") == 0;

	free(code);
	return e;
}

/*
 * A signed S3 call, retried on throttling, 5xx and network errors.
 * Returns 0, DDB_EXIT_REFUSED or DDB_EXIT_TEMPFAIL; r holds the last response.
 */
int
s3_do(struct s3 *s, const struct s3_call *c, struct resp *r)
{
	struct sigv4_key k = { s->c->akid, s->c->secret, s->region, "s3" };
	struct sigv4_header hs[64];
	char date[17], *uri, *url;
	int attempt, rc = DDB_EXIT_TEMPFAIL, renew_failed = 0, forced = 0;
	size_t i;

	/* a bucket's own resource: "/bucket" path-style, "/" virtual */
	uri = c->key[0] ? xasprintf("%s/%s", s->prefix, c->key) :
	    xasprintf("%s", s->prefix[0] ? s->prefix : "/");
	url = xasprintf("%s%s%s%s", s->base, uri, c->query[0] ? "?" : "",
	    c->query);
	for (attempt = 1; attempt <= s->h->max_attempts; attempt++) {
		struct sigv4_request q;
		struct curl_slist *l = NULL;
		struct hreq hr;
		time_t now = time(NULL);
		struct tm tm;
		size_t n = 0, first_extra;
		int has_ct = 0;
		char *auth;

		/* credentials that expire: renewed shortly before */
		if ((rc = creds_renew(s->h, s->c, 0)) != 0) {
			renew_failed = 1;
			break;
		}
		now = time(NULL);
		k.access_key_id = s->c->akid;
		k.secret_access_key = s->c->secret;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
		hs[n++] = (struct sigv4_header){ "host", s->host };
		hs[n++] = (struct sigv4_header){ "x-amz-date", date };
		hs[n++] = (struct sigv4_header){ "x-amz-content-sha256",
		    c->sha256 };
		if (s->c->token)
			hs[n++] = (struct sigv4_header){
			    "x-amz-security-token", s->c->token };
		if (c->md5)
			hs[n++] = (struct sigv4_header){ "content-md5", c->md5 };
		first_extra = n;
		for (i = 0; i < c->nheaders && n < sizeof hs / sizeof hs[0];
		    i++) {
			const char *colon = strchr(c->headers[i], ':');
			hs[n].name = strndup(c->headers[i],
			    (size_t)(colon - c->headers[i]));
			if (hs[n].name == NULL)
				exit(DDB_EXIT_IO);
			if (strcasecmp(hs[n].name, "content-type") == 0)
				has_ct = 1;
			hs[n++].value = colon + 1;
		}
		q.method = c->method;
		q.uri = uri;
		q.query = c->query;
		q.headers = hs;
		q.nheaders = n;
		q.payload_hash = c->sha256;
		auth = sigv4_authorization(&q, &k, date);
		for (i = 0; i < n; i++)
			add_header(&l, "%s: %s", hs[i].name, hs[i].value);
		add_header(&l, "Authorization: %s", auth);
		/* no 100-continue round trip; no curl-made Content-Type */
		add_header(&l, "Expect:");
		if (strcmp(c->method, "POST") == 0 && !has_ct)
			add_header(&l, "Content-Type:");
		for (i = first_extra; i < n; i++)
			free((char *)hs[i].name);
		memset(auth, 0, strlen(auth));
		free(auth);

		hr = (struct hreq){ c->method, url, l, c->body, c->len, 0, 0, 0 };
		http_do(s->h, &hr, r);
		curl_slist_free_all(l);
		rc = classify(c, r);
		if (rc == DDB_EXIT_REFUSED && !forced && s->c->expires != 0 &&
		    expired_token(r)) {
			/* renewed too late (a clock off): once more, renewed */
			forced = 1;
			if ((rc = creds_renew(s->h, s->c, 1)) != 0) {
				renew_failed = 1;
				break;
			}
			attempt--;
			continue;
		}
		if (rc != DDB_EXIT_TEMPFAIL || attempt == s->h->max_attempts)
			break;
		{
			char why[512];
			s3_describe(r, why, sizeof why);
			aws_backoff(s->h, attempt, s->h->verbose, c->what, why);
		}
	}
	if (rc != DDB_EXIT_OK && !c->quiet && !renew_failed)
		s3_report(c, r, attempt > s->h->max_attempts ?
		    s->h->max_attempts : attempt);
	free(uri);
	free(url);
	return rc;
}
