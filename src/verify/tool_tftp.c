/* tool_tftp.c - TFTP downloads with libcurl, size-capped while receiving (device.h). */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bytes.h"

struct sink {
	struct cbb b;
	size_t max;
	bool over;
};

/* CURLOPT_MAXFILESIZE relies on the server's tsize answer, which a hostile server
 * need not give: the cap is enforced here, on the bytes actually received. */
static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *k = ud;
	size_t len = size * n;

	if (len > k->max || k->b.len > k->max - len) {
		k->over = true;
		return 0; /* aborts the transfer */
	}
	if (!cbb_add_bytes(&k->b, p, len))
		return 0;
	return len;
}

void tftp_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void tftp_global_cleanup(void)
{
	curl_global_cleanup();
}

static int url_safe(const char *name)
{
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '%' || *p == '?' || *p == '#' || *p == '/' ||
		    *p == '\\' || (unsigned char)*p >= 0x7f)
			return 0;
	return *name && strcmp(name, ".") && strcmp(name, "..");
}

int tftp_get(const char *server, const char *name, size_t max, long timeout_s,
	     struct ctl_buf *out, bool *not_found, struct ctl_err *err)
{
	char url[1024], cerr[CURL_ERROR_SIZE] = "";
	struct sink k;
	char *host = NULL;
	int port = 69, rc;
	CURL *c;
	CURLcode res;
	uint8_t *data = NULL;
	size_t len = 0;

	*not_found = false;
	if (!url_safe(name))
		return ctl_fail(err, CTL_E_USAGE, "bad TFTP file name '%.100s'", name);
	if (!dev_split_hostport(server, 69, &host, &port))
		return ctl_fail(err, CTL_E_USAGE, "bad TFTP server '%.100s': expected HOST or HOST:PORT", server);
	snprintf(url, sizeof(url), strchr(host, ':') ? "tftp://[%s]:%d/%s" : "tftp://%s:%d/%s", host,
		 port, name);
	free(host);

	c = curl_easy_init();
	if (!c)
		return ctl_fail(err, CTL_E_INTERNAL, "curl_easy_init failed");
	memset(&k, 0, sizeof(k));
	cbb_init(&k.b);
	k.max = max;
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "tftp") != CURLE_OK ||
#else
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_TFTP) != CURLE_OK ||
#endif
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max) != CURLE_OK) {
		curl_easy_cleanup(c);
		cbb_cleanup(&k.b);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot set up the TFTP transfer");
	}
	res = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (res == CURLE_OK) {
		if (!cbb_finish(&k.b, &data, &len))
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		out->data = data;
		out->len = len;
		return CTL_OK;
	}
	cbb_cleanup(&k.b);
	if (k.over || res == CURLE_FILESIZE_EXCEEDED)
		rc = ctl_fail(err, CTL_E_MALFORMED, "%s from %s is larger than %zu bytes, more than any real file of its kind; transfer aborted",
			      name, server, max);
	else if (res == CURLE_TFTP_NOTFOUND) {
		*not_found = true;
		rc = ctl_fail(err, CTL_E_NETWORK, "TFTP server %s has no file %s", server, name);
	} else
		rc = ctl_fail(err, CTL_E_NETWORK, "TFTP download of %s from %s failed (%s); is the server up and serving that directory?",
			      name, server, cerr[0] ? cerr : curl_easy_strerror(res));
	return rc;
}
