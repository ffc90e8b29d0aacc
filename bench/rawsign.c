/* rawsign.c - the raw C_Sign(CKM_RSA_PKCS) rate of a token key in ONE session, through
 * the module's own function list: the ceiling `ctlsign sign` is measured against.
 *
 * usage: rawsign MODULE TOKEN_LABEL PIN_ENV_VAR COUNT
 * prints: "<count> signatures in <seconds> s: <rate>/s"
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CK(call) do { CK_RV rv_ = (call); if (rv_ != CKR_OK) { \
	fprintf(stderr, "rawsign: %s failed: 0x%lx\n", #call, (unsigned long)rv_); return 1; } } while (0)

int main(int argc, char **argv)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[64];
	CK_ULONG nslots = 64, n = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	/* a SHA-512 DigestInfo, as ctlsign signs for .sgn files */
	CK_BYTE di[83] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			  0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
	CK_BYTE sig[1024];
	CK_ULONG siglen;
	const char *pin;
	long count;
	void *h;
	double t0, t;
	int found = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: rawsign MODULE TOKEN_LABEL PIN_ENV_VAR COUNT\n");
		return 2;
	}
	pin = getenv(argv[3]);
	count = atol(argv[4]);
	if (!pin || count <= 0)
		return 2;
	if (!(h = dlopen(argv[1], RTLD_NOW)) ||
	    !(get = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList"))) {
		fprintf(stderr, "rawsign: cannot load %s\n", argv[1]);
		return 1;
	}
	CK(get(&f));
	CK(f->C_Initialize(NULL));
	CK(f->C_GetSlotList(CK_TRUE, slots, &nslots));
	for (CK_ULONG i = 0; i < nslots && !found; i++) {
		CK_TOKEN_INFO ti;
		char label[33];
		size_t l = strlen(argv[2]);
		CK(f->C_GetTokenInfo(slots[i], &ti));
		memcpy(label, ti.label, 32);
		label[32] = 0;
		if (l <= 32 && !memcmp(label, argv[2], l) && (l == 32 || label[l] == ' ')) {
			CK(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
			found = 1;
		}
	}
	if (!found) {
		fprintf(stderr, "rawsign: no token %s\n", argv[2]);
		return 1;
	}
	CK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	CK(f->C_FindObjectsInit(s, tmpl, 1));
	CK(f->C_FindObjects(s, &key, 1, &n));
	CK(f->C_FindObjectsFinal(s));
	if (n != 1) {
		fprintf(stderr, "rawsign: no private key\n");
		return 1;
	}
	t0 = now();
	for (long i = 0; i < count; i++) {
		di[19 + (i % 64)] = (CK_BYTE)i;
		siglen = sizeof(sig);
		CK(f->C_SignInit(s, &mech, key));
		CK(f->C_Sign(s, di, sizeof(di), sig, &siglen));
	}
	t = now() - t0;
	printf("%ld signatures in %.3f s: %.1f/s\n", count, t, (double)count / t);
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
