/*
 * p11shim.c - a PKCS#11 module for the tests only (never installed): it loads the real
 * module named by $P11SHIM_MODULE and passes every call through to it, except the faults
 * a test asks for with these variables. The product does not know about it: a test gives
 * ctlsign this module with --module (or $CTLSIGN_PKCS11_MODULE), as an officer would give
 * the vendor's.
 *
 *   P11SHIM_MODULE=PATH      the real module (e.g. SoftHSM's, OpenSC's). Required.
 *   P11SHIM_GONE_AFTER=N     the token is pulled out when the (N+1)th signature starts:
 *                            that C_SignInit and every later signing call on the token's
 *                            slot return CKR_DEVICE_REMOVED, C_OpenSession on it
 *                            CKR_TOKEN_NOT_PRESENT, C_GetTokenInfo CKR_TOKEN_NOT_PRESENT,
 *                            C_GetSlotInfo drops CKF_TOKEN_PRESENT and C_GetSlotList with
 *                            tokenPresent leaves the slot out. N = 0: the first signature.
 *   P11SHIM_PAUSE_FIFO=PATH  the first C_SignInit (the token is logged in by then) opens
 *                            the FIFO PATH for reading and waits for one byte before it
 *                            goes on. A test sees the pause by opening PATH for writing
 *                            without blocking (it succeeds only while the shim holds it
 *                            open) or by the FIFO among the process's descriptors; it may
 *                            pull or spoil the token, then writes the byte.
 *
 * Failures of the shim itself (no real module, a FIFO it cannot open) are one line on
 * stderr starting "p11shim:" and CKR_GENERAL_ERROR, so a test cannot pass by accident.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static CK_FUNCTION_LIST *real;     /* the real module's list */
static CK_FUNCTION_LIST shim;      /* a copy of it with our entries */
static CK_RV load_rv = CKR_GENERAL_ERROR;

static long gone_after = -1;       /* P11SHIM_GONE_AFTER, -1: never */
static atomic_long sign_inits;     /* C_SignInit calls so far */
static atomic_bool gone;           /* the token of gone_slot was pulled */
static _Atomic CK_SLOT_ID gone_slot;
static const char *pause_fifo;     /* P11SHIM_PAUSE_FIFO */
static atomic_bool paused;         /* the pause happened (once per process) */

static bool slot_gone(CK_SLOT_ID slot)
{
	return atomic_load(&gone) && atomic_load(&gone_slot) == slot;
}

static bool session_gone(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;

	if (!atomic_load(&gone))
		return false;
	/* A session of the pulled token: the real module still knows it, we do not pass. */
	return real->C_GetSessionInfo(s, &si) != CKR_OK || slot_gone(si.slotID);
}

static CK_RV wait_on_fifo(void)
{
	char c;
	int fd;
	ssize_t n;

	if (!pause_fifo || atomic_exchange(&paused, true))
		return CKR_OK;
	fd = open(pause_fifo, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "p11shim: cannot open the pause FIFO %s: %s\n", pause_fifo,
			strerror(errno));
		return CKR_GENERAL_ERROR;
	}
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != 1) {
		fprintf(stderr, "p11shim: the pause FIFO %s closed without a byte\n", pause_fifo);
		return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

static CK_RV shim_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	CK_RV rv = wait_on_fifo();

	if (rv != CKR_OK)
		return rv;
	if (session_gone(s))
		return CKR_DEVICE_REMOVED;
	if (gone_after >= 0 && atomic_fetch_add(&sign_inits, 1) >= gone_after) {
		CK_SESSION_INFO si;

		if ((rv = real->C_GetSessionInfo(s, &si)) != CKR_OK)
			return rv;
		atomic_store(&gone_slot, si.slotID);
		atomic_store(&gone, true);
		return CKR_DEVICE_REMOVED;
	}
	return real->C_SignInit(s, mech, key);
}

static CK_RV shim_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
		       CK_ULONG_PTR siglen)
{
	if (session_gone(s))
		return CKR_DEVICE_REMOVED;
	return real->C_Sign(s, data, len, sig, siglen);
}

static CK_RV shim_SignUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR part, CK_ULONG len)
{
	if (session_gone(s))
		return CKR_DEVICE_REMOVED;
	return real->C_SignUpdate(s, part, len);
}

static CK_RV shim_SignFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	if (session_gone(s))
		return CKR_DEVICE_REMOVED;
	return real->C_SignFinal(s, sig, siglen);
}

static CK_RV shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
			      CK_SESSION_HANDLE_PTR s)
{
	if (slot_gone(slot))
		return CKR_TOKEN_NOT_PRESENT;
	return real->C_OpenSession(slot, flags, app, notify, s);
}

static CK_RV shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR ti)
{
	if (slot_gone(slot))
		return CKR_TOKEN_NOT_PRESENT;
	return real->C_GetTokenInfo(slot, ti);
}

static CK_RV shim_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR si)
{
	CK_RV rv = real->C_GetSlotInfo(slot, si);

	if (rv == CKR_OK && slot_gone(slot))
		si->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
	return rv;
}

static CK_RV shim_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_ULONG n, k = 0;
	CK_RV rv = real->C_GetSlotList(present, list, count);

	if (rv != CKR_OK || !present || !list || !atomic_load(&gone))
		return rv;
	n = *count;
	for (CK_ULONG i = 0; i < n; i++)
		if (!slot_gone(list[i]))
			list[k++] = list[i];
	*count = k;
	return rv;
}

static void load(void)
{
	const char *path = getenv("P11SHIM_MODULE");
	const char *v;
	CK_RV (*getfl)(CK_FUNCTION_LIST_PTR_PTR);
	void *dl;

	if (!path || !*path) {
		fprintf(stderr, "p11shim: P11SHIM_MODULE (the real PKCS#11 module) is not set\n");
		return;
	}
	if (!(dl = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "p11shim: cannot load %s: %s\n", path, dlerror());
		return;
	}
	getfl = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList");
	if (!getfl || getfl(&real) != CKR_OK || !real) {
		fprintf(stderr, "p11shim: %s has no usable C_GetFunctionList\n", path);
		return;
	}
	if ((v = getenv("P11SHIM_GONE_AFTER")) && *v) {
		char *end;

		errno = 0;
		gone_after = strtol(v, &end, 10);
		if (errno || *end || gone_after < 0) {
			fprintf(stderr, "p11shim: P11SHIM_GONE_AFTER=%s is not a count\n", v);
			return;
		}
	}
	if ((v = getenv("P11SHIM_PAUSE_FIFO")) && *v)
		pause_fifo = v;
	shim = *real;
	shim.C_GetFunctionList = C_GetFunctionList;
	shim.C_SignInit = shim_SignInit;
	shim.C_Sign = shim_Sign;
	shim.C_SignUpdate = shim_SignUpdate;
	shim.C_SignFinal = shim_SignFinal;
	shim.C_OpenSession = shim_OpenSession;
	shim.C_GetTokenInfo = shim_GetTokenInfo;
	shim.C_GetSlotInfo = shim_GetSlotInfo;
	shim.C_GetSlotList = shim_GetSlotList;
	load_rv = CKR_OK;
}

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&load_once, load);
	if (load_rv != CKR_OK)
		return load_rv;
	*list = &shim;
	return CKR_OK;
}
