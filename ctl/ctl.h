/*
 * ctl.h - the file formats of SPEC.md §3 (CTL/ITL .tlv, .sgn, .enc.sgn): parse, build
 * (through a signer callback), verify, decrypt. OpenSSL only; no tokens.
 *
 * Conventions:
 *  - Functions return CTL_OK (0) or a ctl_status code, and fill a struct ctl_err with
 *    one line a user can act on. Status values are also the programs' exit codes.
 *  - Byte strings are struct ctl_buf (owned, freed by the owner's _free/_clear).
 *  - Names (subject, issuer, signer) are C strings in certificate order,
 *    e.g. "CN=SAST-ADN0001,O=Example Corp,OU=Voice" (see ctl_name_string()). They are
 *    never compared as strings: see ctl_cert_id_equal() for "this certificate is that
 *    record / that signer".
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Status codes; identical to the documented exit codes of ctlverify and ctlsign. */
enum ctl_status {
	CTL_OK = 0,
	CTL_E_INTERNAL = 1,    /* bug or out of memory */
	CTL_E_USAGE = 2,       /* bad command line or option value */
	CTL_E_IO = 3,          /* file cannot be read or written */
	CTL_E_MALFORMED = 4,   /* input is not a well-formed file of its kind */
	CTL_E_SIGNATURE = 5,   /* signature does not verify */
	CTL_E_SIGNER = 6,      /* signer not found / not trusted for this file */
	CTL_E_UNSUPPORTED = 7, /* unsupported algorithm, key type or version */
	CTL_E_DECRYPT = 8,     /* key unwrap, decryption or plaintext hash failed */
	CTL_E_POLICY = 9,      /* refused by a trust or token rule (role, file name, mode...) */
	CTL_E_NETWORK = 10,    /* TFTP/TLS transfer failed, server down, file missing */
	CTL_E_TOKEN = 11,      /* token absent, removed, locked, wrong PIN, PKCS#11 error */
	CTL_E_CANCELLED = 12,  /* the user declined or a wait timed out */
	CTL_E_PARTIAL = 13,    /* bulk operation: some items failed, others succeeded */
};

/* Room for a message naming two long paths and the reason after them; a longer one is
 * cut and ends with "...". */
#define CTL_ERR_MAX 2048

struct ctl_err {
	int code;              /* enum ctl_status */
	char msg[CTL_ERR_MAX]; /* one line, no trailing newline */
};

