/* creds.c: settings and credentials, found where the AWS CLI finds them */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "credsrc.h"

void
creds_free(struct creds *c)
{
	if (c->secret)
		memset(c->secret, 0, strlen(c->secret));
	free(c->akid);
	free(c->secret);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->profile);
	memset(c, 0, sizeof *c);
}

/*
 * The AccessKeyId/SecretAccessKey/Token JSON both metadata services send,
 * parsed by the suite's own strict parser (common/json.c)
 */
static int
creds_from_json(const struct resp *r, struct creds *c, const char *source)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack st = { 0 };
	struct jv v;
	size_t off = 0;
	int e = DDB_JSON_EOF;
	char *x;

	if (r->body && (e = ddb_json_parse(&a, &st, r->body, r->len, 8, &v,
	    &off)) == 0 && v.type == JV_OBJECT) {
		c->akid = creds_jv_str(&v, "AccessKeyId");
		c->secret = creds_jv_str(&v, "SecretAccessKey");
		c->token = creds_jv_str(&v, "Token");
		if ((x = creds_jv_str(&v, "Expiration")) != NULL) {
			if ((c->expires = creds_time(x)) < 0)
				c->expires = 0;
			free(x);
		}
	}
	ddb_arena_free(&a);
	ddb_json_stack_free(&st);
	if (e != 0)
		warnx("%s: %s at byte %zu of the answer", source,
		    ddb_json_strerror(e), off);
	if (c->akid == NULL || c->secret == NULL) {
		creds_free(c);
		if (e == 0)
			warnx("%s: no credentials in the answer", source);
		return DDB_EXIT_REFUSED;
	}
	c->source = source;
	return 0;
}

static int
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* plain http only to loopback and the addresses ECS and EKS use */
static int
container_url_ok(const char *url)
{
	static const char *const hosts[] = {
		"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
		"[fd00:ec2::23]", NULL
	};
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;
	size_t i;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcmp(scheme, "https") == 0)
			ok = 1;
		else if (strcmp(scheme, "http") == 0) {
			ok = strncmp(host, "127.", 4) == 0;
			for (i = 0; hosts[i]; i++)
				ok |= strcmp(host, hosts[i]) == 0;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static char *
read_token_file(const char *path)
{
	char buf[8192];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		warn("%s", path);
		return NULL;
	}
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return xstrdup(trim_space(buf));
}

/* a metadata call, tried twice; 0, or an exit status after saying why
 * (into why, if not NULL, else as a warning) */
static int
fetch(struct http *h, const struct hreq *q, struct resp *r, const char *what,
    char *why, size_t n)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (http_do(h, q, r) == CURLE_OK && r->status == 200)
			return 0;
		if (r->cc == CURLE_OK && r->status >= 400 && r->status < 500)
			break;
	}
	if (why && r->cc != CURLE_OK)
		snprintf(why, n, "%s %s: %s", q->method, q->url, r->err);
	else if (why)
		snprintf(why, n, "%s %s: HTTP %ld", q->method, q->url,
		    r->status);
	else if (r->cc != CURLE_OK)
		warnx("%s: %s", what, r->err);
	else
		warnx("%s: HTTP %ld", what, r->status);
	return r->cc == CURLE_OK && r->status < 500 ? DDB_EXIT_REFUSED :
	    DDB_EXIT_TEMPFAIL;
}

/* a metadata call whose answer is credentials: 0, or an exit status */
static int
fetch_creds(struct http *h, const struct hreq *q, struct creds *c,
    const char *what)
{
	struct resp r = { 0 };
	int rc = fetch(h, q, &r, what, NULL, 0);

	if (rc == 0)
		rc = creds_from_json(&r, c, what);
	resp_free(&r);
	return rc;
}

