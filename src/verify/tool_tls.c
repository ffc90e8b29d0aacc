/* tool_tls.c - the CTI/JTAPI TLS check: exact match of the server certificate against the
 * held CTL, done inside the handshake (device.h). */
#include "device.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct check_ctx {
	ctlv_store *s;
	unsigned flags;
	int code;      /* result of ctlv_check_peer, -1 if it never ran */
};

/* Replaces chain building: the leaf must be byte-identical to a CCM record. */
static int verify_peer(X509_STORE_CTX *xs, void *arg)
{
	struct check_ctx *cc = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	unsigned char *der = NULL;
	int len;

	if (!leaf) {
		cc->code = CTL_E_MALFORMED;
		return 0;
	}
	len = i2d_X509(leaf, &der);
	if (len <= 0) {
		cc->code = CTL_E_MALFORMED;
		return 0;
	}
	cc->code = ctlv_check_peer(cc->s, der, (size_t)len, cc->flags);
	OPENSSL_free(der);
	if (cc->code != CTLV_OK) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_UNTRUSTED);
		return 0;
	}
	return 1;
}

static int tcp_connect(const char *host, int port, long timeout_s, int *fd_out,
		       struct ctl_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
	char portstr[16];
	int gai, fd = -1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0)
		return ctl_fail(err, CTL_E_NETWORK, "cannot resolve %s: %s", host, gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		/* On Linux connect() honours SO_SNDTIMEO; reads honour SO_RCVTIMEO. */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ctl_fail(err, CTL_E_NETWORK, "cannot connect to %s port %d: %s (is the CTI manager up?)",
				host, port, strerror(saved));
	*fd_out = fd;
	return CTL_OK;
}

static int use_client_cert(SSL_CTX *ctx, const struct tls_opts *o, struct ctl_err *err)
{
	X509 *x;
	EVP_PKEY *k;
	int ok;

	if (!o->client_cert && !o->client_key)
		return CTL_OK;
	if (!o->client_cert || !o->client_key)
		return ctl_fail(err, CTL_E_USAGE, "a client certificate needs both --cert and --key");
	x = ctl_cert_load(o->client_cert, err);
	if (!x)
		return err->code ? err->code : CTL_E_IO;
	k = ctl_pkey_load(o->client_key, err);
	if (!k) {
		X509_free(x);
		return err->code ? err->code : CTL_E_IO;
	}
	ok = SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1 &&
	     SSL_CTX_check_private_key(ctx) == 1;
	X509_free(x);
	EVP_PKEY_free(k);
	if (!ok)
		return ctl_fail(err, CTL_E_USAGE, "client key %s does not match certificate %s", o->client_key,
				o->client_cert);
	return CTL_OK;
}

int tls_check_server(ctlv_store *s, const struct tls_opts *o, char *proto, size_t proto_cap,
		     struct ctl_err *err)
{
	struct check_ctx cc = {.s = s, .flags = o->check_flags, .code = -1};
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char *host = NULL;
	int port = 0, fd = -1, rc;
	struct in6_addr a6;

	if (!ctlv_has_ctl(s))
		return ctl_fail(err, CTL_E_POLICY, "no CTL is held: a secure CTI client does not connect at all; install the cluster's CTL first (ctlverify install or boot)");
	if (!dev_split_hostport(o->hostport, o->default_port, &host, &port))
		return ctl_fail(err, CTL_E_USAGE, "bad server '%.100s': expected HOST or HOST:PORT", o->hostport);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot set up TLS");
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_peer, &cc);
	rc = use_client_cert(ctx, o, err);
	if (rc != CTL_OK)
		goto out;
	rc = tcp_connect(host, port, o->timeout_s, &fd, err);
	if (rc != CTL_OK)
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot set up TLS");
		goto out;
	}
	if (inet_pton(AF_INET, host, &a6) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
		SSL_set_tlsext_host_name(ssl, host);
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (cc.code > 0) {
			*err = (struct ctl_err){0};
			rc = ctl_fail(err, cc.code, "%s", ctlv_last_error(s));
		} else {
			rc = ctl_fail(err, CTL_E_NETWORK, "TLS handshake with %s:%d failed: %s", host, port,
				      e ? ERR_reason_error_string(e) : "connection closed");
		}
		goto out;
	}
	if (cc.code != CTLV_OK) { /* resumed session or callback not run: never trust */
		rc = ctl_fail(err, CTL_E_INTERNAL, "the server certificate was not checked; refusing");
		goto out;
	}
	snprintf(proto, proto_cap, "%s", SSL_get_version(ssl));
	SSL_shutdown(ssl);
	rc = CTL_OK;
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	free(host);
	return rc;
}
