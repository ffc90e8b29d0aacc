/*
 * p11.h - the PKCS#11 layer: one loaded module (libp11 for slots, tokens, objects and
 * certificates; the module's own function list for what libp11 does not expose:
 * C_GetTokenInfo PIN lengths, C_Login/C_SetPIN with exact return codes, key-pair
 * generation with explicit attributes, and signing sessions of our own).
 * Knows nothing about the token rules (tokens/) or the tools (src/).
 */
#ifndef CTL_P11_H
#define CTL_P11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libp11.h>
#include <p11-kit/pkcs11.h>

#include "ctl.h"

#define P11_PROXY_MODULE "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

struct p11_module {
	char *path;
	PKCS11_CTX *ctx;
	CK_FUNCTION_LIST *fl;   /* the module's function list (same instance libp11 uses) */
	void *dl;               /* our own reference on the module */
	PKCS11_SLOT *slots;
	unsigned int nslots;
	int open_tokens;        /* tokens holding sessions: no reload while > 0 */
};

/* Loads and initialises the module. libp11's slot list (slots/nslots) stays empty until
 * p11_module_refresh(m, false, ...). */
int p11_module_load(const char *path, struct p11_module **out, struct ctl_err *err);
void p11_module_free(struct p11_module *m);
/* Re-reads the slot list. reload: also finalise and re-initialise the module (needed
 * for modules such as SoftHSM that read their token store only at C_Initialize).
 * While tokens are open (open_tokens > 0) nothing is done: libp11 closes all sessions
 * of a slot it releases, which would log the open token out. Slot pointers held before
 * are invalid afterwards. */
int p11_module_refresh(struct p11_module *m, bool reload, struct ctl_err *err);

/* The libp11 slot with this id (from the last enumeration), or NULL. */
PKCS11_SLOT *p11_slot_by_id(struct p11_module *m, CK_SLOT_ID id);
/* Slots holding a token, straight from C_GetSlotList (no libp11 state touched). Caller
 * frees *ids. */
int p11_present_slots(struct p11_module *m, CK_SLOT_ID **ids, size_t *n, struct ctl_err *err);
/* The first certificate on the token (public objects only), or NULL. */
X509 *p11_first_cert(struct p11_module *m, CK_SLOT_ID slot);

/* "CKR_PIN_INCORRECT" etc.; "CKR_0x..." for unknown codes (static or thread-local). */
const char *p11_rv_name(CK_RV rv);
/* The return codes that mean the token went away under us. */
bool p11_rv_removed(CK_RV rv);
/* After an error the module did not name as a removal (OpenSC reports a card pulled
 * mid-signature as CKR_GENERAL_ERROR): asks the slot whether its token is still there. */
bool p11_token_gone(struct p11_module *m, CK_SLOT_ID slot);

/* C_GetTokenInfo, fresh from the module. */
int p11_token_info(struct p11_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti, struct ctl_err *err);
/* Copies a blank-padded PKCS#11 string into a NUL-terminated, right-trimmed one. */
void p11_trim(char *dst, const unsigned char *src, size_t srclen);

/* One key pair and/or certificate on a token, paired by CKA_ID (or label if no id). */
struct p11_pair {
	char *label;
	unsigned char *id;
	size_t id_len;
	bool has_private, has_public;
	int key_type;            /* EVP_PKEY_RSA, EVP_PKEY_EC, or 0 if unknown */
	int key_bits;            /* 0 if unknown */
	X509 *cert;              /* owned */
};
/* Lists the objects visible in the current login state (private keys appear only when
 * the token is logged in). */
int p11_list_pairs(struct p11_module *m, PKCS11_SLOT *slot, struct p11_pair **out, size_t *n,
		   struct ctl_err *err);
void p11_pairs_free(struct p11_pair *v, size_t n);

/* Finds one object handle of class cls with CKA_ID id (id_len 0: any) and, if label is
 * non-NULL, CKA_LABEL label. *found = 0 when none. */
int p11_find_object(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		    const unsigned char *id, size_t id_len, const char *label,
		    CK_OBJECT_HANDLE *found, struct ctl_err *err);
/* Destroys every object with the label (any class). */
int p11_destroy_label(struct p11_module *m, CK_SESSION_HANDLE s, const char *label,
		      struct ctl_err *err);

/* RSA key pair generated on the token: private key CKA_SENSITIVE, not extractable,
 * CKA_SIGN; public key CKA_VERIFY. Returns the public key as an EVP_PKEY. */
int p11_generate_rsa(struct p11_module *m, CK_SESSION_HANDLE s, unsigned bits,
		     const char *label, const unsigned char *id, size_t id_len,
		     CK_OBJECT_HANDLE *priv, EVP_PKEY **pub, struct ctl_err *err);
/* An existing RSA private key stored on the token (C_CreateObject): CKA_TOKEN,
 * CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only; its public half
 * beside it (CKA_VERIFY). The key's components are wiped from our memory. On failure
 * the handles created so far are returned (the caller destroys them). */
int p11_import_rsa(struct p11_module *m, CK_SESSION_HANDLE s, const EVP_PKEY *key,
		   const char *label, const unsigned char *id, size_t id_len,
		   CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub, struct ctl_err *err);
/* Reads the key's attributes back: CTL_E_TOKEN unless sensitive, not extractable, a
 * token object, private and able to sign. */
int p11_key_protected(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		      struct ctl_err *err);
/* Stores a certificate object (CKA_TOKEN, CKA_ID, CKA_LABEL, subject, issuer, serial). */
int p11_store_cert(struct p11_module *m, CK_SESSION_HANDLE s, X509 *cert, const char *label,
		   const unsigned char *id, size_t id_len, struct ctl_err *err);
/* The same, returning the new object's handle. */
int p11_store_cert_h(struct p11_module *m, CK_SESSION_HANDLE s, X509 *cert, const char *label,
		     const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *h,
		     struct ctl_err *err);

/* RSA PKCS#1 v1.5 over a DigestInfo built for md_nid (NID_sha1/sha256/sha512) and the
 * digest; the signature (modulus length) is written to sig, *sig_len set. */
CK_RV p11_sign_digest(struct p11_module *m, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		      int md_nid, const unsigned char *digest, size_t dlen, unsigned char *sig,
		      size_t *sig_len);

/* A pool of sessions on one slot, safe to use from several threads. */
struct p11_pool;
struct p11_pool *p11_pool_new(struct p11_module *m, CK_SLOT_ID slot);
void p11_pool_free(struct p11_pool *p);
CK_RV p11_pool_get(struct p11_pool *p, CK_SESSION_HANDLE *s);
/* ok false: the session is closed instead of kept (it may be broken). */
void p11_pool_put(struct p11_pool *p, CK_SESSION_HANDLE s, bool ok);

/* Events: waits for a change in the card readers (pcsc-lite) when the module drives
 * PC/SC readers; returns 1 if the pcsc path is usable for this module, 0 if not. */
int p11_pcsc_usable(struct p11_module *m);
/* Blocks until a reader's state changes or timeout_ms (<0: forever) passes.
 * Returns 1 on change, 0 on timeout, -1 on error (then poll instead). */
int p11_pcsc_wait(int timeout_ms);

#endif