int
creds_container(struct http *h, struct creds *c)
{
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *tokfile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct curl_slist *l = NULL;
	struct hreq q;
	char *url, *tok = NULL;
	int rc;

	if (rel && *rel)
		url = xasprintf("http://169.254.170.2%s", rel);
	else
		url = xstrdup(full);
	if (!container_url_ok(url)) {
		warnx("%s: container credentials need https "
		    "or a loopback or ECS/EKS address", url);
		free(url);
		return DDB_EXIT_REFUSED;
	}
	if (tokfile && *tokfile) {
		if ((tok = read_token_file(tokfile)) == NULL) {
			free(url);
			return DDB_EXIT_IO;
		}
	} else if (tokenv && *tokenv) {
		tok = xstrdup(tokenv);
	}
	if (tok) {
		if (has_crlf(tok)) {
			warnx("container authorization token holds a line "
			    "break");
			free(tok);
			free(url);
			return DDB_EXIT_REFUSED;
		}
		l = aws_header(l, "Authorization", tok);
		wipe_free(tok);
	}
	q = (struct hreq){ .method = "GET", .url = url, .headers = l,
	    .secret_body = 1, .connect_timeout = 2, .max_time = 5 };
	rc = fetch_creds(h, &q, c, "container credentials");
	curl_slist_free_all(l);
	free(url);
	return rc;
}

/* IMDSv2: a session token first, then the role, then its credentials;
 * why: as fetch()'s */
int
creds_imds(struct http *h, struct creds *c, char *why, size_t n)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct curl_slist *l = NULL;
	struct resp r = { 0 };
	struct hreq q = { 0 };
	char *base, *url, *role;
	size_t len;
	int rc;

	base = xstrdup(ep && *ep ? ep : "http://169.254.169.254");
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	q.secret_body = 1;
	q.connect_timeout = 1;
	q.max_time = 2;

	url = xasprintf("%s/latest/api/token", base);
	l = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
	q.method = "PUT";
	q.url = url;
	q.headers = l;
	rc = fetch(h, &q, &r, "EC2 instance metadata", why, n);
	curl_slist_free_all(l);
	free(url);
	if (rc != 0 || r.body == NULL || has_crlf(trim_space(r.body))) {
		resp_free(&r);
		free(base);
		return rc ? rc : DDB_EXIT_REFUSED;
	}
	l = aws_header(NULL, "X-aws-ec2-metadata-token", trim_space(r.body));

	url = xasprintf("%s/latest/meta-data/iam/security-credentials/", base);
	q.method = "GET";
	q.url = url;
	q.headers = l;
	q.secret_body = 0;
	rc = fetch(h, &q, &r, "EC2 instance metadata", why, n);
	free(url);
	if (rc == 0 && r.body) {
		role = xstrdup(r.body);
		role[strcspn(role, "\r\n")] = '\0';
		url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s",
		    base, trim_space(role));
		free(role);
		q.url = url;
		q.secret_body = 1;
		rc = fetch_creds(h, &q, c, "EC2 instance metadata");
		free(url);
	}
	curl_slist_free_all(l);
	resp_free(&r);
	free(base);
	return rc;
}

static int
is_true(const char *s)
{
	return s && strcasecmp(s, "true") == 0;
}

/*
 * The chain: environment, profile (credentials, then config), container
 * endpoint, EC2 instance metadata.  0, or the exit status to leave with.
 */
