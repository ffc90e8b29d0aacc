/* cmd_token_list.c - what `ctlsign token list` prints for each token: its slot, PIN flags
 * and objects, each certificate (subject, serial, fingerprints, validity) and its record
 * in a CTL; as text or JSON. (The command and its options: cmd_token.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "cmd_token.h"
#include "tool.h"

static void time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

static char *serial_hex(X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = bn ? BN_bn2hex(bn) : NULL, *out;

	BN_free(bn);
	if (!h)
		return NULL;
	for (char *c = h; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	out = strdup(h);
	OPENSSL_free(h);
	return out;
}

static struct json_object *cert_json(X509 *x, bool *expired)
{
	struct json_object *o = json_object_new_object();
	char *subj = ctl_name_string(X509_get_subject_name(x));
	char *iss = ctl_name_string(X509_get_issuer_name(x));
	char *sha1 = ctl_cert_fingerprint(x, CTL_HASH_SHA1);
	char *sha256 = ctl_cert_fingerprint(x, CTL_HASH_SHA256);
	char *ser = serial_hex(x);
	char nb[32], na[32];

	time_text(X509_get0_notBefore(x), nb, sizeof(nb));
	time_text(X509_get0_notAfter(x), na, sizeof(na));
	*expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ||
		   X509_cmp_current_time(X509_get0_notBefore(x)) > 0;
	json_object_object_add(o, "subject", json_object_new_string(subj ? subj : "?"));
	json_object_object_add(o, "issuer", json_object_new_string(iss ? iss : "?"));
	json_object_object_add(o, "serial", json_object_new_string(ser ? ser : "?"));
	json_object_object_add(o, "sha1", json_object_new_string(sha1 ? sha1 : "?"));
	json_object_object_add(o, "sha256", json_object_new_string(sha256 ? sha256 : "?"));
	json_object_object_add(o, "not_before", json_object_new_string(nb));
	json_object_object_add(o, "not_after", json_object_new_string(na));
	json_object_object_add(o, "expired", json_object_new_boolean(*expired));
	free(subj);
	free(iss);
	free(sha1);
	free(sha256);
	free(ser);
	return o;
}

/* The role of the record of ctl that is cert ("SAST", ...), or NULL (or no ctl). */
static const char *in_ctl(const struct ctl_file *ctl, X509 *cert)
{
	for (size_t i = 0; ctl && cert && i < ctl->nrecords; i++)
		if (ctl_record_is_cert(&ctl->records[i], cert))
			return ctl_role_name(ctl->records[i].role);
	return NULL;
}

static struct json_object *token_json(const struct token_info *ti, struct token_object *objs,
				      size_t nobj, const struct ctl_file *ctl)
{
	struct json_object *t = json_object_new_object(), *f = json_object_new_object();
	struct json_object *arr = json_object_new_array();

	json_object_object_add(t, "slot", json_object_new_uint64(ti->slot_id));
	json_object_object_add(t, "label", json_object_new_string(ti->label));
	json_object_object_add(t, "manufacturer", json_object_new_string(ti->manufacturer));
	json_object_object_add(t, "model", json_object_new_string(ti->model));
	json_object_object_add(t, "serial", json_object_new_string(ti->serial));
	json_object_object_add(f, "initialised",
			       json_object_new_boolean(ti->flags & TOKEN_F_INITIALIZED));
	json_object_object_add(f, "to_be_changed",
			       json_object_new_boolean(ti->flags & TOKEN_F_PIN_TO_BE_CHANGED));
	json_object_object_add(f, "count_low",
			       json_object_new_boolean(ti->flags & TOKEN_F_PIN_COUNT_LOW));
	json_object_object_add(f, "final_try",
			       json_object_new_boolean(ti->flags & TOKEN_F_PIN_FINAL_TRY));
	json_object_object_add(f, "locked", json_object_new_boolean(ti->flags & TOKEN_F_PIN_LOCKED));
	json_object_object_add(t, "pin_flags", f);
	json_object_object_add(t, "min_pin_len", json_object_new_uint64(ti->min_pin_len));
	json_object_object_add(t, "max_pin_len", json_object_new_uint64(ti->max_pin_len));
	for (size_t i = 0; i < nobj; i++) {
		struct json_object *o = json_object_new_object(), *w = json_object_new_array();
		bool expired = false;
		json_object_object_add(o, "label", json_object_new_string(objs[i].label));
		json_object_object_add(o, "id", json_object_new_string(objs[i].id_hex));
		json_object_object_add(o, "private_key", json_object_new_boolean(objs[i].has_private));
		json_object_object_add(o, "public_key", json_object_new_boolean(objs[i].has_public));
		json_object_object_add(o, "key_type", json_object_new_string(objs[i].key_type));
		json_object_object_add(o, "key_bits", json_object_new_int(objs[i].key_bits));
		if (objs[i].cert)
			json_object_object_add(o, "cert", cert_json(objs[i].cert, &expired));
		if (objs[i].cert && ctl) {
			const char *role = in_ctl(ctl, objs[i].cert);
			json_object_object_add(o, "in_ctl", role ? json_object_new_string(role) : NULL);
		}
		if ((objs[i].has_private || objs[i].has_public) && !objs[i].cert)
			json_object_array_add(w, json_object_new_string("no certificate"));
		if (expired)
			json_object_array_add(w, json_object_new_string("certificate expired"));
		json_object_object_add(o, "warnings", w);
		json_object_array_add(arr, o);
	}
	json_object_object_add(t, "objects", arr);
	return t;
}

