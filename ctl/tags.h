/* tags.h - the tag numbers of the file formats, named once (SPEC §3). Header tags and
 * record tags are two name spaces: tag 12 is the signature in a header and the certificate
 * hash algorithm in a record. */
#ifndef CTL_TAGS_H
#define CTL_TAGS_H

/* The signed header (SPEC §3.1) and the encryption info of .enc.sgn (SPEC §3.4). */
enum ctl_hdr_tag {
	HDR_VERSION = 1,            /* 2 bytes: major, minor */
	HDR_LENGTH = 2,             /* u16: file start to header end */
	HDR_SIGNER_INFO = 3,        /* container: HDR_SIGNER_NAME, HDR_SIGNER_SERIAL, HDR_ISSUER_NAME */
	HDR_SIGNER_NAME = 4,
	HDR_SIGNER_SERIAL = 5,
	HDR_ISSUER_NAME = 6,
	HDR_SIG_INFO = 7,           /* container: HDR_HASH_ALG, HDR_SIG_ALG_INFO */
	HDR_HASH_ALG = 8,
	HDR_SIG_ALG_INFO = 9,       /* container: HDR_SIG_ALG, HDR_MODULUS */
	HDR_SIG_ALG = 10,           /* 0 = RSA */
	HDR_MODULUS = 11,           /* 0..3 = 512..4096 bits */
	HDR_SIGNATURE = 12,
	HDR_PADDING = 13,           /* one byte, no length */
	HDR_FILE_NAME = 14,
	HDR_TIMESTAMP = 15,
	HDR_ENC_INFO = 16,          /* container: HDR_IV_INFO, HDR_KEY_INFO */
	HDR_IV_INFO = 17,           /* container: HDR_IV_TYPE, HDR_IV, HDR_PAD_COUNT */
	HDR_IV_TYPE = 18,
	HDR_IV = 19,
	HDR_PAD_COUNT = 20,
	HDR_KEY_INFO = 21,          /* container: HDR_KEY_TYPE .. HDR_WRAPPED_KEY */
	HDR_KEY_TYPE = 22,
	HDR_KEY_BITS = 23,
	HDR_KEY_ALG = 24,
	HDR_WRAPPED_KEY = 25,
	HDR_CONTENT_HASH_ALG = 26,
	HDR_CONTENT_HASH = 27,
	HDR_SIGNER_VERSION = 28,    /* .tlv only */
	HDR_TAG_MAX = 28,
};

/* A CTL/ITL record (SPEC §3.2). */
enum ctl_rec_tag {
	REC_LENGTH = 1,             /* u16, the whole record */
	REC_DNS_NAME = 2,
	REC_SUBJECT = 3,
	REC_ROLE = 4,               /* u16 */
	REC_ISSUER = 5,
	REC_SERIAL = 6,
	REC_PUBKEY = 7,
	REC_CERT_SIG = 8,
	REC_CERT = 9,
	REC_IP = 10,
	REC_CERT_HASH = 11,
	REC_CERT_HASH_ALG = 12,
	REC_TAG_MAX = 12,
};

#endif
