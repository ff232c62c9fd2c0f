/* profile.c: the profile's part of the credential chain, as the AWS CLI v2
 * resolves it (botocore's order), and renewal before expiry */
#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "credsrc.h"

/* s without the white space around it (in place) */
char *
trim_space(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * key's value in [section] of an INI file like ~/.aws/config; *found (if
 * found is not NULL) is set if the section exists.  sub NULL: a key of the
 * section itself (indented lines belong to a nested block and are
 * skipped); else a key of the nested block sub, the AWS CLI's form: a key
 * with no value followed by indented lines, as in
 *	[services local]
 *	dynamodb =
 *	  endpoint_url = http://127.0.0.1:8000
 */
static char *
ini_get(const char *path, const char *section, const char *sub,
    const char *key, int *found)
{
	char line[4096], *val = NULL;
	int in = 0, block = 0;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof line, fp)) {
		int indented = isspace((unsigned char)line[0]);
		char *s = trim_space(line), *eq;

		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (e) {
				*e = '\0';
				in = strcmp(trim_space(s + 1), section) == 0;
				block = 0;
				if (in && found)
					*found = 1;
			}
			continue;
		}
		if (!in || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (sub != NULL && !indented)
			block = strcmp(trim_space(s), sub) == 0 &&
			    *trim_space(eq + 1) == '\0';
		else if ((sub == NULL ? !indented : block) &&
		    strcmp(trim_space(s), key) == 0) {
			free(val);
			val = xstrdup(trim_space(eq + 1));
		}
	}
	fclose(fp);
	return val;
}

static char *
home_file(const char *env, const char *rel)
{
	const char *p = getenv(env), *home;

	if (p && *p)
		return xstrdup(p);
	if ((home = getenv("HOME")) == NULL)
		return NULL;
	return xasprintf("%s/%s", home, rel);
}

/* the path of the shared credentials or config file; NULL: no HOME */
char *
creds_file(int which)
{
	return which == CONF_CREDENTIALS ? home_file(
	    "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials") :
	    home_file("AWS_CONFIG_FILE", ".aws/config");
}

/* a setting of the profile in the credentials file, the config file or
 * both (the credentials file first); NULL if unset, "" if empty */
static char *
prof_value(const char *profile, const char *key, int files, int *found)
{
	char *v = NULL, *path, *sect;

	if (files & CONF_CREDENTIALS) {
		path = home_file("AWS_SHARED_CREDENTIALS_FILE",
		    ".aws/credentials");
		v = ini_get(path, profile, NULL, key, found);
		free(path);
	}
	if (v == NULL && (files & CONF_CONFIG)) {
		path = home_file("AWS_CONFIG_FILE", ".aws/config");
		sect = strcmp(profile, "default") == 0 ? xstrdup("default") :
		    xasprintf("profile %s", profile);
		v = ini_get(path, sect, NULL, key, found);
		free(sect);
		free(path);
	}
	return v;
}

