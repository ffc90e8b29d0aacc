/*
 * device.h - what ctlverify's device-side commands (install, config, decrypt, status,
 * boot, tls) share: the trust store, the decision lines / JSON, TFTP and TLS transport.
 */
#ifndef CTL_VERIFY_DEVICE_H
#define CTL_VERIFY_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ctl.h"
#include "ctlverify.h"

/* Largest file a device accepts over TFTP unless --max-size says otherwise: well above
 * any real CTL/ITL/config (a few hundred records of ~1.5 KB), far below memory trouble. */
#define DEV_DEFAULT_MAX_SIZE (1024u * 1024)

/* Opens the store or prints the one-line error; returns the exit code. */
int dev_store_open(const char *dir, ctlv_store **out);
/* The same with --wait SECONDS for the store's lock (-1: the library's default). */
int dev_store_open_wait(const char *dir, long wait_s, ctlv_store **out);

/* Decision output: one line per file on stdout for people (failure reasons also go to
 * stderr as one line), or a JSON document. */
struct dev_out {
	bool json;
	bool multi;                 /* {"files": [...]} instead of one object */
	struct json_object *root;   /* json: the document being built */
	struct json_object *files;
	int code;                   /* first failure's code, 0 if none */
};
void dev_out_init(struct dev_out *o, bool json, bool multi);
/* Records a decision for `file` after a ctlv_* call returned `code`: accepted,
 * unchanged or rejected with the store's last error/warning/signer/note. */
void dev_decide(struct dev_out *o, ctlv_store *s, const char *file, int code);
/* A decision with no ctlv_* call behind it (e.g. "missing", network error). */
void dev_decide_msg(struct dev_out *o, const char *file, const char *decision, int code,
		    const char *msg);
/* Adds a key to the JSON document (ignored for people output). Takes val. */
void dev_out_add(struct dev_out *o, const char *key, struct json_object *val);
/* Prints the JSON document (if json) and returns the exit code. */
int dev_out_finish(struct dev_out *o);

/* Reads the input file (at most CTL_MAX_FILE_SIZE) into buf; on failure records it as
 * rejected in o and returns the code. */
int dev_read(struct dev_out *o, const char *path, struct ctl_buf *buf);

/* Writes the accepted payload of `file` atomically to path, or to stdout for "-"; on
 * failure records `file` as rejected in o and returns the code. */
int dev_write_output(struct dev_out *o, const char *file, const char *path,
		     const uint8_t *data, size_t len);

/* TFTP download (libcurl) of `name` from "HOST[:PORT]". At most max bytes (enforced
 * while receiving). *not_found is set when the server answered file-not-found.
 * CTL_E_NETWORK for transfer failures, CTL_E_MALFORMED for a file over the cap. */
int tftp_get(const char *server, const char *name, size_t max, long timeout_s,
	     struct ctl_buf *out, bool *not_found, struct ctl_err *err);
void tftp_global_init(void);
void tftp_global_cleanup(void);

/* TLS 1.2+ handshake with "HOST[:PORT]"; the peer certificate is checked against the
 * store's CTL during the handshake (ctlv_check_peer), so nothing, not even a client
 * certificate, goes to an unlisted server. client_cert/client_key may be NULL.
 * On success *proto gets the protocol name ("TLSv1.3"). */
struct tls_opts {
	const char *hostport;
	int default_port;
	const char *client_cert, *client_key;
	long timeout_s;
	unsigned check_flags; /* CTLV_ALLOW_EXPIRED */
};
int tls_check_server(ctlv_store *s, const struct tls_opts *o, char *proto, size_t proto_cap,
		     struct ctl_err *err);

/* Splits "HOST[:PORT]" / "[V6]:PORT". 0 on a bad port. host gets a copy (caller frees). */
int dev_split_hostport(const char *hp, int default_port, char **host, int *port);

#endif
