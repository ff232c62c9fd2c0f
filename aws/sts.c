/* sts.c: AWS STS AssumeRole and AssumeRoleWithWebIdentity over the Query
 * API (form-encoded POST, XML answers) */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credsrc.h"
#include "sigv4.h"

#define STS_TOKEN_MAX 65536	/* a web identity token, at most */

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or the regional endpoint */
static int
sts_endpoint(const char *region, struct aws_ep *e)
{
	const char *v = env("AWS_ENDPOINT_URL_STS");
	char *def = NULL;
	int rc;

	if (v == NULL)
		v = env("AWS_ENDPOINT_URL");
	if (v == NULL)
		v = def = xasprintf("https://sts.%s.amazonaws.com", region);
	rc = aws_ep_parse("STS", v, e);
	free(def);
	return rc;
}

static void
form_add(char **body, const char *key, const char *val)
{
	char *enc = sigv4_encode(val, strlen(val), 0), *n;

	n = xasprintf("%s&%s=%s", *body, key, enc);
	free(enc);
	memset(*body, 0, strlen(*body));
	free(*body);
	*body = n;
}

static int
temporary(const struct resp *r)
{
	char *code;
	int t;

	switch (r->cc) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return 0;
	default:
		return 1;
	}
	if ((r->status >= 500 && r->status != 501) || r->status == 429)
		return 1;
	code = xml_value(r->body, "Code");
	t = code && (strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "IDPCommunicationError") == 0);
	free(code);
	return t;
}

