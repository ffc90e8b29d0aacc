/* p11_module.c - loading a PKCS#11 module and reading its slots (see p11.h). */
#include "p11.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

static int ctx_load(struct p11_module *m, struct ctl_err *err)
{
	m->ctx = PKCS11_CTX_new();
	if (!m->ctx)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (PKCS11_CTX_load(m->ctx, m->path) < 0) {
		PKCS11_CTX_free(m->ctx);
		m->ctx = NULL;
		return ctl_fail(err, CTL_E_TOKEN,
				"cannot load PKCS#11 module %s (missing, not a PKCS#11 module, or "
				"C_Initialize failed); pick one with --module or $CTLSIGN_PKCS11_MODULE",
				m->path);
	}
	/* libp11's slot list is read on demand (p11_module_refresh without reload): the
	 * polling path (reload, C_GetSlotList) then never goes through libp11's slot code. */
	return CTL_OK;
}

static void ctx_unload(struct p11_module *m)
{
	if (!m->ctx)
		return;
	if (m->slots)
		PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
	m->slots = NULL;
	m->nslots = 0;
	PKCS11_CTX_unload(m->ctx);
	PKCS11_CTX_free(m->ctx);
	m->ctx = NULL;
}

int p11_module_load(const char *path, struct p11_module **out, struct ctl_err *err)
{
	struct p11_module *m;
	CK_RV (*getfl)(CK_FUNCTION_LIST_PTR_PTR);
	int rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	if ((rc = ctx_load(m, err)) != CTL_OK) {
		p11_module_free(m);
		return rc;
	}
	/* The same shared object libp11 opened: dlopen only adds a reference. */
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	getfl = m->dl ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(m->dl, "C_GetFunctionList")
		      : NULL;
	if (!getfl || getfl(&m->fl) != CKR_OK || !m->fl) {
		p11_module_free(m);
		return ctl_fail(err, CTL_E_TOKEN, "PKCS#11 module %s has no usable C_GetFunctionList",
				path);
	}
	*out = m;
	return CTL_OK;
}

void p11_module_free(struct p11_module *m)
{
	if (!m)
		return;
	ctx_unload(m);
	if (m->dl)
		dlclose(m->dl);
	free(m->path);
	free(m);
}

int p11_module_refresh(struct p11_module *m, bool reload, struct ctl_err *err)
{
	if (m->open_tokens > 0)
		return CTL_OK;
	if (reload) {
		ctx_unload(m);
		return ctx_load(m, err);
	}
	if (m->slots)
		PKCS11_release_all_slots(m->ctx, m->slots, m->nslots);
	m->slots = NULL;
	m->nslots = 0;
	if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) < 0) {
		m->slots = NULL;
		m->nslots = 0;
		return ctl_fail(err, CTL_E_TOKEN, "PKCS#11 module %s: cannot list its slots",
				m->path);
	}
	return CTL_OK;
}

PKCS11_SLOT *p11_slot_by_id(struct p11_module *m, CK_SLOT_ID id)
{
	for (unsigned i = 0; i < m->nslots; i++)
		if (PKCS11_get_slotid_from_slot(&m->slots[i]) == id)
			return &m->slots[i];
	return NULL;
}

int p11_present_slots(struct p11_module *m, CK_SLOT_ID **ids, size_t *n, struct ctl_err *err)
{
	CK_ULONG cnt = 0;
	CK_SLOT_ID *v = NULL;
	CK_RV rv;

	*ids = NULL;
	*n = 0;
	for (int tries = 0; tries < 4; tries++) {
		rv = m->fl->C_GetSlotList(CK_TRUE, NULL, &cnt);
		if (rv != CKR_OK)
			break;
		free(v);
		v = calloc(cnt ? cnt : 1, sizeof(*v));
		if (!v)
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		rv = m->fl->C_GetSlotList(CK_TRUE, v, &cnt);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		free(v);
		return ctl_fail(err, CTL_E_TOKEN, "PKCS#11 module %s: C_GetSlotList: %s", m->path,
				p11_rv_name(rv));
	}
	*ids = v;
	*n = cnt;
	return CTL_OK;
}

X509 *p11_first_cert(struct p11_module *m, CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h = 0;
	CK_ATTRIBUTE val = {CKA_VALUE, NULL, 0};
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	struct ctl_err e;

	if (m->fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return NULL;
	if (p11_find_object(m, s, CKO_CERTIFICATE, NULL, 0, NULL, &h, &e) != CTL_OK || !h)
		goto out;
	if (m->fl->C_GetAttributeValue(s, h, &val, 1) != CKR_OK || !val.ulValueLen ||
	    val.ulValueLen > 65536 || !(der = malloc(val.ulValueLen)))
		goto out;
	val.pValue = der;
	if (m->fl->C_GetAttributeValue(s, h, &val, 1) != CKR_OK)
		goto out;
	p = der;
	x = d2i_X509(NULL, &p, (long)val.ulValueLen);
out:
	free(der);
	m->fl->C_CloseSession(s);
	return x;
}

int p11_token_info(struct p11_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti, struct ctl_err *err)
{
	CK_RV rv = m->fl->C_GetTokenInfo(slot, ti);

	if (rv != CKR_OK) {
		if (p11_rv_removed(rv))
			return ctl_fail(err, CTL_E_TOKEN, "the token in slot %lu was removed",
					(unsigned long)slot);
		return ctl_fail(err, CTL_E_TOKEN, "C_GetTokenInfo(slot %lu): %s",
				(unsigned long)slot, p11_rv_name(rv));
	}
	return CTL_OK;
}

void p11_trim(char *dst, const unsigned char *src, size_t srclen)
{
	size_t n = 0;

	for (size_t i = 0; i < srclen && src[i]; i++)
		n = i + 1;
	while (n > 0 && src[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = 0;
}

bool p11_rv_removed(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID ||
	       rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_SLOT_ID_INVALID || rv == CKR_TOKEN_NOT_RECOGNIZED;
}

static bool token_absent_now(struct p11_module *m, CK_SLOT_ID slot)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_RV rv = m->fl->C_GetSlotInfo(slot, &si);

	if (rv != CKR_OK)
		return p11_rv_removed(rv);
	if (!(si.flags & CKF_TOKEN_PRESENT))
		return true;
	rv = m->fl->C_GetTokenInfo(slot, &ti);
	return rv != CKR_OK && p11_rv_removed(rv);
}

bool p11_token_gone(struct p11_module *m, CK_SLOT_ID slot)
{
	/* pcscd notices a pulled card only at its next poll of the reader: on this error path
	 * (and only here) give it up to 1.5 s before deciding the token is still there. */
	const struct timespec tick = {0, 100 * 1000 * 1000};

	for (int i = 0; i < 15; i++) {
		if (token_absent_now(m, slot))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

const char *p11_rv_name(CK_RV rv)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
		{CKR_OK, "CKR_OK"},
		{CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
		{CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
		{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
		{CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
		{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
		{CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY"},
		{CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
		{CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
		{CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
		{CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
		{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
		{CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
		{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
		{CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
		{CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
		{CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
		{CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
		{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
		{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
		{CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
		{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
		{CKR_PIN_INVALID, "CKR_PIN_INVALID"},
		{CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
		{CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
		{CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
		{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
		{CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
		{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
		{CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
		{CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
		{CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
		{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
		{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
		{CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
		{CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
		{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
		{CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
		{CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
		{CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
		{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
		{CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
	};
	static _Thread_local char buf[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(buf, sizeof(buf), "CKR_0x%lx", (unsigned long)rv);
	return buf;
}