/* the same; NULL if unset or empty */
char *
prof_get(const char *profile, const char *key, int files, int *found)
{
	char *v = prof_value(profile, key, files, found);

	if (v && *v == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

/* a setting of the profile: the credentials file first, then config */
char *
conf_get(const char *profile, const char *key, int *found)
{
	return prof_value(profile, key, CONF_BOTH, found);
}

/* a key of another section of the config file: [sso-session NAME] */
char *
conf_section_get(const char *section, const char *key, int *found)
{
	char *path = home_file("AWS_CONFIG_FILE", ".aws/config");
	char *v = ini_get(path, section, NULL, key, found);

	free(path);
	if (v && *v == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

/* key of service's block in [services NAME]; NULL if unset or empty */
char *
conf_service_get(const char *services, const char *service, const char *key)
{
	char *path = home_file("AWS_CONFIG_FILE", ".aws/config");
	char *sect = xasprintf("services %s", services);
	char *v = ini_get(path, sect, service, key, NULL);

	free(sect);
	free(path);
	if (v && *v == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

static int
prof_has(const char *profile, const char *key)
{
	char *v = prof_get(profile, key, CONF_BOTH, NULL);

	free(v);
	return v != NULL;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* the region STS is called in: the one the tools use */
char *
creds_region(const char *profile)
{
	char *r;

	if (env("AWS_REGION"))
		return xstrdup(env("AWS_REGION"));
	if (env("AWS_DEFAULT_REGION"))
		return xstrdup(env("AWS_DEFAULT_REGION"));
	if ((r = prof_get(profile, "region", CONF_CONFIG, NULL)) != NULL)
		return r;
	return xstrdup("us-east-1");
}

/* an expiry as the services write it: ISO 8601 (Z, an offset, or the
 * "UTC" of old AWS CLI caches); -1 if it is none */
time_t
creds_time(const char *s)
{
	struct ddb_time t;
	char buf[64];
	size_t n = strlen(s);

	if (n >= sizeof buf)
		return -1;
	memcpy(buf, s, n + 1);
	if (n > 3 && strcmp(buf + n - 3, "UTC") == 0) {
		buf[n - 3] = 'Z';
		buf[n - 2] = '\0';
		n -= 2;
	}
	if (ddb_time_parse(buf, n, 0, &t) != 0)
		return -1;
	return (time_t)t.sec;
}

/* c from a source's answer; 0, or DDB_EXIT_REFUSED after a message */
int
creds_set(struct creds *c, const char *akid, const char *secret,
    const char *token, const char *expiration, const char *source)
{
	time_t exp = 0;

	memset(c, 0, sizeof *c);
	if (akid == NULL || *akid == '\0' || secret == NULL ||
	    *secret == '\0') {
		warnx("%s: no credentials in the answer", source);
		return DDB_EXIT_REFUSED;
	}
	if (expiration && (exp = creds_time(expiration)) <= 0) {
		warnx("%s: the answer's Expiration is no time", source);
		return DDB_EXIT_REFUSED;
	}
	c->akid = xstrdup(akid);
	c->secret = xstrdup(secret);
	c->token = token && *token ? xstrdup(token) : NULL;
	c->expires = exp;
	c->source = source;
	return 0;
}

/* s freed, its bytes wiped first (a secret) */
void
wipe_free(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

/* creds_set on strings of the caller's, which it frees (secrets wiped) */
int
creds_take(struct creds *c, char *akid, char *secret, char *token,
    char *expiration, const char *source)
{
	int rc = creds_set(c, akid, secret, token, expiration, source);

	free(akid);
	wipe_free(secret);
	wipe_free(token);
	free(expiration);
	return rc;
}

/* a JSON object's string member, allocated; NULL if none or holds a NUL */
char *
creds_jv_str(const struct jv *o, const char *key)
{
	const struct jv *v = o ? jv_get(o, key) : NULL;

	if (v == NULL || v->type != JV_STRING || memchr(v->u.s, '\0', v->n))
		return NULL;
	return xstrndup(v->u.s, v->n);
}

static int
bad_profile(const char *profile, const char *what)
{
	warnx("profile %s: %s", profile, what);
	return DDB_EXIT_REFUSED;
}

/* keys written in a profile of one file; CREDS_NONE if it has none */
static int
static_keys(const char *profile, int file, struct creds *c)
{
	char *id = prof_get(profile, "aws_access_key_id", file, NULL);
	char *sec = prof_get(profile, "aws_secret_access_key", file, NULL);
	int rc = CREDS_NONE;

	if (id && sec) {
		memset(c, 0, sizeof *c);
		c->akid = id;
		c->secret = sec;
		c->token = prof_get(profile, "aws_session_token", file, NULL);
		c->source = "profile";
		return 0;
	}
	if (id || sec)
		rc = bad_profile(profile, id ? "aws_access_key_id without "
		    "aws_secret_access_key" : "aws_secret_access_key without "
		    "aws_access_key_id");
	free(id);
	if (sec)
		memset(sec, 0, strlen(sec));
	free(sec);
	return rc;
}

struct walk {
	struct http *h;
	char *region;
	const char *top;	/* the profile asked for: its endpoints */
	const char *visited[CREDS_MAX_CHAIN + 2];
	int n;
};

/* web identity (the environment's, unless use_env is 0, then the
 * profile's), SSO, the credentials file, credential_process, config */
static int
providers(struct walk *w, const char *profile, int use_env, struct creds *c)
{
	char *file = NULL, *arn = NULL, *sess = NULL, *cmd;
	int rc, from_env = 0;

	if (use_env && env("AWS_WEB_IDENTITY_TOKEN_FILE")) {
		file = xstrdup(env("AWS_WEB_IDENTITY_TOKEN_FILE"));
		from_env = 1;
	} else {
		file = prof_get(profile, "web_identity_token_file", CONF_BOTH,
		    NULL);
	}
	if (file) {
		struct sts_role r = { 0 };

		if (use_env && env("AWS_ROLE_ARN"))
			arn = xstrdup(env("AWS_ROLE_ARN"));
		else
			arn = prof_get(profile, "role_arn", CONF_BOTH, NULL);
		if (use_env && env("AWS_ROLE_SESSION_NAME"))
			sess = xstrdup(env("AWS_ROLE_SESSION_NAME"));
		else
			sess = prof_get(profile, "role_session_name",
			    CONF_BOTH, NULL);
		if (arn == NULL) {
			warnx("web identity: %s is set but no role: set "
			    "AWS_ROLE_ARN or role_arn in profile %s",
			    from_env ? "AWS_WEB_IDENTITY_TOKEN_FILE" :
			    "web_identity_token_file", profile);
			rc = DDB_EXIT_REFUSED;
		} else {
			r.profile = from_env ? NULL : profile;
			r.ep_profile = w->top;
			r.arn = arn;
			r.session = sess;
			rc = sts_web_identity(w->h, w->region, file, &r, c);
		}
		free(file);
		free(arn);
		free(sess);
		return rc;
	}
	if ((rc = creds_sso(w->h, profile, w->top, c)) != CREDS_NONE)
		return rc;
	if ((rc = static_keys(profile, CONF_CREDENTIALS, c)) != CREDS_NONE)
		return rc;
	if ((cmd = prof_get(profile, "credential_process", CONF_BOTH,
	    NULL)) != NULL) {
		rc = creds_process(profile, cmd, c);
		free(cmd);
		return rc;
	}
	return static_keys(profile, CONF_CONFIG, c);
}

static int
has_role(const char *profile)
{
	return prof_has(profile, "role_arn") &&
	    !prof_has(profile, "web_identity_token_file");
}

static int
has_static(const char *profile)
{
	return prof_has(profile, "aws_access_key_id") ||
	    prof_has(profile, "aws_secret_access_key");
}

static int
from_source(struct walk *w, const char *profile, const char *src,
    struct creds *c)
{
	int rc;

	if (strcmp(src, "Environment") == 0) {
		if (!env("AWS_ACCESS_KEY_ID") || !env("AWS_SECRET_ACCESS_KEY"))
			return bad_profile(profile,
			    "credential_source Environment: "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
			    "not both set");
		memset(c, 0, sizeof *c);
		c->akid = xstrdup(env("AWS_ACCESS_KEY_ID"));
		c->secret = xstrdup(env("AWS_SECRET_ACCESS_KEY"));
		if (env("AWS_SESSION_TOKEN"))
			c->token = xstrdup(env("AWS_SESSION_TOKEN"));
		c->source = "environment";
		return 0;
	}
	if (strcmp(src, "Ec2InstanceMetadata") == 0)
		rc = creds_imds(w->h, c, NULL, 0);
	else if (strcmp(src, "EcsContainer") == 0) {
		if (!env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
		    !env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
			return bad_profile(profile,
			    "credential_source EcsContainer: "
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI "
			    "is not set");
		rc = creds_container(w->h, c);
	} else {
		warnx("profile %s: credential_source %s is none of "
		    "Environment, Ec2InstanceMetadata, EcsContainer", profile,
		    src);
		return DDB_EXIT_REFUSED;
	}
	if (rc != 0)
		warnx("profile %s: credential_source %s gave no credentials",
		    profile, src);
	return rc;
}

/* the profile's role_arn, assumed with the credentials of its
 * source_profile (which may assume a role itself) or credential_source */
static int
assume(struct walk *w, const char *profile, struct creds *c)
{
	char *arn, *srcp, *csrc, *mfa, *ext, *sess, *dur;
	struct creds src = { 0 };
	struct sts_role r = { 0 };
	int rc = 0, i;

	arn = prof_get(profile, "role_arn", CONF_BOTH, NULL);
	srcp = prof_get(profile, "source_profile", CONF_BOTH, NULL);
	csrc = prof_get(profile, "credential_source", CONF_BOTH, NULL);
	mfa = prof_get(profile, "mfa_serial", CONF_BOTH, NULL);
	ext = prof_get(profile, "external_id", CONF_BOTH, NULL);
	sess = prof_get(profile, "role_session_name", CONF_BOTH, NULL);
	dur = prof_get(profile, "duration_seconds", CONF_BOTH, NULL);
	r.profile = profile;
	r.ep_profile = w->top;
	r.arn = arn;
	r.session = sess;
	r.external_id = ext;
	if (mfa)
		rc = bad_profile(profile,
		    "mfa_serial is set, and no one is here to "
		    "type an MFA code: use a role without MFA, or export "
		    "the keys of aws sts get-session-token");
	else if (srcp && csrc)
		rc = bad_profile(profile,
		    "both source_profile and credential_source "
		    "are set");
	else if (!srcp && !csrc)
		rc = bad_profile(profile, "role_arn needs source_profile or "
		    "credential_source");
	else if (dur) {
		if (ddb_long_arg(dur, 900, 43200, &r.duration) != 0)
			rc = bad_profile(profile,
			    "duration_seconds is not 900 to "
			    "43200");
	}
	if (rc == 0 && csrc)
		rc = from_source(w, profile, csrc, &src);
	else if (rc == 0) {
		int found = 0;

		free(prof_get(srcp, "region", CONF_BOTH, &found));
		for (i = 0; i < w->n; i++)
			if (strcmp(w->visited[i], srcp) == 0)
				break;
		if (!found) {
			warnx("profile %s: source_profile %s does not exist",
			    profile, srcp);
			rc = DDB_EXIT_REFUSED;
		} else if (i < w->n && (strcmp(srcp, profile) != 0 ||
		    !has_static(srcp))) {
			warnx("profile %s: source_profile %s makes a loop",
			    profile, srcp);
			rc = DDB_EXIT_REFUSED;
		} else if (w->n > CREDS_MAX_CHAIN) {
			warnx("profile %s: more than %d roles in a chain",
			    profile, CREDS_MAX_CHAIN);
			rc = DDB_EXIT_REFUSED;
		} else {
			w->visited[w->n++] = srcp;
			if (has_static(srcp) || !has_role(srcp)) {
				rc = providers(w, srcp, 0, &src);
				if (rc == CREDS_NONE) {
					warnx("profile %s: source_profile %s "
					    "has no credentials", profile,
					    srcp);
					rc = DDB_EXIT_REFUSED;
				}
			} else {
				rc = assume(w, srcp, &src);
			}
		}
	}
	if (rc == 0) {
		rc = sts_assume_role(w->h, w->region, &src, &r, c);
		creds_free(&src);
	}
	free(arn);
	free(srcp);
	free(csrc);
	free(mfa);
	free(ext);
	free(sess);
	free(dur);
	return rc;
}

/*
 * Everything between the environment's keys and the container endpoint:
 * the profile's role, web identity, SSO, the credentials file,
 * credential_process, the config file.  0, CREDS_NONE, or an exit status.
 */
int
creds_profile(struct http *h, const char *profile, int explicit_profile,
    struct creds *c)
{
	struct walk w = { 0 };
	int rc;

	w.h = h;
	w.region = creds_region(profile);
	w.top = profile;
	w.visited[w.n++] = profile;
	if (has_role(profile))
		rc = assume(&w, profile, c);
	else
		rc = providers(&w, profile, explicit_profile != 1, c);
	free(w.region);
	return rc;
}

/*
 * Credentials that expire are renewed CREDS_RENEW_MARGIN seconds before
 * they do (at half their lifetime if that is shorter), by walking the
 * chain again; force renews now (the service said ExpiredToken).  While
 * the old ones are still valid, a failed renewal is no failure: valid when
 * it has failed, not when it began (STS's retries can outlast them).
 */
int
creds_renew(struct http *h, struct creds *c, int force)
{
	struct creds fresh;
	time_t now = time(NULL), margin;
	char *profile;
	int rc;

	if (!force && c->expires == 0)
		return 0;
	margin = (c->expires - c->obtained) / 2;
	if (margin > CREDS_RENEW_MARGIN || margin < 0)
		margin = CREDS_RENEW_MARGIN;
	if (!force && now < c->expires - margin)
		return 0;
	profile = xstrdup(c->profile ? c->profile : "default");
	rc = creds_find(h, profile, c->explicit_profile, &fresh);
	free(profile);
	if (rc != 0) {
		if (!force && time(NULL) < c->expires)
			return 0;
		return rc;
	}
	if (h->verbose)
		warnx("credentials from %s renewed", fresh.source);
	creds_free(c);
	*c = fresh;
	return 0;
}
