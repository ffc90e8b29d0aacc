/* test_threads.c - token_signer() from several threads at once against a real token.
 * usage: test_threads MODULE URI PIN-SOURCE THREADS ROUNDS [removed]
 * Every signature is verified with the token certificate's public key. With "removed",
 * all sessions of the slot are closed behind the signer's back first (what a token
 * pulled out looks like to the module) and the signer must say the token was removed. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "bytes.h"
#include "token.h"

static const struct ctl_signer *signer;
static EVP_PKEY *pub;
static int rounds;

static void *worker(void *arg)
{
	long id = (long)arg, bad = 0;

	for (int i = 0; i < rounds; i++) {
		unsigned char msg[32], md[32];
		struct cbb sig;
		struct ctl_err err = {0};
		uint8_t *s = NULL;
		size_t sl = 0;
		EVP_MD_CTX *v = EVP_MD_CTX_new();

		snprintf((char *)msg, sizeof(msg), "thread %ld round %d", id, i);
		EVP_Digest(msg, sizeof(msg), md, NULL, EVP_sha256(), NULL);
		cbb_init(&sig);
		if (signer->sign(signer->ctx, CTL_HASH_SHA256, md, sizeof(md), &sig, &err) != CTL_OK ||
		    !cbb_finish(&sig, &s, &sl)) {
			fprintf(stderr, "thread %ld: %s\n", id, err.msg);
			bad++;
		} else if (!v || EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, pub) != 1 ||
			   EVP_DigestVerify(v, s, sl, msg, sizeof(msg)) != 1) {
			fprintf(stderr, "thread %ld: signature %d does not verify\n", id, i);
			bad++;
		}
		EVP_MD_CTX_free(v);
		free(s);
		cbb_cleanup(&sig);
	}
	return (void *)bad;
}

int main(int argc, char **argv)
{
	struct token_module *m;
	struct token *t;
	struct token_opts o = {0};
	struct ctl_err err = {0};
	pthread_t th[64];
	long nthreads, bad = 0;

	if (argc != 6 && argc != 7)
		return 2;
	o.uri = argv[2];
	o.pin = argv[3];
	nthreads = atol(argv[4]);
	rounds = atoi(argv[5]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	if (token_module_open(argv[1], &m, &err) != CTL_OK || token_open(m, &o, &t, &err) != CTL_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	signer = token_signer(t);
	pub = X509_get0_pubkey(signer->cert);
	if (argc == 7 && !strcmp(argv[6], "removed")) {
		void *dl = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
		CK_RV (*getfl)(CK_FUNCTION_LIST_PTR_PTR) =
			dl ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(dl, "C_GetFunctionList") : NULL;
		CK_FUNCTION_LIST *fl = NULL;
		unsigned char md[32] = {0};
		struct cbb sig;
		int rc;

		rounds = 1;
		if (worker((void *)0) != NULL) /* one good signature: a session in the pool */
			return 1;
		if (!getfl || getfl(&fl) != CKR_OK ||
		    fl->C_CloseAllSessions(token_get_info(t)->slot_id) != CKR_OK)
			return 1;
		cbb_init(&sig);
		rc = signer->sign(signer->ctx, CTL_HASH_SHA256, md, sizeof(md), &sig, &err);
		cbb_cleanup(&sig);
		printf("rc %d: %s\n", rc, err.msg);
		token_close(t);
		token_module_close(m);
		dlclose(dl);
		return rc == CTL_E_TOKEN && strstr(err.msg, "was removed") ? 0 : 1;
	}
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
			return 1;
	for (long i = 0; i < nthreads; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)r;
	}
	token_close(t);
	token_module_close(m);
	printf("%ld threads x %d signatures, %ld bad\n", nthreads, rounds, bad);
	return bad ? 1 : 0;
}
