/* http.c: one HTTP exchange over libcurl, and signed S3 calls with retries */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "s3put.h"
#include "sigv4.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fputs("s3-put: out of memory\n", stderr);
		exit(DDB_EXIT_IO);
	}
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("s3-put: out of memory\n", stderr);
		exit(DDB_EXIT_IO);
	}
	return s;
}

void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->etag);
	free(r->version_id);
	free(r->request_id);
	memset(r, 0, sizeof *r);
}

/* headers whose values are secrets, in requests and in logs */
static int
is_secret_header(const char *line)
{
	static const char *const names[] = {
		"authorization:", "x-amz-security-token:",
		"x-aws-ec2-metadata-token:", NULL
	};
	size_t i;

	for (i = 0; names[i]; i++)
		if (strncasecmp(line, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

static void
log_header(char dir, const char *line, size_t n)
{
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n == 0 || line[n - 1] == ':')	/* empty, or a header unset */
		return;
	if (is_secret_header(line)) {
		const char *c = memchr(line, ':', n);
		fprintf(stderr, "s3-put: %c %.*s: [redacted]\n", dir,
		    (int)(c - line), line);
	} else {
		fprintf(stderr, "s3-put: %c %.*s\n", dir, (int)n, line);
	}
}

struct xfer {
	struct http *h;
	struct resp *r;
	const char *src;
	size_t srclen, off;
};

static size_t
read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n > x->srclen - x->off)
		n = x->srclen - x->off;
	memcpy(out, x->src + x->off, n);
	x->off += n;
	return n;
}

static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->srclen)
		return CURL_SEEKFUNC_CANTSEEK;
	x->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct resp *r = x->r;
	size_t n = size * nmemb, keep = n;

	if (r->len + keep > S3_RESP_MAX)
		keep = S3_RESP_MAX - r->len;
	if (keep > 0) {
		char *b = realloc(r->body, r->len + keep + 1);
		if (b == NULL)
			return 0;
		r->body = b;
		memcpy(r->body + r->len, p, keep);
		r->len += keep;
		r->body[r->len] = '\0';
	}
	return n;
}

static char *
header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	const char *v, *e;

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return NULL;
	v = line + k + 1;
	e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	return strndup(v, (size_t)(e - v));
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct resp *r = x->r;
	size_t n = size * nmemb;
	char *v;

	if (x->h->verbose)
		log_header('<', p, n);
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last */
		free(r->etag);
		free(r->version_id);
		free(r->request_id);
		r->etag = r->version_id = r->request_id = NULL;
	} else if ((v = header_value(p, n, "ETag")) != NULL) {
		free(r->etag);
		r->etag = v;
	} else if ((v = header_value(p, n, "x-amz-version-id")) != NULL) {
		free(r->version_id);
		r->version_id = v;
	} else if ((v = header_value(p, n, "x-amz-request-id")) != NULL) {
		free(r->request_id);
		r->request_id = v;
	}
	return n;
}

/* one exchange; the caller frees r */
CURLcode
http_do(struct http *h, const struct hreq *q, struct resp *r)
{
	struct xfer x = { h, r, q->body, q->len, 0 };
	struct curl_slist *l;
	CURL *c = h->curl;

	resp_free(r);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->headers);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, q->connect_timeout > 0 ?
	    q->connect_timeout : h->connect_timeout);
	if (q->max_time > 0 || h->max_time > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, q->max_time > 0 ?
		    q->max_time : h->max_time);
	/* a stall, or a trickle of a byte now and then, ends the try */
	if (h->stall_timeout > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, S3_LOW_SPEED);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->stall_timeout);
	}
	if (h->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
	if (h->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(q->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)q->len);
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)q->len);
	} else if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	}
	if (h->verbose) {
		fprintf(stderr, "s3-put: > %s %s\n", q->method, q->url);
		for (l = q->headers; l; l = l->next)
			log_header('>', l->data, strlen(l->data));
	}
	r->cc = curl_easy_perform(c);
	if (r->cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else if (r->err[0] == '\0')
		snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(r->cc));
	if (h->verbose) {
		if (r->cc != CURLE_OK)
			fprintf(stderr, "s3-put: ! %s\n", r->err);
		else if (r->len > 0 && !q->secret_body)
			fprintf(stderr, "s3-put: < %.*s\n",
			    r->len > 2048 ? 2048 : (int)r->len, r->body);
	}
	return r->cc;
}

/* the text of the first <tag>...</tag>, entities of ETags undone */
char *
xml_value(const char *xml, const char *tag)
{
	char open[64], close[64], *v, *d;
	const char *b, *e, *s;

	if (xml == NULL)
		return NULL;
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if ((b = strstr(xml, open)) == NULL)
		return NULL;
	b += strlen(open);
	if ((e = strstr(b, close)) == NULL)
		return NULL;
	v = d = xmalloc((size_t)(e - b) + 1);
	for (s = b; s < e; s++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&quot;", '"' }, { "&amp;", '&' }, { "&lt;", '<' },
			{ "&gt;", '>' }, { "&apos;", '\'' }, { "&#34;", '"' }
		};
		size_t i;

		for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
			if (strncmp(s, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < sizeof ents / sizeof ents[0]) {
			*d++ = ents[i].c;
			s += strlen(ents[i].ent) - 1;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
	return v;
}

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

/* full jitter: a random wait in [0, min(cap, base * 2^(attempt-1))) */
static void
backoff(const struct http *h, int attempt, const char *what, const char *why)
{
	double cap = 20, d = h->backoff;
	uint32_t u = 0;
	struct timespec ts;
	int i;

	for (i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (getrandom(&u, sizeof u, 0) != (ssize_t)sizeof u)
		u = (uint32_t)rand();
	d *= (double)u / 4294967296.0;
	if (h->verbose)
		fprintf(stderr, "s3-put: %s: %s; retry %d/%d in %.3f s\n",
		    what, why, attempt, h->max_attempts - 1, d);
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
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
	int attempt, rc = DDB_EXIT_TEMPFAIL;
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
		if (rc != DDB_EXIT_TEMPFAIL || attempt == s->h->max_attempts)
			break;
		{
			char why[512];
			s3_describe(r, why, sizeof why);
			backoff(s->h, attempt, c->what, why);
		}
	}
	if (rc != DDB_EXIT_OK && !c->quiet)
		s3_report(c, r, attempt > s->h->max_attempts ?
		    s->h->max_attempts : attempt);
	free(uri);
	free(url);
	return rc;
}
