/* internal.h - shared between libctl's own files; not part of the public API. */
#ifndef CTL_INTERNAL_H
#define CTL_INTERNAL_H

#include "bytes.h"
#include "ctl.h"

/* What differs between the header kinds a writer produces. */
struct ctl_hdr_spec {
	uint8_t version_major, version_minor;
	bool has_signer_version;
	uint8_t signer_version_minor;
	const struct ctl_enc_info *enc; /* .enc.sgn only */
	/* .tlv only: the body's record of the signer; the header names the signer with its
	 * strings (tags 3, 5, 6), byte for byte, so a reader that compares strings finds it */
	const struct ctl_record *signer_rec;
};

/* Writes header (per spec) + body, computes the signature through the signer and puts
 * it in place. opts->file_name is required. */
int ctl_build_signed(const struct ctl_hdr_spec *spec, const uint8_t *body, size_t body_len,
		     const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		     struct ctl_buf *out, struct ctl_err *err);

#endif
