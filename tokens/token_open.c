/* token_open.c - logging in to a token, finding its key pair, signing with it. */
#include "token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "bytes.h"

static void flags_now(struct token_module *m, const struct token_info *ti, char *buf, size_t len)
{
	CK_TOKEN_INFO ck;
	struct ctl_err e;

	if (p11_token_info(m->p, ti->slot_id, &ck, &e) != CTL_OK) {
		snprintf(buf, len, "the token cannot be read any more");
		return;
	}
	if (ck.flags & CKF_USER_PIN_LOCKED)
		snprintf(buf, len, "the token is now LOCKED; " TOKEN_LOCKED_ADVICE);
	else if (ck.flags & CKF_USER_PIN_FINAL_TRY)
		snprintf(buf, len, "ONE try left: the next wrong PIN locks the token");
	else if (ck.flags & CKF_USER_PIN_COUNT_LOW)
		snprintf(buf, len, "few tries left (count-low)");
	else
		snprintf(buf, len, "the token reports no retry warning");
}

int token_read_pin(const struct token_info *ti, const struct token_opts *o,
		   const struct p11_uri *u, const char *what, char **pin, struct ctl_err *err)
{
	char prompt[160];

	snprintf(prompt, sizeof(prompt), "%s for token '%s' (serial %s): ", what, ti->label,
		 ti->serial);
	if (o->pin)
		return token_pin_read(o->pin, false, prompt, pin, err);
	if (u && u->pin_source)
		return token_pin_read(u->pin_source, true, prompt, pin, err);
	return token_pin_read(NULL, false, prompt, pin, err);
}

int token_login_pin(struct token_module *m, const struct token_info *ti, const char *pin,
		    bool rw, CK_SESSION_HANDLE *login, struct ctl_err *err)
{
	char now[400];
	CK_SESSION_HANDLE s;
	CK_RV rv;

	*login = CK_INVALID_HANDLE;
	rv = m->p->fl->C_OpenSession(ti->slot_id, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0),
				     NULL, NULL, &s);
	if (rv != CKR_OK) {
		if (p11_rv_removed(rv))
			return ctl_fail(err, CTL_E_TOKEN, "token '%s' was removed", ti->label);
		return ctl_fail(err, CTL_E_TOKEN, "cannot open a session on token '%s': %s",
				ti->label, p11_rv_name(rv));
	}
	rv = m->p->fl->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	if (rv == CKR_OK) {
		*login = s;
		return CTL_OK;
	}
	m->p->fl->C_CloseSession(s);
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		flags_now(m, ti, now, sizeof(now));
		return ctl_fail(err, CTL_E_TOKEN, "wrong PIN for token '%s' (serial %s); %s",
				ti->label, ti->serial, now);
	case CKR_PIN_LOCKED:
		return ctl_fail(err, CTL_E_TOKEN,
				"token '%s' (serial %s) is locked; " TOKEN_LOCKED_ADVICE,
				ti->label, ti->serial);
	case CKR_PIN_EXPIRED:
		return ctl_fail(err, CTL_E_POLICY,
				"the PIN of token '%s' has expired: run 'ctlsign token passwd'",
				ti->label);
	default:
		if (p11_rv_removed(rv))
			return ctl_fail(err, CTL_E_TOKEN, "token '%s' was removed", ti->label);
		return ctl_fail(err, CTL_E_TOKEN, "login to token '%s' failed: %s", ti->label,
				p11_rv_name(rv));
	}
}

int token_login(struct token_module *m, const struct token_info *ti, const struct token_opts *o,
		const struct p11_uri *u, bool rw, CK_SESSION_HANDLE *login, char **pin_out,
		struct ctl_err *err)
{
	char *pin = NULL;
	int rc;

	*login = CK_INVALID_HANDLE;
	if (pin_out)
		*pin_out = NULL;
	if ((rc = token_check_retry_flags(ti, o->final_try, err)) != CTL_OK)
		return rc;
	if ((rc = token_read_pin(ti, o, u, "PIN", &pin, err)) != CTL_OK)
		return rc;
	rc = token_login_pin(m, ti, pin, rw, login, err);
	if (rc == CTL_OK && pin_out)
		*pin_out = pin;
	else
		token_pin_free(pin);
	return rc;
}

void token_logout(struct token_module *m, CK_SESSION_HANDLE login)
{
	if (login == CK_INVALID_HANDLE)
		return;
	m->p->fl->C_Logout(login);
	m->p->fl->C_CloseSession(login);
}

static bool pair_matches(const struct p11_pair *p, const struct p11_uri *u)
{
	if (!u)
		return true;
	if (u->object && strcmp(u->object, p->label))
		return false;
	if (u->has_id && (u->id_len != p->id_len || memcmp(u->id, p->id, u->id_len)))
		return false;
	return true;
}