static void
pause_before(const struct http *h, int attempt)
{
	double d = h->backoff > 0 ? h->backoff : 0.1;
	struct timespec ts;
	int i;

	for (i = 1; i < attempt && d < 20; i++)
		d *= 2;
	if (d > 20)
		d = 20;
	d *= (double)(rand() % 1000 + 1) / 1000.0;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * One STS action, retried on throttling, 5xx and network errors; signed
 * with src unless it is NULL.  0 with out filled, or an exit status after
 * a one-line message naming what: "profile P: assume role ARN".
 */
static int
sts_call(struct http *h, const char *region, const struct creds *src,
    const char *body, const char *action, const char *what,
    const char *source, struct creds *out)
{
	struct sigv4_key k = { NULL, NULL, region, "sts" };
	struct resp r = { 0 };
	struct aws_ep e = { 0 };
	char why[512], tag[64];
	int attempt, rc = DDB_EXIT_TEMPFAIL;

	if (sts_endpoint(region, &e) != 0)
		return DDB_EXIT_REFUSED;
	for (attempt = 1; attempt <= h->max_attempts; attempt++) {
		struct sigv4_header hs[5];
		struct sigv4_request q;
		struct curl_slist *l = NULL;
		struct hreq hr = { 0 };
		char date[17], sha[SIGV4_SHA256_HEX], *line;
		time_t now = time(NULL);
		struct tm tm;
		size_t n = 0, i;

		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
		sigv4_sha256_hex(body, strlen(body), sha);
		hs[n++] = (struct sigv4_header){ "host", e.host };
		hs[n++] = (struct sigv4_header){ "x-amz-date", date };
		hs[n++] = (struct sigv4_header){ "content-type",
		    "application/x-www-form-urlencoded; charset=utf-8" };
		if (src && src->token)
			hs[n++] = (struct sigv4_header){
			    "x-amz-security-token", src->token };
		for (i = 0; i < n; i++) {
			line = xasprintf("%s: %s", hs[i].name, hs[i].value);
			l = curl_slist_append(l, line);
			memset(line, 0, strlen(line));
			free(line);
		}
		if (src) {
			char *auth;

			k.access_key_id = src->akid;
			k.secret_access_key = src->secret;
			q.method = "POST";
			q.uri = e.path;
			q.query = "";
			q.headers = hs;
			q.nheaders = n;
			q.payload_hash = sha;
			auth = sigv4_authorization(&q, &k, date);
			line = xasprintf("Authorization: %s", auth);
			l = curl_slist_append(l, line);
			memset(line, 0, strlen(line));
			free(line);
			memset(auth, 0, strlen(auth));
			free(auth);
		}
		l = curl_slist_append(l, "Expect:");
		hr.method = "POST";
		hr.url = e.url;
		hr.headers = l;
		hr.body = body;
		hr.len = strlen(body);
		hr.secret_body = 1;
		hr.connect_timeout = 5;
		hr.max_time = 30;
		http_do(h, &hr, &r);
		curl_slist_free_all(l);
		if (r.cc == CURLE_OK && r.status == 200) {
			rc = 0;
			break;
		}
		rc = temporary(&r) ? DDB_EXIT_TEMPFAIL : DDB_EXIT_REFUSED;
		if (rc == DDB_EXIT_REFUSED || attempt == h->max_attempts)
			break;
		pause_before(h, attempt);
	}
	if (rc == 0) {
		char *id, *sec, *tok, *exp;

		snprintf(tag, sizeof tag, "<%sResult>", action);
		if (r.body == NULL || strstr(r.body, tag) == NULL) {
			warnx("%s: STS's answer has no %s", what, tag);
			rc = DDB_EXIT_REFUSED;
		} else {
			id = xml_value(r.body, "AccessKeyId");
			sec = xml_value(r.body, "SecretAccessKey");
			tok = xml_value(r.body, "SessionToken");
			exp = xml_value(r.body, "Expiration");
			if (exp == NULL) {
				warnx("%s: STS's answer has no Expiration",
				    what);
				rc = DDB_EXIT_REFUSED;
			} else {
				rc = creds_set(out, id, sec, tok, exp, source);
			}
			free(id);
			if (sec)
				memset(sec, 0, strlen(sec));
			free(sec);
			if (tok)
				memset(tok, 0, strlen(tok));
			free(tok);
			free(exp);
		}
		if (r.body)
			memset(r.body, 0, r.len);
	} else {
		aws_xml_describe(&r, why, sizeof why);
		if (attempt > 1)
			warnx("%s: %s (after %d attempts)", what, why,
			    attempt > h->max_attempts ? h->max_attempts :
			    attempt);
		else
			warnx("%s: %s", what, why);
	}
	resp_free(&r);
	aws_ep_free(&e);
	return rc;
}

static char *
session_name(const struct sts_role *r)
{
	if (r->session)
		return xstrdup(r->session);
	return xasprintf("ddb-to-s3-%lld", (long long)time(NULL));
}

int
sts_assume_role(struct http *h, const char *region, const struct creds *src,
    const struct sts_role *r, struct creds *out)
{
	char *body = xstrdup("Action=AssumeRole&Version=2011-06-15");
	char *sess = session_name(r), *what, dur[24];
	int rc;

	form_add(&body, "RoleArn", r->arn);
	form_add(&body, "RoleSessionName", sess);
	if (r->duration > 0) {
		snprintf(dur, sizeof dur, "%ld", r->duration);
		form_add(&body, "DurationSeconds", dur);
	}
	if (r->external_id)
		form_add(&body, "ExternalId", r->external_id);
	what = xasprintf("profile %s: assume role %s", r->profile, r->arn);
	rc = sts_call(h, region, src, body, "AssumeRole", what,
	    "assumed role", out);
	free(what);
	free(sess);
	free(body);
	return rc;
}

/* the token file is read again at every call: the platform rotates it */
static char *
read_token(const char *path, const char *what)
{
	char *buf = xmalloc(STS_TOKEN_MAX + 1), *s, *e;
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		warnx("%s: %s: %s", what, path, strerror(errno));
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, STS_TOKEN_MAX + 1, fp);
	fclose(fp);
	if (n > STS_TOKEN_MAX) {
		warnx("%s: %s: longer than %d bytes", what, path,
		    STS_TOKEN_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	for (s = buf; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (*s == '\0') {
		warnx("%s: %s is empty", what, path);
		free(buf);
		return NULL;
	}
	memmove(buf, s, strlen(s) + 1);
	return buf;
}

int
sts_web_identity(struct http *h, const char *region, const char *token_file,
    const struct sts_role *r, struct creds *out)
{
	char *body, *sess, *tok, *what;
	int rc;

	what = r->profile ? xasprintf("profile %s: web identity role %s",
	    r->profile, r->arn) : xasprintf("web identity role %s "
	    "(AWS_ROLE_ARN)", r->arn);
	if ((tok = read_token(token_file, what)) == NULL) {
		free(what);
		return DDB_EXIT_IO;
	}
	body = xstrdup("Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
	sess = session_name(r);
	form_add(&body, "RoleArn", r->arn);
	form_add(&body, "RoleSessionName", sess);
	form_add(&body, "WebIdentityToken", tok);
	memset(tok, 0, strlen(tok));
	free(tok);
	rc = sts_call(h, region, NULL, body, "AssumeRoleWithWebIdentity", what,
	    "web identity", out);
	memset(body, 0, strlen(body));
	free(body);
	free(sess);
	free(what);
	return rc;
}
