/* rawsign.c - the raw C_Sign(CKM_RSA_PKCS) rate of a token key through the module's own
 * function list: the ceiling `ctlsign sign` is measured against.
 *
 * usage: rawsign [--threads N] [--no-locking] MODULE TOKEN_LABEL PIN_ENV_VAR COUNT
 *   --threads N   N threads, each with its own session, share COUNT signatures
 *                 (default 1: one session, no threads)
 *   --no-locking  C_Initialize(NULL) instead of CKF_OS_LOCKING_OK (shows what a module
 *                 does when the application does not declare threads)
 * prints: "<count> signatures in <seconds> s: <rate>/s (<threads> threads)"
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
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

static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static CK_OBJECT_HANDLE key;
static atomic_long left;

struct worker {
	pthread_t tid;
	CK_SESSION_HANDLE s;
	long done;
	CK_RV rv;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	/* a SHA-512 DigestInfo, as ctlsign signs for .sgn files */
	CK_BYTE di[83] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			  0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
	CK_BYTE sig[1024];
	CK_ULONG siglen;

	while (atomic_fetch_sub(&left, 1) > 0) {
		di[19 + (w->done % 64)] = (CK_BYTE)w->done;
		siglen = sizeof(sig);
		if ((w->rv = f->C_SignInit(w->s, &mech, key)) != CKR_OK ||
		    (w->rv = f->C_Sign(w->s, di, sizeof(di), sig, &siglen)) != CKR_OK)
			break;
		w->done++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS ia;
	CK_SLOT_ID slots[64];
	CK_ULONG nslots = 64, n = 0;
	CK_SESSION_HANDLE login;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}};
	struct worker *w;
	const char *pin;
	long count, total = 0;
	unsigned threads = 1;
	int locking = 1, found = 0, a = 1;
	void *h;
	double t0, t;

	for (; a < argc && !strncmp(argv[a], "--", 2); a++) {
		if (!strcmp(argv[a], "--threads") && a + 1 < argc)
			threads = (unsigned)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--no-locking"))
			locking = 0;
		else
			break;
	}
	if (argc - a != 4 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: rawsign [--threads N] [--no-locking] MODULE TOKEN_LABEL "
				"PIN_ENV_VAR COUNT\n");
		return 2;
	}
	argv += a - 1;
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
	memset(&ia, 0, sizeof(ia));
	ia.flags = CKF_OS_LOCKING_OK;
	CK(f->C_Initialize(locking ? &ia : NULL));
	CK(f->C_GetSlotList(CK_TRUE, slots, &nslots));
	for (CK_ULONG i = 0; i < nslots && !found; i++) {
		CK_TOKEN_INFO ti;
		char label[33];
		size_t l = strlen(argv[2]);
		CK(f->C_GetTokenInfo(slots[i], &ti));
		memcpy(label, ti.label, 32);
		label[32] = 0;
		if (l <= 32 && !memcmp(label, argv[2], l) && (l == 32 || label[l] == ' ')) {
			slot = slots[i];
			found = 1;
		}
	}
	if (!found) {
		fprintf(stderr, "rawsign: no token %s\n", argv[2]);
		return 1;
	}
	CK(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &login));
	CK(f->C_Login(login, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	CK(f->C_FindObjectsInit(login, tmpl, 1));
	CK(f->C_FindObjects(login, &key, 1, &n));
	CK(f->C_FindObjectsFinal(login));
	if (n != 1) {
		fprintf(stderr, "rawsign: no private key\n");
		return 1;
	}
	if (!(w = calloc(threads, sizeof(*w))))
		return 1;
	/* One session per thread (the login is shared by all of them). */
	for (unsigned i = 0; i < threads; i++)
		CK(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &w[i].s));
	atomic_init(&left, count);
	t0 = now();
	if (threads == 1) {
		worker_main(&w[0]);
	} else {
		for (unsigned i = 0; i < threads; i++)
			if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
				fprintf(stderr, "rawsign: cannot start a thread\n");
				return 1;
			}
		for (unsigned i = 0; i < threads; i++)
			pthread_join(w[i].tid, NULL);
	}
	t = now() - t0;
	for (unsigned i = 0; i < threads; i++) {
		if (w[i].rv != CKR_OK) {
			fprintf(stderr, "rawsign: C_Sign failed: 0x%lx\n", (unsigned long)w[i].rv);
			return 1;
		}
		total += w[i].done;
		f->C_CloseSession(w[i].s);
	}
	printf("%ld signatures in %.3f s: %.1f/s (%u threads)\n", total, t, (double)total / t,
	       threads);
	free(w);
	f->C_Logout(login);
	f->C_CloseSession(login);
	f->C_Finalize(NULL);
	return 0;
}
