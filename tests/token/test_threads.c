/* test_threads.c - token_signer() from several threads at once against a real token.
 * usage: test_threads MODULE URI PIN-SOURCE THREADS ROUNDS
 * Every signature is verified with the token certificate's public key. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

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

	if (argc != 6)
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
