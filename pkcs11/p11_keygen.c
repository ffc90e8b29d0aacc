/* p11_keygen.c - RSA key pairs generated on the token, certificates stored on it. */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>

static EVP_PKEY *rsa_from_parts(const unsigned char *n, size_t nlen, const unsigned char *e,
				size_t elen)
{
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* The attributes every RSA key this module puts on a token carries, the same for generated
 * and imported keys: on the token, with label and id; the private half private, sensitive,
 * not extractable and for signing only, the public half public and for verifying only.
 * Fills t (room for KEY_ATTRS_PRIV or KEY_ATTRS_PUB entries) with values pointing into *v,
 * which must outlive t; returns the count. */
enum { KEY_ATTRS_PRIV = 11, KEY_ATTRS_PUB = 9 };
struct key_vals {
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE kt;
	CK_BBOOL yes, no;
};

static CK_ULONG key_attrs(CK_ATTRIBUTE *t, struct key_vals *v, bool priv, const char *label,
			  const unsigned char *id, size_t id_len)
{
	CK_ULONG n = 0;

	*v = (struct key_vals){priv ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, CKK_RSA, CK_TRUE, CK_FALSE};
	t[n++] = (CK_ATTRIBUTE){CKA_CLASS, &v->cls, sizeof(v->cls)};
	t[n++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &v->kt, sizeof(v->kt)};
	t[n++] = (CK_ATTRIBUTE){CKA_TOKEN, &v->yes, sizeof(v->yes)};
	if (priv) {
		t[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, &v->yes, sizeof(v->yes)};
		t[n++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &v->yes, sizeof(v->yes)};
		t[n++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &v->no, sizeof(v->no)};
		t[n++] = (CK_ATTRIBUTE){CKA_SIGN, &v->yes, sizeof(v->yes)};
		t[n++] = (CK_ATTRIBUTE){CKA_DECRYPT, &v->no, sizeof(v->no)};
		t[n++] = (CK_ATTRIBUTE){CKA_UNWRAP, &v->no, sizeof(v->no)};
	} else {
		t[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, &v->no, sizeof(v->no)};
		t[n++] = (CK_ATTRIBUTE){CKA_VERIFY, &v->yes, sizeof(v->yes)};
		t[n++] = (CK_ATTRIBUTE){CKA_ENCRYPT, &v->no, sizeof(v->no)};
		t[n++] = (CK_ATTRIBUTE){CKA_WRAP, &v->no, sizeof(v->no)};
	}
	t[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, strlen(label)};
	t[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, id_len};
	return n;
}

int p11_generate_rsa(struct p11_module *m, CK_SESSION_HANDLE s, unsigned bits,
		     const char *label, const unsigned char *id, size_t id_len,
		     CK_OBJECT_HANDLE *priv, EVP_PKEY **pub, struct ctl_err *err)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ULONG mbits = bits;
	CK_BYTE exp[] = {0x01, 0x00, 0x01};
	struct key_vals pubv, privv;
	CK_ATTRIBUTE pubt[KEY_ATTRS_PUB + 2], privt[KEY_ATTRS_PRIV];
	CK_ULONG npub = key_attrs(pubt, &pubv, false, label, id, id_len),
		 npriv = key_attrs(privt, &privv, true, label, id, id_len);
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
	unsigned char n[1024], e[16];
	CK_ATTRIBUTE get[] = {{CKA_MODULUS, n, sizeof(n)}, {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
	CK_RV rv;

	pubt[npub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &mbits, sizeof(mbits)};
	pubt[npub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, exp, sizeof(exp)};
	*pub = NULL;
	rv = m->fl->C_GenerateKeyPair(s, &mech, pubt, npub, privt, npriv, &hpub, &hpriv);
	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "the token could not generate an RSA-%u key pair: %s",
				bits, p11_rv_name(rv));
	rv = m->fl->C_GetAttributeValue(s, hpub, get, 2);
	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "cannot read the new public key: %s",
				p11_rv_name(rv));
	*pub = rsa_from_parts(n, get[0].ulValueLen, e, get[1].ulValueLen);
	if (!*pub)
		return ctl_fail(err, CTL_E_INTERNAL, "cannot build the public key from the token");
	*priv = hpriv;
	return CTL_OK;
}

int p11_store_cert(struct p11_module *m, CK_SESSION_HANDLE s, X509 *cert, const char *label,
		   const unsigned char *id, size_t id_len, struct ctl_err *err)
{
	CK_OBJECT_HANDLE h;

	return p11_store_cert_h(m, s, cert, label, id, id_len, &h, err);
}

