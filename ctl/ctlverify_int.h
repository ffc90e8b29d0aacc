/* ctlverify_int.h - what ctlverify.c (the store object, files, peers) and
 * ctlverify_install.c (the install decisions) share; internal to ctl/. */
#ifndef CTL_CTLVERIFY_INT_H
#define CTL_CTLVERIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "ctlverify.h"
#include "store.h"

#define FIRMWARE_REFUSED                                                                    \
	"this is signed firmware or another vendor-signed file (header version 1.1), signed " \
	"by the vendor's firmware key, which no CTL lists"

/* A timestamp this far ahead of our clock earns a warning (clock skew allowance). */
#define FUTURE_SLACK 300
/* A CTL or ITL dated further ahead than this is refused (SPEC §5: the signer's or the
 * device's clock is wrong, and a file from the future would make every real one look
 * like a replay). */
#define FUTURE_LIMIT (24 * 3600)
/* A device clock before this (2025-01-01) is certainly wrong: no file is judged by it
 * without saying so. */
#define CLOCK_FLOOR 1735689600LL

#define MAX_PINS 16

struct ctlv_store {
	struct store st;
	struct ctl_err err;
	char warning[1024];
	char note[256];
	char signer[512];
	int kind;
	char pins[MAX_PINS][65]; /* lowercase hex, no colons: SHA-1 (40) or SHA-256 (64) */
	size_t npins;
};

void cv_set_str(char *dst, size_t cap, const char *src);
void cv_warn(ctlv_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cv_role_sast(int role);
int cv_role_tftp(int role);
int cv_role_itl_signer(int role);
/* The record of `list` (a held CTL/ITL) that names the signer of header h, has a
 * certificate and a role accepted by role_ok. *other gets a matching record of any
 * other role (to tell "unknown" from "wrong role"). */
const struct ctl_record *cv_find_signer_in(const struct ctl_file *list,
					       const struct ctl_header *h, int (*role_ok)(int),
					       const struct ctl_record **other);
const char *cv_article(int kind);
/* begin_file for a decision about kinds k1 and k2 only: signed firmware ("..., not
 * FW_WHAT; refused") and any other kind ("this is a KIND" WHAT) are refused, CTL_E_POLICY,
 * and *f is freed. */
int cv_begin_kind(ctlv_store *s, const uint8_t *data, size_t len, int k1, int k2,
		      const char *fw_what, const char *what, struct ctl_file **f);
/* "unknown signer" error naming the header's signer. */
int cv_fail_unknown_signer(ctlv_store *s, const struct ctl_file *f, const char *what);
int cv_verify_with_record(ctlv_store *s, const struct ctl_file *f, const struct ctl_record *r,
			      const char *whose);
void cv_fmt_utc(long long t, char *buf, size_t cap);
void cv_check_future(ctlv_store *s, const struct ctl_file *f);

#endif
