/* p11_objects.c - keys and certificates on a token (see p11.h). */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

static bool same_obj(const struct p11_pair *p, const char *label, const unsigned char *id,
		     size_t id_len)
{
	if (id_len || p->id_len)
		return id_len == p->id_len && memcmp(id, p->id, id_len) == 0;
	return label && p->label && strcmp(label, p->label) == 0;
}

static struct p11_pair *pair_for(struct p11_pair **v, size_t *n, size_t *cap, const char *label,
				 const unsigned char *id, size_t id_len)
{
	struct p11_pair *p;

	for (size_t i = 0; i < *n; i++)
		if (same_obj(&(*v)[i], label, id, id_len))
			return &(*v)[i];
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct p11_pair *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	p = &(*v)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->label = strdup(label ? label : "");
	if (id_len) {
		p->id = malloc(id_len);
		if (p->id)
			memcpy(p->id, id, id_len);
		p->id_len = id_len;
	}
	if (!p->label || (id_len && !p->id))
		return NULL;
	return p;
}

/* Key type and size read from the key object itself (PKCS11_get_public_key of libp11
 * 0.4.12 leaks, and a key may have no certificate to read them from). */
static void key_size(struct p11_module *m, CK_SLOT_ID slot, struct p11_pair *p)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h = 0;
	CK_KEY_TYPE kt = 0;
	unsigned char buf[1024];
	CK_ATTRIBUTE a[2] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_MODULUS, buf, sizeof(buf)}};
	struct ctl_err e;

	if (m->fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return;
	for (int i = 0; i < 2 && !h; i++)
		if (p11_find_object(m, s, i ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, p->id, p->id_len,
				    p->id_len ? NULL : p->label, &h, &e) != CTL_OK)
			h = 0;
	if (h && m->fl->C_GetAttributeValue(s, h, a, 1) == CKR_OK) {
		if (kt == CKK_RSA) {
			p->key_type = EVP_PKEY_RSA;
			if (m->fl->C_GetAttributeValue(s, h, &a[1], 1) == CKR_OK &&
			    a[1].ulValueLen <= sizeof(buf)) {
				size_t n = a[1].ulValueLen, z = 0;
				while (z < n && buf[z] == 0)
					z++;
				p->key_bits = z < n ? (int)((n - z) * 8) - __builtin_clz(buf[z]) + 24 : 0;
			}
		} else if (kt == CKK_EC) {
			CK_ATTRIBUTE ep = {CKA_EC_PARAMS, buf, sizeof(buf)};
			p->key_type = EVP_PKEY_EC;
			if (m->fl->C_GetAttributeValue(s, h, &ep, 1) == CKR_OK) {
				const unsigned char *q = buf;
				ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &q, (long)ep.ulValueLen);
				EC_GROUP *g = oid ? EC_GROUP_new_by_curve_name(OBJ_obj2nid(oid)) : NULL;
				if (g)
					p->key_bits = EC_GROUP_get_degree(g);
				EC_GROUP_free(g);
				ASN1_OBJECT_free(oid);
			}
		}
	}
	m->fl->C_CloseSession(s);
}

int p11_list_pairs(struct p11_module *m, PKCS11_SLOT *slot, struct p11_pair **out, size_t *n,
		   struct ctl_err *err)
{
	PKCS11_KEY *keys = NULL;
	PKCS11_CERT *certs = NULL;
	unsigned int nk = 0, nc = 0;
	struct p11_pair *v = NULL, *p;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (!slot->token)
		return ctl_fail(err, CTL_E_TOKEN, "slot has no token");
	for (int pass = 0; pass < 2; pass++) {
		int r = pass == 0 ? PKCS11_enumerate_keys(slot->token, &keys, &nk)
				  : PKCS11_enumerate_public_keys(slot->token, &keys, &nk);
		if (r < 0)
			goto fail_enum;
		for (unsigned int i = 0; i < nk; i++) {
			p = pair_for(&v, &cnt, &cap, keys[i].label, keys[i].id, keys[i].id_len);
			if (!p)
				goto nomem;
			if (pass == 0)
				p->has_private = true;
			else
				p->has_public = true;
		}
	}
	if (PKCS11_enumerate_certs(slot->token, &certs, &nc) < 0)
		goto fail_enum;
	for (unsigned int i = 0; i < nc; i++) {
		p = pair_for(&v, &cnt, &cap, certs[i].label, certs[i].id, certs[i].id_len);
		if (!p)
			goto nomem;
		if (!p->cert && certs[i].x509) {
			p->cert = X509_dup(certs[i].x509);
			if (!p->cert)
				goto nomem;
		}
		if (!p->key_bits && p->cert) {
			EVP_PKEY *pk = X509_get0_pubkey(p->cert);
			if (pk) {
				p->key_type = EVP_PKEY_get_base_id(pk);
				p->key_bits = EVP_PKEY_get_bits(pk);
			}
		}
	}
	for (size_t i = 0; i < cnt; i++)
		if (!v[i].key_bits && (v[i].has_private || v[i].has_public))
			key_size(m, PKCS11_get_slotid_from_slot(slot), &v[i]);
	*out = v;
	*n = cnt;
	return CTL_OK;
fail_enum:
	p11_pairs_free(v, cnt);
	return ctl_fail(err, CTL_E_TOKEN, "cannot read the objects on token '%s' (removed?)",
			slot->token->label);
nomem:
	p11_pairs_free(v, cnt);
	return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
}

void p11_pairs_free(struct p11_pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].id);
		X509_free(v[i].cert);
	}
	free(v);
}

int p11_find_object(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		    const unsigned char *id, size_t id_len, const char *label,
		    CK_OBJECT_HANDLE *found, struct ctl_err *err)
{
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0, cnt = 0;
	CK_RV rv;

	*found = 0;
	tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	if (id_len)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, id_len};
	if (label)
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, strlen(label)};
	rv = m->fl->C_FindObjectsInit(s, tmpl, nt);
	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "C_FindObjectsInit: %s", p11_rv_name(rv));
	rv = m->fl->C_FindObjects(s, found, 1, &cnt);
	m->fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "C_FindObjects: %s", p11_rv_name(rv));
	if (cnt == 0)
		*found = 0;
	return CTL_OK;
}

int p11_destroy_label(struct p11_module *m, CK_SESSION_HANDLE s, const char *label,
		      struct ctl_err *err)
{
	CK_ATTRIBUTE tmpl[1] = {{CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h[16];
	CK_ULONG cnt = 0;
	CK_RV rv;

	for (;;) {
		rv = m->fl->C_FindObjectsInit(s, tmpl, 1);
		if (rv != CKR_OK)
			return ctl_fail(err, CTL_E_TOKEN, "C_FindObjectsInit: %s", p11_rv_name(rv));
		rv = m->fl->C_FindObjects(s, h, 16, &cnt);
		m->fl->C_FindObjectsFinal(s);
		if (rv != CKR_OK)
			return ctl_fail(err, CTL_E_TOKEN, "C_FindObjects: %s", p11_rv_name(rv));
		if (cnt == 0)
			return CTL_OK;
		for (CK_ULONG i = 0; i < cnt; i++) {
			rv = m->fl->C_DestroyObject(s, h[i]);
			if (rv != CKR_OK)
				return ctl_fail(err, CTL_E_TOKEN, "cannot delete object '%s': %s",
						label, p11_rv_name(rv));
		}
	}
}