static int
chain(struct http *h, const char *profile, int explicit_profile,
    struct creds *c)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *sec = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");
	int found = 0, rc = DDB_EXIT_REFUSED;
	char why[CURL_ERROR_SIZE + 512] = "", *cf, *kf;

	memset(c, 0, sizeof *c);
	if (explicit_profile != 1 && id && *id && sec && *sec) {
		c->akid = xstrdup(id);
		c->secret = xstrdup(sec);
		if (tok && *tok)
			c->token = xstrdup(tok);
		c->source = "environment";
		return 0;
	}
	if ((rc = creds_profile(h, profile, explicit_profile, c)) !=
	    CREDS_NONE)
		return rc;
	free(prof_get(profile, "region", CONF_BOTH, &found));
	if (explicit_profile && !found) {
		warnx("profile %s not found", profile);
		return DDB_EXIT_REFUSED;
	}
	if ((getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
	    *getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) ||
	    (getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") &&
	    *getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")))
		return creds_container(h, c);
	if (is_true(getenv("AWS_EC2_METADATA_DISABLED")))
		snprintf(why, sizeof why, "AWS_EC2_METADATA_DISABLED");
	else if ((rc = creds_imds(h, c, why, sizeof why)) == 0)
		return 0;
	else if (why[0] == '\0')
		return rc;	/* an answer that holds no credentials: said */
	/* as the AWS CLI: none found, and where they were looked for */
	kf = creds_file(CONF_CREDENTIALS);
	cf = creds_file(CONF_CONFIG);
	warnx("no credentials found: looked in %sprofile %s (%s, %s), "
	    "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
	    "and _FULL_URI unset), EC2 instance metadata (%s)",
	    explicit_profile == 1 ? "" : "the environment (AWS_ACCESS_KEY_ID "
	    "and AWS_SECRET_ACCESS_KEY), ", profile, kf ? kf : "no HOME",
	    cf ? cf : "no HOME", why);
	free(kf);
	free(cf);
	/* a metadata endpoint of the user's that fails for now: try later */
	return rc == DDB_EXIT_TEMPFAIL &&
	    getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT") ? DDB_EXIT_TEMPFAIL :
	    DDB_EXIT_REFUSED;
}

/*
 * The chain of the AWS CLI v2: environment, the profile (role, web
 * identity, SSO, credentials file, credential_process, config file),
 * container endpoint, EC2 instance metadata.  0, or the exit status to
 * leave with.
 */
int
creds_find(struct http *h, const char *profile, int explicit_profile,
    struct creds *c)
{
	int rc = chain(h, profile, explicit_profile, c);

	if (rc == 0) {
		c->profile = xstrdup(profile);
		c->explicit_profile = explicit_profile;
		c->obtained = time(NULL);
	}
	return rc;
}

static const char *
env(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* the profile: opt, else AWS_PROFILE, else default; *how 1, 2 or 0 */
const char *
aws_profile(const char *opt, int *how)
{
	if (opt) {
		*how = 1;
		return *opt ? opt : "default";
	}
	if (env("AWS_PROFILE")) {
		*how = 2;
		return env("AWS_PROFILE");
	}
	*how = 0;
	return "default";
}

/* opt, else env1, else env2 (unset or empty: skipped), else the profile's */
char *
aws_setting(const char *opt, const char *env1, const char *env2,
    const char *profile, const char *key)
{
	const char *v = opt;

	if (v == NULL)
		v = env(env1);
	if (v == NULL)
		v = env(env2);
	return v ? xstrdup(v) : conf_get(profile, key, NULL);
}

char *
aws_region(const char *opt, const char *profile)
{
	char *r = aws_setting(opt, "AWS_REGION", "AWS_DEFAULT_REGION", profile,
	    "region");

	return r ? r : xstrdup("us-east-1");
}

/*
 * The AWS CLI's order (its configured endpoint URLs): the option, then
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the service's block of
 * the profile's [services NAME] section, the profile's endpoint_url;
 * all but the option skipped if AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or
 * else the profile's ignore_configured_endpoint_urls) is true.
 */
char *
aws_endpoint(const char *opt, const char *service, const char *profile)
{
	char var[64], *v, *svcs;
	const char *e;
	size_t i;

	if (opt)
		return xstrdup(opt);
	if ((e = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) != NULL) {
		if (is_true(e))
			return NULL;
	} else if ((v = conf_get(profile, "ignore_configured_endpoint_urls",
	    NULL)) != NULL) {
		int ignore = is_true(trim_space(v));

		free(v);
		if (ignore)
			return NULL;
	}
	snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", service);
	for (i = sizeof "AWS_ENDPOINT_URL_" - 1; var[i]; i++)
		var[i] = (char)toupper((unsigned char)var[i]);
	if ((e = env(var)) != NULL || (e = env("AWS_ENDPOINT_URL")) != NULL)
		return xstrdup(e);
	if ((svcs = prof_get(profile, "services", CONF_CONFIG, NULL)) != NULL) {
		v = conf_service_get(svcs, service, "endpoint_url");
		free(svcs);
		if (v)
			return v;
	}
	return prof_get(profile, "endpoint_url", CONF_BOTH, NULL);
}
