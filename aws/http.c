/* http.c: one HTTP exchange over libcurl, logged with secrets redacted */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "aws.h"
#include "sigv4.h"

/* the headers kept from a response, forgotten */
static void
resp_headers_free(struct resp *r)
{
	free(r->etag);
	free(r->version_id);
	free(r->request_id);
	free(r->date);
	r->etag = r->version_id = r->request_id = r->date = NULL;
}

void
resp_free(struct resp *r)
{
	free(r->body);
	resp_headers_free(r);
	memset(r, 0, sizeof *r);
}

/* headers whose values are secrets, in requests and in logs */
static int
is_secret_header(const char *line)
{
	static const char *const names[] = {
		"authorization:", "x-amz-security-token:",
		"x-aws-ec2-metadata-token:", "x-amz-sso_bearer_token:", NULL
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
		warnx("%c %.*s: [redacted]", dir, (int)(c - line), line);
	} else {
		warnx("%c %.*s", dir, (int)n, line);
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

	if (r->len + keep > AWS_RESP_MAX)
		keep = AWS_RESP_MAX - r->len;
	if (keep > 0) {
		if (r->len + keep + 1 > r->cap) {
			/* doubling: a large answer comes in many pieces, each
			 * copied once, not once per piece after it */
			size_t cap = r->cap ? r->cap : 16384;

			while (cap < r->len + keep + 1)
				cap *= 2;
			r->body = xreallocarray(r->body, cap, 1);
			r->cap = cap;
		}
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
	return xstrndup(v, (size_t)(e - v));
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
		resp_headers_free(r);
	} else if ((v = header_value(p, n, "ETag")) != NULL) {
		free(r->etag);
		r->etag = v;
	} else if ((v = header_value(p, n, "x-amz-version-id")) != NULL) {
		free(r->version_id);
		r->version_id = v;
	} else if ((v = header_value(p, n, "x-amz-request-id")) != NULL) {
		free(r->request_id);
		r->request_id = v;
	} else if ((v = header_value(p, n, "Date")) != NULL) {
		free(r->date);
		r->date = v;
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
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, AWS_LOW_SPEED);
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
		warnx("> %s %s", q->method, q->url);
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
			warnx("! %s", r->err);
		else if (r->len > 0 && !q->secret_body)
			warnx("< %.*s", r->len > 2048 ? 2048 : (int)r->len,
			    r->body);
	}
	return r->cc;
}

/*
 * What went wrong, for a message: the transfer's error, or "HTTP 403
 * AccessDenied: ..." from the <Code> and <Message> of an XML error
 */
void
aws_xml_describe(const struct resp *r, char *out, size_t n)
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

/* full jitter: a random wait in [0, min(cap, base * 2^(attempt-1))) */
void
aws_backoff(const struct http *h, int attempt, int log, const char *what,
    const char *why)
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
	if (log)
		warnx("%s: %s; retry %d/%d in %.3f s", what, why, attempt,
		    h->max_attempts - 1, d);
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}


/*
 * A client's settings before its options: 10 s to connect, a transfer
 * idle for 60 s is a stall, max_time for a request, max_attempts tries,
 * the first retry after up to 0.25 s
 */
void
aws_http_defaults(struct http *h, long max_time, int max_attempts)
{
	h->connect_timeout = 10;
	h->stall_timeout = 60;
	h->max_time = max_time;
	h->max_attempts = max_attempts;
	h->backoff = 0.25;
}

/*
 * The one retry loop of every AWS call: send, classify, and after a
 * temporary failure wait (full jitter) and send again, at most
 * h->max_attempts times; an expired credential is renewed once, free.
 */
int
aws_retry(struct http *h, struct aws_call *c, struct resp *r)
{
	int v = AWS_AGAIN, renewed = 0;

	c->why[0] = '\0';
	for (c->attempts = 1; c->attempts <= h->max_attempts; c->attempts++) {
		if ((v = c->send(c->arg, r)) != 0)
			return v;
		v = c->classify(c->arg, r, c->why, sizeof c->why);
		if (v == AWS_RENEW && c->renew && !renewed) {
			renewed = 1;
			if ((v = c->renew(c->arg)) != 0)
				return v;
			c->attempts--;
			continue;
		}
		if (v != AWS_AGAIN || c->attempts == h->max_attempts)
			break;
		aws_backoff(h, c->attempts, c->log, c->what, c->why);
	}
	return v;
}

/*
 * The headers of a POST of body to ep, signed for now with c (NULL: not
 * signed): host, x-amz-date, the caller's extra ones, c's session token,
 * Authorization, and no Expect.
 */
