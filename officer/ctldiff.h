/*
 * ctldiff.h - what an update changes in a CTL: records added, removed and changed
 * (renamed, re-addressed, re-certified, role, certificate dropped or added) and the
 * security mode. Shown to the officer before signing (SPEC §4.3).
 */
#ifndef CTL_CTLDIFF_H
#define CTL_CTLDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"

enum ctldiff_kind { CTLDIFF_ADDED = 1, CTLDIFF_REMOVED, CTLDIFF_CHANGED };

struct ctldiff_entry {
	int kind;
	const struct ctl_record *old_rec; /* NULL when added */
	const struct ctl_record *new_rec; /* NULL when removed */
	char what[256];                  /* changed: "host a -> b; certificate replaced" */
};

struct ctldiff {
	struct ctldiff_entry *e;
	size_t n;
	size_t unchanged;
	int old_mode, new_mode;          /* enum cluster_mode; old -1 when there was no CTL */
	int old_hash, new_hash;          /* CTL_HASH_* of the signature; 0: not compared */
};

/* Compares two record lists (old may be empty: a create). The entries point into the
 * lists, which must outlive the diff. */
int ctldiff_compute(const struct ctl_record *old_recs, size_t nold, int old_mode,
		    const struct ctl_record *new_recs, size_t nnew, int new_mode,
		    struct ctldiff *out, struct ctl_err *err);
void ctldiff_free(struct ctldiff *d);
/* The signature digest of the current CTL and of the new one: a different
 * digest is a change, even when every record stays. */
void ctldiff_set_digest(struct ctldiff *d, int old_hash, int new_hash);
/* Nothing changes: no record, the same mode, the same digest. */
bool ctldiff_is_empty(const struct ctldiff *d);
size_t ctldiff_count(const struct ctldiff *d, int kind);
/* One line per change, then a summary line. */
void ctldiff_print(FILE *fp, const struct ctldiff *d);
struct json_object *ctldiff_json(const struct ctldiff *d);
/* Every SAST record of new_recs (the tokens that can sign the next CTL), one line each
 * with its subject and certificate SHA-256; "(new)" when old_recs has no SAST record with
 * the same certificate. Printed before signing whether changed or not. */
void ctldiff_print_sasts(FILE *fp, const struct ctl_record *new_recs, size_t nnew,
			 const struct ctl_record *old_recs, size_t nold);
/* The same as a JSON array of {"subject", "sha256", "new"}. */
struct json_object *ctldiff_sasts_json(const struct ctl_record *new_recs, size_t nnew,
				       const struct ctl_record *old_recs, size_t nold);
/* "SAST CN=...,O=... serial 0a1b host h ip a.b.c.d" into buf. */
void ctldiff_describe(const struct ctl_record *r, char *buf, size_t n);

#endif