static int sign_cb(void *ctx, int hash_alg, const uint8_t *digest, size_t digest_len,
		   struct cbb *sig, struct ctl_err *err)
{
	struct token *t = ctx;
	unsigned char buf[1024];
	size_t len = sizeof(buf);
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int nid;

	switch (hash_alg) {
	case CTL_HASH_SHA1: nid = NID_sha1; break;
	case CTL_HASH_SHA256: nid = NID_sha256; break;
	case CTL_HASH_SHA512: nid = NID_sha512; break;
	default:
		return ctl_fail(err, CTL_E_UNSUPPORTED, "hash algorithm %d cannot be signed", hash_alg);
	}
	rv = p11_pool_get(t->pool, &s);
	if (rv == CKR_OK) {
		rv = p11_sign_digest(t->m->p, s, t->key, nid, digest, digest_len, buf, &len);
		p11_pool_put(t->pool, s, rv == CKR_OK);
	}
	if (rv != CKR_OK) {
		if (p11_rv_removed(rv) || p11_token_gone(t->m->p, t->slot))
			return ctl_fail(err, CTL_E_TOKEN,
					"token '%s' (serial %s) was removed: put it back and start again",
					t->info.label, t->info.serial);
		if (rv == CKR_USER_NOT_LOGGED_IN)
			return ctl_fail(err, CTL_E_TOKEN,
					"token '%s' (serial %s) was removed or reset (logged out): put it "
					"back and start again",
					t->info.label, t->info.serial);
		return ctl_fail(err, CTL_E_TOKEN, "token '%s' could not sign: %s", t->info.label,
				p11_rv_name(rv));
	}
	if (!cbb_add_bytes(sig, buf, len))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	return CTL_OK;
}

/* The one key pair (with private key) the URI names, or the only one on the token. */
static int pick_pair(struct p11_pair *v, size_t n, const struct p11_uri *u,
		     const struct token_info *ti, struct p11_pair **out, struct ctl_err *err)
{
	char names[300] = "";
	size_t hits = 0, off = 0;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_private || !pair_matches(&v[i], u))
			continue;
		hits++;
		*out = &v[i];
		int w = snprintf(names + off, sizeof(names) - off, "%s'%s'", off ? ", " : "",
				 v[i].label);
		if (w > 0 && (size_t)w < sizeof(names) - off)
			off += (size_t)w;
	}
	if (hits == 0)
		return ctl_fail(err, CTL_E_TOKEN,
				"token '%s' holds no private key%s: provision one with 'ctlsign token "
				"provision'",
				ti->label, u && (u->object || u->has_id) ? " matching the URI" : "");
	if (hits > 1)
		return ctl_fail(err, CTL_E_TOKEN,
				"token '%s' holds %zu private keys (%s): name one with "
				"pkcs11:token=%s;object=LABEL",
				ti->label, hits, names, ti->label);
	if (!(*out)->cert)
		return ctl_fail(err, CTL_E_TOKEN,
				"key '%s' on token '%s' has no certificate (same CKA_ID): provision "
				"the token again",
				(*out)->label, ti->label);
	return CTL_OK;
}

/* The token of the URI selected and logged in (t->info, t->slot, t->login), with the PIN
 * rules: retry flags, and no factory PIN. */
static int open_login(struct token_module *m, const struct token_opts *o, struct p11_uri *up,
		      struct token *t, struct ctl_err *err)
{
	char *pin = NULL;
	int rc;

	/* libp11's view of the slots must be fresh before we hold sessions (see p11.h). */
	if ((rc = p11_module_refresh(m->p, false, err)) != CTL_OK)
		return rc;
	if ((rc = token_select_uri(m, up, &t->info, err)) != CTL_OK)
		return rc;
	t->slot = t->info.slot_id;
	if ((rc = token_check_not_default(&t->info, NULL, o->factory_pin, err)) != CTL_OK)
		return rc;
	if ((rc = token_login(m, &t->info, o, up, false, &t->login, &pin, err)) != CTL_OK)
		return rc;
	rc = token_check_not_default(&t->info, pin, o->factory_pin, err);
	token_pin_free(pin);
	return rc;
}

/* The signing key of the URI on the logged-in token (t->key), its certificate into
 * t->info (with its SHA-1), its size. */
static int open_key(struct token_module *m, const struct p11_uri *up, struct token *t,
		    struct ctl_err *err)
{
	struct p11_pair *pairs = NULL, *pair;
	size_t npairs = 0;
	PKCS11_SLOT *slot = p11_slot_by_id(m->p, t->slot);
	unsigned char md[20];
	unsigned int mdlen = 0;
	int rc;