struct curl_slist *
aws_post_headers(const struct aws_ep *ep, const struct creds *c,
    const char *region, const char *service,
    const struct sigv4_header *extra, size_t nextra, const void *body,
    size_t len)
{
	struct sigv4_key k = { c ? c->akid : NULL, c ? c->secret : NULL,
	    region, service };
	struct sigv4_header hs[8];
	struct sigv4_request q;
	struct curl_slist *l = NULL;
	char date[17], sha[SIGV4_SHA256_HEX], *auth;
	time_t now = time(NULL);
	struct tm tm;
	size_t n = 0, i;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	sigv4_sha256_hex(body, len, sha);
	hs[n++] = (struct sigv4_header){ "host", ep->host };
	hs[n++] = (struct sigv4_header){ "x-amz-date", date };
	for (i = 0; i < nextra && n < 7; i++)
		hs[n++] = extra[i];
	if (c && c->token)
		hs[n++] = (struct sigv4_header){ "x-amz-security-token",
		    c->token };
	for (i = 0; i < n; i++)
		l = aws_header(l, hs[i].name, hs[i].value);
	if (c) {
		q.method = "POST";
		q.uri = ep->path;
		q.query = "";
		q.headers = hs;
		q.nheaders = n;
		q.payload_hash = sha;
		auth = sigv4_authorization(&q, &k, date);
		l = aws_header(l, "Authorization", auth);
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	return aws_header(l, "Expect", NULL);
}

/* a failed transfer that trying again will not mend (a URL, TLS trust) */
int
aws_transport_permanent(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_LOGIN_DENIED:
		return 1;
	default:
		return 0;
	}
}

/*
 * "name: value" appended to l, or "name:" for value NULL (no such header,
 * not even curl's own); out of memory ends the program
 */
struct curl_slist *
aws_header(struct curl_slist *l, const char *name, const char *value)
{
	char *s = value ? xasprintf("%s: %s", name, value) :
	    xasprintf("%s:", name);
	struct curl_slist *n = curl_slist_append(l, s);

	memset(s, 0, strlen(s));	/* it may be a signature or a token */
	free(s);
	if (n == NULL)
		ddb_nomem();
	return n;
}

/* url taken apart into e; -1 if it is no http or https URL */
static int
url_split(const char *url, struct aws_url *e)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *u = curl_url();
	int rc = 0;
	size_t n;

	memset(e, 0, sizeof *e);
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		rc = -1;
	} else {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		e->scheme = xstrdup(scheme);
		e->host = xstrdup(host);
		e->port = port ? xstrdup(port) : NULL;
		e->path = xstrdup(path ? path : "");
		n = strlen(e->path);
		while (n > 0 && e->path[n - 1] == '/')
			e->path[--n] = '\0';
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/*
 * An endpoint URL, http or https: its scheme, host, port (NULL: the
 * scheme's) and path without trailing slashes ("" for none).  0, or
 * DDB_EXIT_USAGE after a message.
 */
int
aws_url_parse(const char *url, struct aws_url *e)
{
	if (url_split(url, e) != 0) {
		warnx("bad endpoint URL: %s", url);
		return DDB_EXIT_USAGE;
	}
	return 0;
}

/*
 * Where a POST API's calls go: the Host header (host[:port]), the path
 * ("/" for none) and the URL made of them.  0, or DDB_EXIT_USAGE after a
 * message, which what (if not NULL) begins.
 */
int
aws_ep_parse(const char *what, const char *url, struct aws_ep *ep)
{
	struct aws_url u;

	memset(ep, 0, sizeof *ep);
	if (url_split(url, &u) != 0) {
		warnx("%s%sbad endpoint URL: %s", what ? what : "",
		    what ? ": " : "", url);
		return DDB_EXIT_USAGE;
	}
	ep->host = u.port ? xasprintf("%s:%s", u.host, u.port) :
	    xstrdup(u.host);
	ep->path = xstrdup(u.path[0] ? u.path : "/");
	ep->url = xasprintf("%s://%s%s", u.scheme, ep->host, ep->path);
	aws_url_free(&u);
	return 0;
}

void
aws_ep_free(struct aws_ep *ep)
{
	free(ep->url);
	free(ep->host);
	free(ep->path);
	memset(ep, 0, sizeof *ep);
}

void
aws_url_free(struct aws_url *e)
{
	free(e->scheme);
	free(e->host);
	free(e->port);
	free(e->path);
	memset(e, 0, sizeof *e);
}
