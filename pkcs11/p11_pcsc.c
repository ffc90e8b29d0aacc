/* p11_pcsc.c - card insert/remove events from pcsc-lite, for modules that drive PC/SC
 * readers (OpenSC, SafeNet eToken). Other modules (SoftHSM) are polled by the caller. */
#include "p11.h"

#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#define PNP_READER "\\\\?PnP?\\Notification"
#define MAX_READERS 16

/* Reader names, '\0'-separated, ending with an empty name; NULL if none. */
static char *list_readers(SCARDCONTEXT ctx)
{
	DWORD len = 0;
	char *buf;

	if (SCardListReaders(ctx, NULL, NULL, &len) != SCARD_S_SUCCESS || len == 0)
		return NULL;
	buf = malloc(len);
	if (!buf)
		return NULL;
	if (SCardListReaders(ctx, NULL, buf, &len) != SCARD_S_SUCCESS) {
		free(buf);
		return NULL;
	}
	return buf;
}

int p11_pcsc_usable(struct p11_module *m)
{
	SCARDCONTEXT ctx;
	CK_SLOT_ID ids[32];
	CK_ULONG nids = 32;
	char *readers;
	int usable = 0;

	if (m->fl->C_GetSlotList(CK_FALSE, ids, &nids) != CKR_OK)
		return 0;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return 0;
	readers = list_readers(ctx);
	/* A smart-card module names its slots after the PC/SC readers. */
	for (CK_ULONG i = 0; i < nids && !usable; i++) {
		CK_SLOT_INFO si;
		char desc[65];
		if (m->fl->C_GetSlotInfo(ids[i], &si) != CKR_OK)
			continue;
		p11_trim(desc, si.slotDescription, sizeof(si.slotDescription));
		for (char *r = readers; r && *r && !usable; r += strlen(r) + 1)
			if (desc[0] && !strncmp(r, desc, strlen(desc)))
				usable = 1;
	}
	free(readers);
	SCardReleaseContext(ctx);
	return usable;
}

int p11_pcsc_wait(int timeout_ms)
{
	SCARD_READERSTATE st[MAX_READERS + 1];
	SCARDCONTEXT ctx;
	char *readers;
	DWORD n = 0;
	LONG rv;
	int ret = -1;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return -1;
	readers = list_readers(ctx);
	memset(st, 0, sizeof(st));
	for (char *r = readers; r && *r && n < MAX_READERS; r += strlen(r) + 1)
		st[n++].szReader = r;
	st[n++].szReader = PNP_READER;
	/* First call learns the current state, the second waits for a change from it. */
	rv = SCardGetStatusChange(ctx, 0, st, n);
	if (rv == SCARD_S_SUCCESS || rv == SCARD_E_TIMEOUT) {
		for (DWORD i = 0; i < n; i++)
			st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
		rv = SCardGetStatusChange(ctx, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms, st, n);
		if (rv == SCARD_S_SUCCESS)
			ret = 1;
		else if (rv == SCARD_E_TIMEOUT)
			ret = 0;
	}
	free(readers);
	SCardReleaseContext(ctx);
	return ret;
}