	if (!slot)
		return ctl_fail(err, CTL_E_TOKEN, "token '%s' is not in the module's slot list any more",
				t->info.label);
	if ((rc = p11_list_pairs(m->p, slot, &pairs, &npairs, err)) != CTL_OK)
		goto out;
	if ((rc = pick_pair(pairs, npairs, up, &t->info, &pair, err)) != CTL_OK)
		goto out;
	if ((rc = p11_find_object(m->p, t->login, CKO_PRIVATE_KEY, pair->id, pair->id_len,
				  pair->id_len ? NULL : pair->label, &t->key, err)) != CTL_OK)
		goto out;
	if (!t->key) {
		rc = ctl_fail(err, CTL_E_TOKEN, "private key '%s' vanished from token '%s'",
			      pair->label, t->info.label);
		goto out;
	}
	X509_free(t->info.cert);
	t->info.cert = pair->cert;
	pair->cert = NULL;
	if (X509_digest(t->info.cert, EVP_sha1(), md, &mdlen) == 1 && mdlen == 20)
		ctl_hex_to(md, 20, t->info.cert_sha1);
	t->key_bits = pair->key_bits;
out:
	p11_pairs_free(pairs, npairs);
	return rc;
}

int token_open(struct token_module *m, const struct token_opts *o, struct token **out,
	       struct ctl_err *err)
{
	struct p11_uri u, *up = NULL;
	struct token *t;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	t->m = m;
	t->login = CK_INVALID_HANDLE;
	if (o->uri) {
		if ((rc = p11_uri_parse(o->uri, &u, err)) != CTL_OK) {
			free(t);
			return rc;
		}
		up = &u;
	}
	if ((rc = open_login(m, o, up, t, err)) != CTL_OK ||
	    (rc = open_key(m, up, t, err)) != CTL_OK)
		goto fail;
	t->pool = p11_pool_new(m->p, t->slot);
	if (!t->pool) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto fail;
	}
	t->signer.cert = t->info.cert;
	t->signer.sign = sign_cb;
	t->signer.ctx = t;
	m->p->open_tokens++;
	if (up)
		p11_uri_clear(up);
	*out = t;
	return CTL_OK;
fail:
	if (up)
		p11_uri_clear(up);
	token_logout(m, t->login);
	token_info_clear(&t->info);
	free(t);
	return rc;
}

void token_close(struct token *t)
{
	if (!t)
		return;
	p11_pool_free(t->pool);
	token_logout(t->m, t->login);
	t->m->p->open_tokens--;
	token_info_clear(&t->info);
	free(t);
}

const struct ctl_signer *token_signer(struct token *t)
{
	return &t->signer;
}

X509 *token_cert(const struct token *t)
{
	return t->info.cert;
}

const struct token_info *token_get_info(const struct token *t)
{
	return &t->info;
}

int token_list_objects(struct token_module *m, const struct token_info *ti,
		       const struct token_opts *login_opts, struct token_object **out, size_t *n,
		       struct ctl_err *err)
{
	CK_SESSION_HANDLE login = CK_INVALID_HANDLE;
	struct p11_pair *pairs = NULL;
	size_t np = 0;
	struct token_object *v = NULL;
	struct p11_uri u, *up = NULL;
	PKCS11_SLOT *slot;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = p11_module_refresh(m->p, false, err)) != CTL_OK)
		return rc;
	slot = p11_slot_by_id(m->p, ti->slot_id);
	if (!slot)
		return ctl_fail(err, CTL_E_TOKEN, "token '%s' is gone", ti->label);
	if (login_opts) {
		if (login_opts->uri) {
			if ((rc = p11_uri_parse(login_opts->uri, &u, err)) != CTL_OK)
				return rc;
			up = &u;
		}
		rc = token_login(m, ti, login_opts, up, false, &login, NULL, err);
		if (up)
			p11_uri_clear(up);
		if (rc != CTL_OK)
			return rc;
	}
	rc = p11_list_pairs(m->p, slot, &pairs, &np, err);
	if (rc == CTL_OK && !(v = calloc(np ? np : 1, sizeof(*v))))
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	for (size_t i = 0; rc == CTL_OK && i < np; i++) {
		v[i].label = pairs[i].label;
		pairs[i].label = NULL;
		v[i].id_hex = malloc(pairs[i].id_len * 2 + 1);
		if (!v[i].id_hex) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			break;
		}
		ctl_hex_to(pairs[i].id, pairs[i].id_len, v[i].id_hex);
		v[i].has_private = pairs[i].has_private;
		v[i].has_public = pairs[i].has_public;
		v[i].key_type = pairs[i].key_type == EVP_PKEY_RSA ? "RSA"
				: pairs[i].key_type == EVP_PKEY_EC ? "EC"
								   : "?";
		v[i].key_bits = pairs[i].key_bits;
		v[i].cert = pairs[i].cert;
		pairs[i].cert = NULL;
	}
	token_logout(m, login);
	p11_pairs_free(pairs, np);
	if (rc != CTL_OK) {
		token_objects_free(v, np);
		return rc;
	}
	*out = v;
	*n = np;
	return CTL_OK;
}

void token_objects_free(struct token_object *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].id_hex);
		X509_free(v[i].cert);
	}
	free(v);
}
