/* sso.c: IAM Identity Center (SSO) profiles: the token `aws sso login`
 * caches, and the SSO portal's GetRoleCredentials */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "credsrc.h"
#include "sigv4.h"

#define SSO_CACHE_MAX 65536

/* ~/.aws/sso/cache/<sha1 hex of the session name or start URL>.json */
static char *
cache_path(const char *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	const char *home = getenv("HOME");

	EVP_Digest(key, strlen(key), md, &n, EVP_sha1(), NULL);
	ddb_hex(md, n, hex);
	return xasprintf("%s/.aws/sso/cache/%s.json", home ? home : "", hex);
}

static char *
read_small(const char *path, size_t *len)
{
	char *buf = xmalloc(SSO_CACHE_MAX + 1);
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, SSO_CACHE_MAX + 1, fp);
	fclose(fp);
	if (n > SSO_CACHE_MAX) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* the portal's answer: {"roleCredentials": {...}} */
static int
role_creds(const char *body, size_t len, const char *profile,
    struct creds *c)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	struct jv v, *rc_, *exp;
	size_t off;
	int rc = DDB_EXIT_REFUSED;
	char what[512];

	snprintf(what, sizeof what, "profile %s: SSO portal", profile);
	if (ddb_json_parse(&a, &st, body ? body : "", body ? len : 0, 8, &v,
	    &off) == 0 && v.type == JV_OBJECT &&
	    (rc_ = jv_get(&v, "roleCredentials")) != NULL &&
	    rc_->type == JV_OBJECT) {
		exp = jv_get(rc_, "expiration");
		rc = creds_take(c, creds_jv_str(rc_, "accessKeyId"),
		    creds_jv_str(rc_, "secretAccessKey"),
		    creds_jv_str(rc_, "sessionToken"), NULL, "SSO");
		if (rc == 0 && exp && exp->type == JV_NUMBER) {
			struct ddb_time t;
			if (ddb_time_parse(exp->u.s, exp->n, 1, &t) == 0)
				c->expires = (time_t)t.sec;
		}
		if (rc == 0 && c->expires == 0) {
			warnx("%s: the answer has no expiration", what);
			creds_free(c);
			rc = DDB_EXIT_REFUSED;
		}
	} else {
		warnx("%s: the answer is no roleCredentials object", what);
	}
	ddb_json_stack_free(&st);
	ddb_arena_free(&a);
	return rc;
}

/* the access token cached for key; NULL after a message */
static char *
sso_token(const char *profile, const char *key)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	char *path = cache_path(key), *buf, *tok = NULL, *exp = NULL;
	struct jv v;
	size_t len = 0, off;
	time_t when;

	if ((buf = read_small(path, &len)) == NULL) {
		warnx("profile %s: SSO: no token cached (%s: %s): run aws sso "
		    "login --profile %s", profile, path, strerror(errno),
		    profile);
		free(path);
		return NULL;
	}
	if (ddb_json_parse(&a, &st, buf, len, 8, &v, &off) != 0 ||
	    v.type != JV_OBJECT ||
	    (tok = creds_jv_str(&v, "accessToken")) == NULL ||
	    (exp = creds_jv_str(&v, "expiresAt")) == NULL ||
	    (when = creds_time(exp)) <= 0) {
		warnx("profile %s: SSO: %s holds no token and expiry: run aws "
		    "sso login --profile %s", profile, path, profile);
		wipe_free(tok);
		tok = NULL;
	} else if (time(NULL) >= when) {
		warnx("profile %s: SSO: the token expired at %s: run aws sso "
		    "login --profile %s", profile, exp, profile);
		wipe_free(tok);
		tok = NULL;
	}
	memset(buf, 0, len);
	free(buf);
	free(exp);
	free(path);
	ddb_json_stack_free(&st);
	ddb_arena_free(&a);
	return tok;
}

/* one GET as the retry loop sees it */
struct sso_try {
	struct http *h;
	const struct hreq *q;
};

static int
sso_send(void *arg, struct resp *r)
{
	const struct sso_try *t = arg;

	http_do(t->h, t->q, r);
	return 0;
}

/* 429, 5xx but 501 and network errors are temporary; any other no 200 */
static int
sso_classify(void *arg, const struct resp *r, char *why, size_t n)
{
	(void)arg;
	snprintf(why, n, "%s", r->cc != CURLE_OK ? r->err : "");
	if (r->cc == CURLE_OK && r->status == 200)
		return 0;
	if (r->cc == CURLE_OK && r->status != 429 && (r->status < 500 ||
	    r->status == 501))
		return DDB_EXIT_REFUSED;
	return AWS_AGAIN;
}