/* Sets err (if non-NULL) and returns code. printf-style. */
int ctl_fail(struct ctl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds context in front of an existing message: "ctx: old message". */
int ctl_fail_prefix(struct ctl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *ctl_status_name(int code); /* "malformed", "signature", ... */

struct ctl_buf {
	uint8_t *data;
	size_t len;
};
void ctl_buf_clear(struct ctl_buf *b);  /* wipes and frees; leaves {NULL,0} */
int ctl_buf_set(struct ctl_buf *b, const void *data, size_t len); /* copy; 0 on ENOMEM */
/* Lowercase hex of n bytes: into out (2n+1 chars, NUL-terminated), or a malloc'd string
 * (caller frees; NULL on ENOMEM). */
void ctl_hex_to(const uint8_t *p, size_t n, char *out);
char *ctl_hex(const uint8_t *p, size_t n);
/* The value of one hex digit (either case), or -1. */
int ctl_hex_digit(int c);

/* --- algorithms and roles --- */

enum ctl_hash { CTL_HASH_SHA1 = 1, CTL_HASH_SHA256 = 2, CTL_HASH_SHA512 = 3 };
const EVP_MD *ctl_hash_md(int hash_alg);      /* NULL if unknown */
const char *ctl_hash_name(int hash_alg);      /* "sha1", "sha256", "sha512", "unknown" */
int ctl_hash_from_name(const char *name);     /* 0 if unknown */

enum ctl_role {
	CTL_ROLE_SAST = 0,
	CTL_ROLE_CCM = 1,
	CTL_ROLE_CCM_TFTP = 2,
	CTL_ROLE_TFTP = 3,
	CTL_ROLE_CAPF = 4,
	CTL_ROLE_APP_SERVER = 7,
	CTL_ROLE_TVS = 21,
};
const char *ctl_role_name(int role);          /* "SAST", "CCM+TFTP", ...; NULL if unknown */
/* A role for people, never NULL: its name; else with buf (n > 0, `show`) "none" for a
 * record without one (-1) or "unknown-ROLE" written into buf; else "unknown role". */
const char *ctl_role_label(int role, char *buf, size_t n);
int ctl_role_from_name(const char *name);     /* case-insensitive: sast ccm ccm+tftp tftp capf app-server tvs; -1 if unknown */
bool ctl_role_is_tftp(int role);              /* TFTP or CCM+TFTP */

/* --- CTL/ITL records (SPEC §3.2) --- */

struct ctl_record {
	char *dns_name;        /* tag 2, NULL if absent; "" if one NUL byte (real SAST records) */
	char *subject;         /* tag 3, NULL if absent (non-secure server records) */
	int role;              /* tag 4 (required when parsed); -1 if absent */
	char *issuer;          /* tag 5, NULL if absent */
	struct ctl_buf serial; /* tag 6, empty if absent */
	struct ctl_buf pubkey; /* tag 7: PKCS#1 RSAPublicKey DER, or uncompressed EC point */
	struct ctl_buf cert_sig; /* tag 8: the certificate's signature value */
	struct ctl_buf cert;   /* tag 9: certificate DER; empty in non-secure server records */
	bool has_ip;
	uint8_t ip[4];         /* tag 10 */
	struct ctl_buf cert_hash; /* tag 11 */
	int cert_hash_alg;     /* tag 12; 0 if absent */
	size_t offset;         /* where the record starts in the file (parsed records) */
};
void ctl_record_clear(struct ctl_record *r);

/* Fills a record from a certificate: subject, issuer, serial, public key, certificate
 * signature and (if with_cert) the DER. dns_name and ip may be NULL. RSA and EC keys. */
int ctl_record_from_cert(X509 *cert, int role, const char *dns_name, const uint8_t *ip,
			 bool with_cert, struct ctl_record *out, struct ctl_err *err);
/* Decodes the record's certificate; NULL (and err) if there is none or it is bad. */
X509 *ctl_record_x509(const struct ctl_record *r, struct ctl_err *err);

/* --- the signed header (SPEC §3.1) and whole files --- */

/* FIRMWARE: signed firmware or another vendor-signed TFTP file (.loads, .sbn, .sbin,
 * .zz.sgn, .bin.sgn): header version 1.1, signed by the vendor's firmware key, which no
 * CTL lists. Shown, checked with a given certificate and stripped; never trusted. */
enum ctl_kind { CTL_KIND_CTL = 1, CTL_KIND_ITL, CTL_KIND_SGN, CTL_KIND_ENC_SGN, CTL_KIND_FIRMWARE };
const char *ctl_kind_name(int kind);          /* "CTL", "ITL", "SGN", "ENC-SGN", "FIRMWARE" */

struct ctl_enc_info {        /* tags 16..27 (.enc.sgn only) */
	uint8_t iv_type;         /* 18 */
	struct ctl_buf iv;       /* 19, 16 bytes */
	uint16_t pad_count;      /* 20 */
	uint8_t key_type;        /* 22 */
	uint16_t key_bits;       /* 23: bits of the RSA key that wraps it (2048 in the vectors) */
	uint8_t key_alg;         /* 24: 1 = AES */
	struct ctl_buf wrapped_key; /* 25 */
	int content_hash_alg;    /* 26 */
	struct ctl_buf content_hash; /* 27 */
};

struct ctl_header {
	uint8_t version_major, version_minor;       /* tag 1 */
	uint16_t header_len;                        /* tag 2 */
	bool has_signer_version;
	uint8_t signer_version_major, signer_version_minor; /* tag 28 */
	char *signer_name;                          /* tag 3/4 */
	char *issuer_name;                          /* tag 3/6 */
	struct ctl_buf signer_serial;               /* tag 3/5 */
	int hash_alg;                               /* tag 7/8 */
	int sig_alg;                                /* tag 7/9/10: 0 = RSA */
	int modulus_code;                           /* tag 7/9/11: 0..3 = 512..4096 */
	struct ctl_buf signature;                   /* tag 12 */
	size_t sig_offset, sig_elem_len;            /* tag-12 element's place in the file */
	char *file_name;                            /* tag 14 */
	uint32_t timestamp;                         /* tag 15 (0 if absent) */
	bool has_timestamp;                         /* tag 15 present (optional in FIRMWARE only) */
	bool has_enc;
	struct ctl_enc_info enc;                    /* tags 16..27 */
	unsigned pad_count;                         /* tag 13 bytes */
};

struct ctl_file {
	int kind;                       /* enum ctl_kind */
	struct ctl_header hdr;
	struct ctl_record *records;     /* CTL/ITL only */
	size_t nrecords;
	struct ctl_buf raw;             /* the whole file as read */
	size_t body_offset;             /* == hdr.header_len */
};

/* Limits a parser enforces on hostile input. */
#define CTL_MAX_FILE_SIZE (16u * 1024 * 1024)
#define CTL_MAX_RECORDS 4096

/* Parses a file (copied into f->raw). Any structural problem is CTL_E_MALFORMED with the
 * offending tag and offset in the message; an unknown version is CTL_E_UNSUPPORTED.
 * Kind: version 1.2 -> CTL, or ITL when the header file name starts with "ITL";
 * version 1.0 -> SGN; version 1.1 -> FIRMWARE (no timestamp needed);
 * version 2.0 with encryption info -> ENC_SGN. */
int ctl_parse(const uint8_t *data, size_t len, struct ctl_file **out, struct ctl_err *err);
int ctl_parse_file(const char *path, struct ctl_file **out, struct ctl_err *err);
void ctl_file_free(struct ctl_file *f);

/* The signed bytes: the whole file without its tag-12 element. */
int ctl_signed_bytes(const struct ctl_file *f, struct ctl_buf *out, struct ctl_err *err);
/* The payload after the header (.sgn: original bytes; .enc.sgn: ciphertext). */
void ctl_body(const struct ctl_file *f, const uint8_t **data, size_t *len);

/* Verifies the header signature with a public key / certificate. CTL_E_SIGNATURE on
 * mismatch, CTL_E_UNSUPPORTED for unknown hash or signature algorithm. */
int ctl_verify_pkey(const struct ctl_file *f, EVP_PKEY *pkey, struct ctl_err *err);
int ctl_verify_cert(const struct ctl_file *f, X509 *cert, struct ctl_err *err);

/* The record whose issuer name and serial match the header's signer; NULL if none.
 * With role >= 0 the record must also have that role. */
const struct ctl_record *ctl_find_signer(const struct ctl_file *f, int role);
/* A CTL/ITL checked against its own signer record (CTL: a SAST record; ITL: any record
 * with a certificate). CTL_E_SIGNER if no such record. */
int ctl_verify_self(const struct ctl_file *f, struct ctl_err *err);

/* .enc.sgn: signature must already be verified by the caller (the function refuses
 * nothing on its own, but the tools always verify first). Unwraps the AES key with the
 * device's RSA private key, decrypts, strips the padding, checks the plaintext hash. */
int ctl_decrypt(const struct ctl_file *f, EVP_PKEY *device_key, struct ctl_buf *plain,
		struct ctl_err *err);

/* --- building and signing --- */

/* The signer callback: sign `digest` (already hashed with hash_alg) with RSA PKCS#1 v1.5
 * and append the signature to `sig`. Tokens implement this through PKCS#11. */
struct cbb;
typedef int (*ctl_sign_fn)(void *ctx, int hash_alg, const uint8_t *digest, size_t digest_len,
			   struct cbb *sig, struct ctl_err *err);

struct ctl_signer {
	X509 *cert;        /* the signer's certificate (names, serial, key size); not owned */
	ctl_sign_fn sign;
	void *ctx;
};
/* A software signer over an EVP_PKEY (tests, and any EVP_PKEY a provider gives). */
void ctl_signer_from_pkey(struct ctl_signer *s, EVP_PKEY *key, X509 *cert);

struct ctl_build_opts {
	int hash_alg;              /* CTL_HASH_* (default SHA-512 when 0) */
	uint32_t timestamp;        /* seconds since the epoch; 0 = now */
	const char *file_name;     /* header file name (tag 14), e.g. "CTLFile.tlv" */
	int signer_version_minor;  /* .tlv only: 0 -> 1.0 (CTL), 1 -> 1.1 (ITL); -1 = by kind */
};

/* Builds a CTL or ITL from records. Records are written in the order given, with the
 * fields in the order 1,2,3,5,6,4,7,8,9,10,11,12 (absent ones skipped). */
int ctl_build_tlv(int kind, const struct ctl_record *recs, size_t nrecs,
		  const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		  struct ctl_buf *out, struct ctl_err *err);
/* Builds a .sgn of content. */
int ctl_build_sgn(const uint8_t *content, size_t len, const struct ctl_signer *signer,
		  const struct ctl_build_opts *opts, struct ctl_buf *out, struct ctl_err *err);
/* Builds an .enc.sgn: fresh AES-128 key and IV from the OpenSSL RNG, XML padded with
 * '\r' to 16 bytes, AES-128-CBC, key wrapped to device_cert's RSA key (PKCS#1 v1.5),
 * content hash with opts->hash_alg. An EC device certificate is CTL_E_UNSUPPORTED. */
int ctl_build_enc_sgn(const uint8_t *plain, size_t len, X509 *device_cert,
		      const struct ctl_signer *signer, const struct ctl_build_opts *opts,
		      struct ctl_buf *out, struct ctl_err *err);
/* As above with a given key and IV (deterministic rebuilds in tests). */
int ctl_build_enc_sgn_with(const uint8_t *plain, size_t len, X509 *device_cert,
			   const uint8_t key[16], const uint8_t iv[16],
			   const struct ctl_signer *signer, const struct ctl_build_opts *opts,
			   struct ctl_buf *out, struct ctl_err *err);

/* As above around an already wrapped key (byte-exact rebuilds of a given file in tests). */
int ctl_build_enc_sgn_wrapped(const uint8_t *plain, size_t len, const uint8_t key[16],
			      const uint8_t iv[16], const uint8_t *wrapped, size_t wrapped_len,
			      const struct ctl_signer *signer, const struct ctl_build_opts *opts,
			      struct ctl_buf *out, struct ctl_err *err);
/* .enc.sgn: just unwraps the AES-128 content key with the device's RSA key (tests, tools
 * that show the key). Wipe key after use. CTL_E_DECRYPT when it does not unwrap. */
int ctl_unwrap_key(const struct ctl_file *f, EVP_PKEY *device_key, uint8_t key[16],
		   struct ctl_err *err);

/* --- certificates --- */

/* Name in certificate order, RFC 4514 escaping, ',' separators: "CN=a,O=b,OU=c". */
char *ctl_name_string(const X509_NAME *name);
/* Lowercase hex fingerprint of the DER with hash_alg; colon-free. Caller frees. */
char *ctl_cert_fingerprint(X509 *cert, int hash_alg);
/* Loads a certificate from PEM or DER. */
X509 *ctl_cert_load(const char *path, struct ctl_err *err);
/* A server's certificate from a file that may hold its chain: every certificate of a PEM
 * file (or the one of a DER file); with several, the leaf (the one that issued none of
 * the others). *ncerts: how many the file holds. Not exactly one leaf: CTL_E_USAGE; a
 * private key instead of a certificate is named as such. */
X509 *ctl_cert_load_leaf(const char *path, size_t *ncerts, struct ctl_err *err);
X509 *ctl_cert_from_der(const uint8_t *der, size_t len, struct ctl_err *err);
/* Loads a private key from PEM or DER. */
EVP_PKEY *ctl_pkey_load(const char *path, struct ctl_err *err);
/* Modulus code (tag 11) for an RSA key size in bits; -1 if not 512/1024/2048/4096. */
int ctl_modulus_code(int bits);

/* --- "this certificate is that record / that signer" (ctl/match.c): the one rule --- */

/* Headers (tags 3/5, 3/6) and records (tags 5, 6) name a certificate by its issuer name
 * (a string) and serial number (big-endian bytes). Two such names are the same when
 *  - the serial numbers are equal as integers: leading zero bytes (sign padding) do not
 *    matter, and a certificate's serial counts by its magnitude (the files carry no sign);
 *    an empty serial names nothing (it is not serial 0);
 *  - the issuer names are equal as parsed X.509 names under X509_NAME_cmp, i.e. RFC 5280
 *    §7.1 style: ASCII letters compared case-insensitively, leading/trailing spaces
 *    ignored and runs of inner spaces counted as one, the ASN.1 string type ignored
 *    (NumericString too); the grouping of values into RDNs matters (CN=a+O=b is not
 *    CN=a,O=b), their order inside one RDN does not. A name parsed from a string also
 *    matches with its RDNs in reverse order (our writer prints certificate order, RFC 4514
 *    prints reverse order, the vendor prints CN first). An empty or unparseable name
 *    names nothing. OpenSSL's rendered string of a name is never compared. */

/* Parses a name string into an X509_NAME, entries in the string's order. Accepted:
 *  - ctl_name_string()'s output (RFC 2253 escaping, certificate order) and RFC 4514:
 *    TYPE=VALUE separated by ',' (new RDN) or '+' (same RDN); escapes \, \+ \" \\ \;
 *    \< \> \= \# \space and \XX (one byte in hex); VALUE may be #HEX (the BER of the
 *    value, kept with its ASN.1 type); other values become UTF8String (must be UTF-8);
 *  - the vendor's syntax: ';' separators, lowercase types, "quoted values" (inside
 *    quotes everything is literal, spaces kept, \" and \\ escaped);
 *  - spaces around types, '=' and separators; unescaped trailing spaces are dropped.
 * Types: cn c l st o ou street dc uid emailAddress serialNumber title sn gn ... in any
 * case, OpenSSL's short or long names, or a dotted OID.
 * CTL_OK (*out is the caller's), CTL_E_MALFORMED if unparseable, CTL_E_INTERNAL (ENOMEM). */
int ctl_name_parse(const char *s, X509_NAME **out);

/* A certificate's name (issuer, serial) prepared for comparison. */
struct ctl_cert_id {
	X509_NAME *name; /* the issuer (NumericString values as UTF8String) */
	X509_NAME *rev;  /* its RDNs reversed (names parsed from strings, 2+ RDNs); or NULL */
	BIGNUM *serial;  /* the serial's magnitude */
};
/* From a certificate / from a header's or record's issuer string and serial bytes.
 * CTL_OK, CTL_E_MALFORMED (names nothing: see above), CTL_E_INTERNAL. On failure *id is
 * empty, and equal to nothing. */
int ctl_cert_id_from_cert(X509 *cert, struct ctl_cert_id *id);
int ctl_cert_id_from_fields(const char *issuer, const struct ctl_buf *serial,
			    struct ctl_cert_id *id);
/* The rule. False if either is empty. */
bool ctl_cert_id_equal(const struct ctl_cert_id *a, const struct ctl_cert_id *b);
void ctl_cert_id_clear(struct ctl_cert_id *id);
/* The ids of n records (tags 5, 6), for comparing many records with many: (*out)[i] is
 * empty where record i names nothing. CTL_OK or CTL_E_INTERNAL (ENOMEM). */
int ctl_cert_ids_of_records(const struct ctl_record *recs, size_t n, struct ctl_cert_id **out);
void ctl_cert_ids_free(struct ctl_cert_id *ids, size_t n);

/* The rule in the forms the tools need: */
/* cert is the certificate named by (issuer, serial) of a header or record. */
bool ctl_cert_is(X509 *cert, const char *issuer, const struct ctl_buf *serial);
/* r's issuer and serial (tags 5, 6) name the same certificate as (issuer, serial). */
bool ctl_record_is(const struct ctl_record *r, const char *issuer, const struct ctl_buf *serial);
/* a and b name the same certificate (tags 5, 6 of both). */
bool ctl_records_same_cert(const struct ctl_record *a, const struct ctl_record *b);
/* r is the record of cert: its tags 5, 6 name cert, and when it carries a certificate
 * (tag 9) that is cert, byte for byte. */
bool ctl_record_is_cert(const struct ctl_record *r, X509 *cert);

/* --- files --- */

/* "DIR/NAMESUFFIX", malloc'd (caller frees); NULL on ENOMEM. */
char *ctl_path_join(const char *dir, const char *name, const char *suffix);
/* Reads a whole regular file, refusing more than max bytes. */
int ctl_read_file(const char *path, size_t max, struct ctl_buf *out, struct ctl_err *err);
/* Reads an open file to its end into *out (overwritten, not freed), retrying interrupted
 * reads and refusing more than max bytes; name is for messages. The caller opened it,
 * checked it and closes it. A failed read leaves its errno. */
int ctl_read_fd(int fd, const char *name, size_t max, struct ctl_buf *out, struct ctl_err *err);
/* Lines of an open file (a log), read in chunks with interrupted reads retried. Each
 * line comes without its newline and NUL-terminated in the reader's buffer (valid until
 * the next call); *nl says whether it ended with one (the last may not). */
struct ctl_lines {
	int fd;
	const char *name;  /* for messages */
	char *buf;
	size_t cap, start, end;
	bool eof;
};
void ctl_lines_init(struct ctl_lines *r, int fd, const char *name);
/* 1: a line in *line, *len; 0: the end; CTL_E_IO (<0 as -CTL_E_IO): a read failed or a
 * line is longer than max (err set). */
int ctl_lines_next(struct ctl_lines *r, size_t max, char **line, size_t *len, bool *nl,
		   struct ctl_err *err);
void ctl_lines_free(struct ctl_lines *r);
/* Why ctl_read_regular refused a file without reading it. */
enum { CTL_READ_NOT_REGULAR = 1, CTL_READ_TOO_LARGE = 2 };
/* ctl_read_fd of a file the caller opened, once fstat says it is a regular file (a FIFO or
 * a device is never read) of at most max bytes; the caller closes it. Refused: CTL_E_IO
 * ("NAME is not a regular file", "NAME is larger than MAX bytes; refusing to read it")
 * and *refused (when not NULL) says which; else *refused is 0 and a failed fstat or read
 * leaves its errno. */
int ctl_read_regular(int fd, const char *name, size_t max, struct ctl_buf *out, int *refused,
		     struct ctl_err *err);
/* write(2) until all of data is written, retrying interrupted writes: 0, or -1 with
 * write's errno. */
int ctl_write_all(int fd, const uint8_t *data, size_t len);
/* Writes atomically: temp file in the same directory, fsync, rename, fsync dir.
 * mode as for open(2). On failure nothing is left behind and the old file is intact,
 * except when only the final fsync of the directory failed: see ctl_write_atomic_ex. */
int ctl_write_atomic(const char *path, const uint8_t *data, size_t len, unsigned mode,
		     struct ctl_err *err);
/* ctl_write_atomic that also says whether the new file was renamed into place (*renamed
 * 1) when it fails: then only the directory's fsync failed, the new file is in place and
 * its durability is in doubt. */
int ctl_write_atomic_ex(const char *path, const uint8_t *data, size_t len, unsigned mode,
			int *renamed, struct ctl_err *err);
/* The first half of ctl_write_atomic, for a caller that renames several files as one
 * step: writes and syncs PATH.tmp.XXXXXX, whose name goes to *tmp_out (caller frees;
 * renames it, or unlinks it). On failure nothing is left behind. */
int ctl_write_temp(const char *path, const uint8_t *data, size_t len, unsigned mode,
		   char **tmp_out, struct ctl_err *err);
/* Removes what ctl_write_atomic(DIR/NAME) leaves when it is killed before its rename:
 * regular files NAME.tmp.XXXXXX. Call only while no writer of DIR/NAME can be running
 * (under the caller's lock). *removed (may be NULL) counts them. */
int ctl_remove_atomic_leftovers(const char *dir, const char *name, size_t *removed,
				struct ctl_err *err);

#endif