static void token_text(const struct token_info *ti, struct token_object *objs, size_t nobj,
		       const struct ctl_file *ctl)
{
	char flags[128];

	token_flags_text(ti->flags, flags, sizeof(flags));
	printf("slot %lu: token '%s'\n  manufacturer %s, model %s, serial %s\n  PIN flags: %s "
	       "(PIN length %lu..%lu)\n",
	       ti->slot_id, ti->label, ti->manufacturer, ti->model, ti->serial, flags,
	       ti->min_pin_len, ti->max_pin_len);
	if (nobj == 0)
		printf("  no objects visible%s\n", " (private ones need --login)");
	for (size_t i = 0; i < nobj; i++) {
		const struct token_object *o = &objs[i];
		printf("  object '%s' id %s: %s%s%s-%d\n", o->label, o->id_hex[0] ? o->id_hex : "-",
		       o->has_private ? "private key, " : "", o->has_public ? "public key, " : "",
		       o->key_type, o->key_bits);
		if (o->cert) {
			bool expired = false;
			struct json_object *c = cert_json(o->cert, &expired);
#define S(k) json_object_get_string(json_object_object_get(c, k))
			printf("    certificate %s\n      serial %s\n      SHA-1 %s\n      valid %s "
			       "to %s%s\n",
			       S("subject"), S("serial"), S("sha1"), S("not_before"), S("not_after"),
			       expired ? "  ** EXPIRED **" : "");
#undef S
			json_object_put(c);
			if (ctl) {
				const char *role = in_ctl(ctl, o->cert);
				if (role)
					printf("      in the current CTL: %s record\n", role);
				else
					printf("      not in the current CTL\n");
			}
		} else if (o->has_private || o->has_public) {
			printf("    ** no certificate for this key **\n");
		}
	}
}

int token_list_print(struct token_module *m, const struct token_info *v, size_t n,
		     const struct token_opts *login, const struct ctl_file *ctl, bool json)
{
	struct json_object *arr = json_object_new_array();
	struct ctl_err err = {0};
	int rc = CTL_OK;

	for (size_t i = 0; i < n; i++) {
		struct token_object *objs = NULL;
		size_t nobj = 0;
		if (!(v[i].flags & TOKEN_F_INITIALIZED)) {
			if (!json)
				printf("slot %lu: token not initialised\n", v[i].slot_id);
			else
				json_object_array_add(arr, token_json(&v[i], NULL, 0, ctl));
			continue;
		}
		if (token_list_objects(m, &v[i], login, &objs, &nobj, &err) != CTL_OK) {
			rc = tool_report(&err);
			continue;
		}
		if (json)
			json_object_array_add(arr, token_json(&v[i], objs, nobj, ctl));
		else
			token_text(&v[i], objs, nobj, ctl);
		token_objects_free(objs, nobj);
	}
	if (json)
		tool_json_print(arr);
	else
		json_object_put(arr);
	return rc;
}