/*
 * GET /federation/credentials?account_id=A&role_name=R with the token in
 * x-amz-sso_bearer_token (the call is not signed: botocore's model says
 * authtype none); retried on 429, 5xx and network errors.
 */
static int
get_role_credentials(struct http *h, const char *profile,
    const char *ep_profile, const char *region,
    const char *account, const char *role, const char *token,
    struct creds *c)
{
	char *base = aws_endpoint(NULL, "sso", ep_profile), *url, *acc, *rn;
	struct curl_slist *l = NULL;
	struct resp r = { 0 };
	struct hreq q = { 0 };
	struct sso_try t = { h, &q };
	struct aws_call ac = { sso_send, sso_classify, NULL, &t, "SSO portal",
	    0, 0, "" };
	int rc;
	size_t n;

	if (base == NULL)
		base = xasprintf("https://portal.sso.%s.amazonaws.com",
		    region);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	acc = sigv4_encode(account, strlen(account), 0);
	rn = sigv4_encode(role, strlen(role), 0);
	url = xasprintf("%s/federation/credentials?account_id=%s&role_name=%s",
	    base, acc, rn);
	free(acc);
	free(rn);
	free(base);
	if (strpbrk(token, "\r\n")) {
		warnx("profile %s: SSO: the cached token holds a line break",
		    profile);
		free(url);
		return DDB_EXIT_REFUSED;
	}
	l = aws_header(l, "x-amz-sso_bearer_token", token);
	q = (struct hreq){ .method = "GET", .url = url, .headers = l,
	    .secret_body = 1, .connect_timeout = 5, .max_time = 30 };
	switch (aws_retry(h, &ac, &r)) {
	case 0:
		rc = role_creds(r.body, r.len, profile, c);
		break;
	case AWS_AGAIN:
		rc = DDB_EXIT_TEMPFAIL;
		break;
	default:
		rc = DDB_EXIT_REFUSED;
		break;
	}
	if (rc != 0 && !(r.cc == CURLE_OK && r.status == 200)) {
		if (r.cc != CURLE_OK)
			warnx("profile %s: SSO portal: %s", profile, r.err);
		else if (r.status == 401)
			warnx("profile %s: SSO portal: HTTP 401: the token is "
			    "not valid: run aws sso login --profile %s",
			    profile, profile);
		else
			warnx("profile %s: SSO portal: HTTP %ld for account "
			    "%s, role %s", profile, r.status, account, role);
	}
	if (r.body)
		memset(r.body, 0, r.len);
	resp_free(&r);
	curl_slist_free_all(l);
	free(url);
	return rc;
}

/*
 * A profile with sso_account_id / sso_role_name, and sso_session (whose
 * [sso-session NAME] section has sso_start_url and sso_region) or, in the
 * legacy form, sso_start_url and sso_region of its own.
 */
int
creds_sso(struct http *h, const char *profile, const char *ep_profile,
    struct creds *c)
{
	char *acct = prof_get(profile, "sso_account_id", CONF_CONFIG, NULL);
	char *role = prof_get(profile, "sso_role_name", CONF_CONFIG, NULL);
	char *sess, *url = NULL, *region = NULL, *tok, *sect, missing[128];
	int rc = DDB_EXIT_REFUSED, found = 0;

	if (acct == NULL && role == NULL)
		return CREDS_NONE;
	sess = prof_get(profile, "sso_session", CONF_CONFIG, NULL);
	if (sess) {
		sect = xasprintf("sso-session %s", sess);
		url = conf_section_get(sect, "sso_start_url", &found);
		region = conf_section_get(sect, "sso_region", &found);
		free(sect);
		if (!found) {
			warnx("profile %s: sso_session %s: no [sso-session %s] "
			    "in the config file", profile, sess, sess);
			goto out;
		}
	} else {
		url = prof_get(profile, "sso_start_url", CONF_CONFIG, NULL);
		region = prof_get(profile, "sso_region", CONF_CONFIG, NULL);
	}
	missing[0] = '\0';
	if (url == NULL)
		strcat(missing, " sso_start_url");
	if (region == NULL)
		strcat(missing, " sso_region");
	if (acct == NULL)
		strcat(missing, " sso_account_id");
	if (role == NULL)
		strcat(missing, " sso_role_name");
	if (missing[0]) {
		warnx("profile %s: SSO: missing%s", profile, missing);
		goto out;
	}
	if ((tok = sso_token(profile, sess ? sess : url)) == NULL)
		goto out;
	rc = get_role_credentials(h, profile, ep_profile, region, acct, role, tok, c);
	wipe_free(tok);
out:
	free(acct);
	free(role);
	free(sess);
	free(url);
	free(region);
	return rc;
}
