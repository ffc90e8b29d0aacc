/* p11_keygen.c - RSA key pairs generated on the token, certificates stored on it. */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
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

int p11_generate_rsa(struct p11_module *m, CK_SESSION_HANDLE s, unsigned bits,
		     const char *label, const unsigned char *id, size_t id_len,
		     CK_OBJECT_HANDLE *priv, EVP_PKEY **pub, struct ctl_err *err)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG mbits = bits;
	CK_BYTE exp[] = {0x01, 0x00, 0x01};
	CK_KEY_TYPE kt = CKK_RSA;
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE pubt[] = {
		{CKA_CLASS, &pubc, sizeof(pubc)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &no, sizeof(no)},
		{CKA_VERIFY, &yes, sizeof(yes)},
		{CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_WRAP, &no, sizeof(no)},
		{CKA_MODULUS_BITS, &mbits, sizeof(mbits)},
		{CKA_PUBLIC_EXPONENT, exp, sizeof(exp)},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_ID, (void *)id, id_len},
	};
	CK_ATTRIBUTE privt[] = {
		{CKA_CLASS, &privc, sizeof(privc)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_LABEL, (void *)label, strlen(label)},
		{CKA_ID, (void *)id, id_len},
	};
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
	unsigned char n[1024], e[16];
	CK_ATTRIBUTE get[] = {{CKA_MODULUS, n, sizeof(n)}, {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
	CK_RV rv;

	*pub = NULL;
	rv = m->fl->C_GenerateKeyPair(s, &mech, pubt, sizeof(pubt) / sizeof(pubt[0]), privt,
				      sizeof(privt) / sizeof(privt[0]), &hpub, &hpriv);
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
	rv = m->fl->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &h);
	if (rv != CKR_OK)
		rc = ctl_fail(err, CTL_E_TOKEN, "cannot store the certificate on the token: %s",
			      p11_rv_name(rv));
out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return rc;
}