int p11_store_cert_h(struct p11_module *m, CK_SESSION_HANDLE s, X509 *cert, const char *label,
		     const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *hout,
		     struct ctl_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int dlen = i2d_X509(cert, &der);
	int slen = i2d_X509_NAME(X509_get_subject_name(cert), &subj);
	int ilen = i2d_X509_NAME(X509_get_issuer_name(cert), &iss);
	int serlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &ser);
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	int rc = CTL_OK;

	if (dlen <= 0 || slen <= 0 || ilen <= 0 || serlen <= 0) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot encode the certificate");
		goto out;
	}
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_ID, (void *)id, id_len},
		{CKA_SUBJECT, subj, (CK_ULONG)slen},
		{CKA_ISSUER, iss, (CK_ULONG)ilen},
		{CKA_SERIAL_NUMBER, ser, (CK_ULONG)serlen},
		{CKA_VALUE, der, (CK_ULONG)dlen},
	};
	*hout = CK_INVALID_HANDLE;
	rv = m->fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h);
	if (rv != CKR_OK)
		rc = ctl_fail(err, CTL_E_TOKEN, "cannot store the certificate on the token: %s",
			      p11_rv_name(rv));
	else
		*hout = h;
out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return rc;
}

/* One RSA component as big-endian bytes in buf (wiped by the caller). */
static bool rsa_part(const EVP_PKEY *key, const char *name, unsigned char *buf, size_t cap,
		     CK_ATTRIBUTE *a, CK_ATTRIBUTE_TYPE type)
{
	BIGNUM *bn = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(key, name, &bn))
		return false;
	n = BN_num_bytes(bn);
	if (n <= 0 || (size_t)n > cap || BN_bn2bin(bn, buf) != n) {
		BN_clear_free(bn);
		return false;
	}
	BN_clear_free(bn);
	*a = (CK_ATTRIBUTE){type, buf, (CK_ULONG)n};
	return true;
}

int p11_import_rsa(struct p11_module *m, CK_SESSION_HANDLE s, const EVP_PKEY *key,
		   const char *label, const unsigned char *id, size_t id_len,
		   CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub, struct ctl_err *err)
{
	enum { CAP = 512, NPARTS = 8 };
	static const struct {
		const char *name;
		CK_ATTRIBUTE_TYPE type;
	} parts[NPARTS] = {
		{OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS},
		{OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT},
		{OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT},
		{OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1},
		{OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2},
		{OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1},
		{OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2},
		{OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT},
	};
	struct key_vals privv, pubv;
	unsigned char *buf = OPENSSL_secure_zalloc(CAP * NPARTS);
	CK_ATTRIBUTE t[KEY_ATTRS_PRIV + NPARTS];
	CK_ULONG nt = 0;
	CK_RV rv;
	int rc = CTL_OK;

	*priv = *pub = CK_INVALID_HANDLE;
	if (!buf)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	nt = key_attrs(t, &privv, true, label, id, id_len);
	for (size_t i = 0; i < NPARTS; i++)
		if (!rsa_part(key, parts[i].name, buf + i * CAP, CAP, &t[nt++], parts[i].type)) {
			rc = ctl_fail(err, CTL_E_UNSUPPORTED,
				      "the RSA key lacks its CRT components (or is larger than 4096 "
				      "bits); nothing was written to the token");
			goto out;
		}
	rv = m->fl->C_CreateObject(s, t, nt, priv);
	if (rv != CKR_OK) {
		*priv = CK_INVALID_HANDLE;
		rc = ctl_fail(err, CTL_E_TOKEN, "the token refused the private key: %s",
			      p11_rv_name(rv));
		goto out;
	}
	/* The public half (modulus and exponent, the first two parts), as provision makes. */
	{
		CK_ATTRIBUTE pt[KEY_ATTRS_PUB + 2];
		CK_ULONG npt = key_attrs(pt, &pubv, false, label, id, id_len);

		pt[npt++] = t[KEY_ATTRS_PRIV];
		pt[npt++] = t[KEY_ATTRS_PRIV + 1];
		rv = m->fl->C_CreateObject(s, pt, npt, pub);
		if (rv != CKR_OK) {
			*pub = CK_INVALID_HANDLE;
			rc = ctl_fail(err, CTL_E_TOKEN, "the token refused the public key: %s",
				      p11_rv_name(rv));
		}
	}
out:
	OPENSSL_secure_clear_free(buf, CAP * NPARTS);
	return rc;
}

int p11_key_protected(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		      struct ctl_err *err)
{
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE, tok = CK_FALSE, priv = CK_FALSE,
		 sign = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{CKA_SENSITIVE, &sens, sizeof(sens)}, {CKA_EXTRACTABLE, &extr, sizeof(extr)},
		{CKA_TOKEN, &tok, sizeof(tok)},       {CKA_PRIVATE, &priv, sizeof(priv)},
		{CKA_SIGN, &sign, sizeof(sign)},
	};
	CK_RV rv = m->fl->C_GetAttributeValue(s, key, a, sizeof(a) / sizeof(a[0]));

	if (rv != CKR_OK)
		return ctl_fail(err, CTL_E_TOKEN, "cannot read the new key's attributes: %s",
				p11_rv_name(rv));
	if (!sens || extr || !tok || !priv || !sign)
		return ctl_fail(err, CTL_E_TOKEN,
				"the token did not keep the key as asked (sensitive %s, extractable "
				"%s, token %s, private %s, sign %s): removed it again",
				sens ? "yes" : "no", extr ? "yes" : "no", tok ? "yes" : "no",
				priv ? "yes" : "no", sign ? "yes" : "no");
	return CTL_OK;
}
