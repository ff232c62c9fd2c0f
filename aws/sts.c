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

/* the configured endpoint of "sts" (aws_endpoint), or the regional one */
static int
sts_endpoint(const char *profile, const char *region, struct aws_ep *e)
{
	char *v = aws_endpoint(NULL, "sts", profile);
	int rc;

	if (v == NULL)
		v = xasprintf("https://sts.%s.amazonaws.com", region);
	rc = aws_ep_parse("STS", v, e);
	free(v);
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

/* what an STS answer means: 0, AWS_AGAIN (temporary) or DDB_EXIT_REFUSED */
static int
classify(const struct resp *r)
{
	char *code;
	int t;

	if (r->cc != CURLE_OK)
		return aws_transport_permanent(r->cc) ? DDB_EXIT_REFUSED :
		    AWS_AGAIN;
	if (r->status == 200)
		return 0;
	if ((r->status >= 500 && r->status != 501) || r->status == 429)
		return AWS_AGAIN;
	code = xml_value(r->body, "Code");
	t = code && (strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "IDPCommunicationError") == 0);
	free(code);
	return t ? AWS_AGAIN : DDB_EXIT_REFUSED;
}

/* one STS call as the retry loop sees it */
struct sts_try {
	struct http *h;
	const struct aws_ep *e;
	const char *region, *body;
	const struct creds *src;
};

/* sign for now (unless src is NULL) and send once */
static int
sts_send(void *arg, struct resp *r)
{
	const struct sts_try *t = arg;
	static const struct sigv4_header ct = { "content-type",
	    "application/x-www-form-urlencoded; charset=utf-8" };
	struct hreq hr = { 0 };
	struct curl_slist *l;

	l = aws_post_headers(t->e, t->src, t->region, "sts", &ct, 1, t->body,
	    strlen(t->body));
	hr.method = "POST";
	hr.url = t->e->url;
	hr.headers = l;
	hr.body = t->body;
	hr.len = strlen(t->body);
	hr.secret_body = 1;
	hr.connect_timeout = 5;
	hr.max_time = 30;
	http_do(t->h, &hr, r);
	curl_slist_free_all(l);
	return 0;
}

static int
sts_classify(void *arg, const struct resp *r, char *why, size_t n)
{
	(void)arg;
	aws_xml_describe(r, why, n);
	return classify(r);
}

/* the credentials in STS's <ActionResult>; 0, or an exit status */
static int
sts_result(const struct resp *r, const char *action, const char *what,
    const char *source, struct creds *out)
{
	struct xml_doc d;
	char tag[64];
	size_t res;
	const char *exp;
	int rc;

	snprintf(tag, sizeof tag, "%sResult", action);
	if (xml_parse(&d, r->body, r->len) != 0) {
		warnx("%s: STS's answer is no XML", what);
		return DDB_EXIT_REFUSED;
	}
	if ((res = xml_find(&d, XML_DOC, tag)) == XML_NONE) {
		warnx("%s: STS's answer has no <%s>", what, tag);
		rc = DDB_EXIT_REFUSED;
	} else if ((exp = xml_text(&d, res, "Expiration")) == NULL) {
		warnx("%s: STS's answer has no Expiration", what);
		rc = DDB_EXIT_REFUSED;
	} else {
		rc = creds_set(out, xml_text(&d, res, "AccessKeyId"),
		    xml_text(&d, res, "SecretAccessKey"),
		    xml_text(&d, res, "SessionToken"), exp, source);
	}
	xml_free(&d);	/* wipes the secrets */
	return rc;
}

/*
 * One STS action, retried on throttling, 5xx and network errors; signed
 * with src unless it is NULL.  0 with out filled, or an exit status after
 * a one-line message naming what: "profile P: assume role ARN".
 */
static int
sts_call(struct http *h, const char *region, const char *ep_profile,
    const struct creds *src,
    const char *body, const char *action, const char *what,
    const char *source, struct creds *out)
{
	struct aws_ep e = { 0 };
	struct sts_try t = { h, &e, region, body, src };
	struct aws_call ac = { sts_send, sts_classify, NULL, &t, what, 0, 0,
	    "" };
	struct resp r = { 0 };
	int rc;

	if (sts_endpoint(ep_profile, region, &e) != 0)
		return DDB_EXIT_REFUSED;
	rc = aws_retry(h, &ac, &r);
	if (rc == 0) {
		rc = sts_result(&r, action, what, source, out);
		if (r.body)
			memset(r.body, 0, r.len);
	} else {
		if (ac.attempts > 1)
			warnx("%s: %s (after %d attempts)", what, ac.why,
			    ac.attempts);
		else
			warnx("%s: %s", what, ac.why);
		rc = rc == AWS_AGAIN ? DDB_EXIT_TEMPFAIL : DDB_EXIT_REFUSED;
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
	rc = sts_call(h, region, r->ep_profile, src, body, "AssumeRole", what,
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
	rc = sts_call(h, region, r->ep_profile, NULL, body,
	    "AssumeRoleWithWebIdentity", what,
	    "web identity", out);
	memset(body, 0, strlen(body));
	free(body);
	free(sess);
	free(what);
	return rc;
}
