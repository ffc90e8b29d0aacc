/* p11_sign.c - RSA PKCS#1 v1.5 signing on the token through a pool of sessions, so
 * that several threads can sign at once (PKCS#11 allows one operation per session;
 * the login state is shared by all sessions of the application). */
#include "p11.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#define POOL_MAX_IDLE 32

struct p11_pool {
	struct p11_module *m;
	CK_SLOT_ID slot;
	pthread_mutex_t lock;
	CK_SESSION_HANDLE idle[POOL_MAX_IDLE];
	size_t nidle;
};

struct p11_pool *p11_pool_new(struct p11_module *m, CK_SLOT_ID slot)
{
	struct p11_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return NULL;
	}
	p->m = m;
	p->slot = slot;
	return p;
}

void p11_pool_free(struct p11_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		p->m->fl->C_CloseSession(p->idle[i]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

CK_RV p11_pool_get(struct p11_pool *p, CK_SESSION_HANDLE *s)
{
	bool have = false;

	pthread_mutex_lock(&p->lock);
	if (p->nidle > 0) {
		*s = p->idle[--p->nidle];
		have = true;
	}
	pthread_mutex_unlock(&p->lock);
	if (have)
		return CKR_OK;
	return p->m->fl->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, s);
}

void p11_pool_put(struct p11_pool *p, CK_SESSION_HANDLE s, bool ok)
{
	if (ok) {
		pthread_mutex_lock(&p->lock);
		if (p->nidle < POOL_MAX_IDLE) {
			p->idle[p->nidle++] = s;
			s = CK_INVALID_HANDLE;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (s != CK_INVALID_HANDLE)
		p->m->fl->C_CloseSession(s);
}

/* DER prefixes of DigestInfo (RFC 8017 §9.2, note 1). */
static const unsigned char di_sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
					0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const unsigned char di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					  0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					  0x01, 0x05, 0x00, 0x04, 0x20};
static const unsigned char di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
					  0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					  0x03, 0x05, 0x00, 0x04, 0x40};

CK_RV p11_sign_digest(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		      int md_nid, const unsigned char *digest, size_t dlen, unsigned char *sig,
		      size_t *sig_len)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	const unsigned char *pre;
	size_t plen, want;
	unsigned char di[19 + 64];
	CK_ULONG outlen = *sig_len;
	CK_RV rv;

	switch (md_nid) {
	case NID_sha1: pre = di_sha1; plen = sizeof(di_sha1); want = 20; break;
	case NID_sha256: pre = di_sha256; plen = sizeof(di_sha256); want = 32; break;
	case NID_sha512: pre = di_sha512; plen = sizeof(di_sha512); want = 64; break;
	default: return CKR_MECHANISM_INVALID;
	}
	if (dlen != want)
		return CKR_DATA_LEN_RANGE;
	memcpy(di, pre, plen);
	memcpy(di + plen, digest, dlen);
	rv = m->fl->C_SignInit(s, &mech, key);
	if (rv == CKR_OK)
		rv = m->fl->C_Sign(s, di, (CK_ULONG)(plen + dlen), sig, &outlen);
	if (rv == CKR_OK)
		*sig_len = outlen;
	return rv;
}
