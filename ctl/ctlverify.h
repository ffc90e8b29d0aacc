/*
 * ctlverify.h - the device side's trust decisions (SPEC §5) as a small C library for
 * phones and CTI/JTAPI clients: keep a trust store, install CTLs and ITLs, verify signed
 * (.sgn) and encrypted (.enc.sgn) files, and check a TLS peer certificate against the CTL.
 *
 * Link with `pkg-config --cflags --libs ctlverify`. OpenSSL is used inside; no OpenSSL
 * type appears here.
 *
 * Every function that can fail returns CTLV_OK (0) or one of the CTLV_E_* codes (the same
 * values as ctlverify's exit codes). After a failure, ctlv_last_error() is one line that
 * says what went wrong. Nothing is written to stdout or stderr by the library.
 *
 * A store is not thread-safe; use one per thread. Several processes may open the same
 * store directory and keep it open as long as they like: an open store holds no lock.
 * ctlv_store_open() reads the directory under a shared lock (flock on DIR/lock) and
 * releases it; ctlv_install() takes the exclusive lock only while it judges and commits
 * the file, reading the store again under it (so it judges against what another process
 * may have installed meanwhile), and writes its PID into DIR/lock while it holds it.
 * Either waits at most ctlv_store_set_wait() seconds (default 10; for opening:
 * ctlv_store_open_wait) for a lock another process holds, then returns CTLV_E_BUSY
 * naming that process's PID.
 * An open store object sees the files as they were when it was opened or when it last
 * installed; open the store again to see what other processes installed since.
 */
#ifndef CTLVERIFY_H
#define CTLVERIFY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CTLV_API __attribute__((visibility("default")))
#else
#define CTLV_API
#endif

/* Return codes (= ctlverify exit codes). */
#define CTLV_OK 0
#define CTLV_E_INTERNAL 1    /* bug or out of memory */
#define CTLV_E_USAGE 2       /* bad argument */
#define CTLV_E_IO 3          /* file or store cannot be read or written */
#define CTLV_E_MALFORMED 4   /* not a well-formed file of its kind */
#define CTLV_E_SIGNATURE 5   /* signature does not verify */
#define CTLV_E_SIGNER 6      /* signer (or TLS peer) not listed in the held CTL/ITL */
#define CTLV_E_UNSUPPORTED 7 /* unsupported algorithm or version */
#define CTLV_E_DECRYPT 8     /* key unwrap, decryption or plaintext hash failed */
#define CTLV_E_POLICY 9      /* refused by a trust rule (no CTL held, role, name, age) */
#define CTLV_E_NETWORK 10    /* transfer failed (used by the program, not the library) */
#define CTLV_E_BUSY 12       /* the store stayed locked by another process (a wait timed out) */

/* File kinds. */
#define CTLV_KIND_CTL 1
#define CTLV_KIND_ITL 2
#define CTLV_KIND_SGN 3
#define CTLV_KIND_ENC_SGN 4
#define CTLV_KIND_FIRMWARE 5 /* signed firmware or other vendor-signed file: never trusted */

typedef struct ctlv_store ctlv_store;

/* Opens (creating it, mode 0700, if missing) the trust store directory `dir`: the
 * phone's flash. Completes or rolls back an install that a crash interrupted, and
 * refuses (CTLV_E_IO) a store whose files do not match its state file. On failure *out
 * is still set (read ctlv_last_error() from it, then free it) unless out of memory. */
CTLV_API int ctlv_store_open(const char *dir, ctlv_store **out);
/* The same, waiting at most wait_seconds (0 to 3600) for the store's lock, here and in
 * later installs (ctlv_store_open waits 10 seconds). */
CTLV_API int ctlv_store_open_wait(const char *dir, int wait_seconds, ctlv_store **out);
/* A store that lives in memory only (nothing is persisted). NULL if out of memory. */
CTLV_API ctlv_store *ctlv_store_new(void);
/* How long ctlv_install() waits for the store's lock (0 to 3600 seconds; default 10). */
CTLV_API int ctlv_store_set_wait(ctlv_store *s, int seconds);
CTLV_API void ctlv_store_free(ctlv_store *s);

/* The last failure (one line), the last warning ("" if none) and how the last accepted
 * file was trusted ("trusted on first use", "pinned SAST", "signed by held SAST", ...). */
CTLV_API const char *ctlv_last_error(const ctlv_store *s);
CTLV_API const char *ctlv_last_warning(const ctlv_store *s);
CTLV_API const char *ctlv_last_note(const ctlv_store *s);
/* Kind and signer subject of the last file looked at (0 / "" if unknown). */
CTLV_API int ctlv_last_kind(const ctlv_store *s);
CTLV_API const char *ctlv_last_signer(const ctlv_store *s);

/* Pins the first CTL: its signer's certificate must have this SHA-256 or SHA-1
 * fingerprint (hex, colons allowed, any case). Repeatable: any one of them matches.
 * Only matters while no CTL is held; then, with pins set, no ITL is trusted either
 * (ctlv_install refuses any ITL, ctlv_verify_file any file): trust comes only through a
 * CTL signed by a pinned SAST. */
CTLV_API int ctlv_expect_sast(ctlv_store *s, const char *fingerprint);

/* Installs a CTL or ITL (the kind comes from the file). expect_kind is CTLV_KIND_CTL,
 * CTLV_KIND_ITL or 0 (either). Rules:
 *  - first CTL: verified against its own SAST record, trusted on first use, or pinned
 *    (ctlv_expect_sast);
 *  - later CTL: signer must be a SAST record of the held CTL, signature verified with
 *    that record's certificate; a CTL older than the held one is refused (replay);
 *  - ITL while no CTL is held: refused if SAST fingerprints are pinned; otherwise the
 *    first one is verified against its own signer record (trusted on first sight),
 *    later ones must be signed by a certificate of the held ITL;
 *  - ITL while a CTL is held: signer must be a TFTP/CCM+TFTP record of the held CTL;
 *  - a CTL or ITL dated more than 24 hours ahead of this device's clock is refused
 *    (CTLV_E_POLICY, saying whose clock is wrong). When the held file is itself dated
 *    beyond that, the replay rule compares with the time it was installed instead;
 *  - a new CTL judges the held ITL again, in the same commit: it is kept only if signed
 *    by a TFTP/CCM+TFTP record of the new CTL (and not dated beyond the clock), else
 *    dropped (a warning says so; ctlv_held_dropped() tells why and when). A dropped
 *    ITL takes no part in the replay rule.
 * A refused file leaves the store as it was. An identical file is accepted unchanged.
 * The store's exclusive lock is held only during the call (see the top of this file):
 * CTLV_E_BUSY when another process kept it longer than the wait. */
CTLV_API int ctlv_install(ctlv_store *s, const uint8_t *data, size_t len, int expect_kind);

/* Verifies a .sgn or .enc.sgn: signer must be a TFTP or CCM+TFTP record of the held CTL
 * or ITL (with a CTL held, the ITL counts only if that CTL vouched for it, trust
 * "signed-by-ctl"; with SAST fingerprints pinned and no CTL held, nothing is trusted),
 * the header file name must equal requested_name (NULL: not checked). A .sgn
 * yields its payload; an .enc.sgn is verified first, then decrypted with the device's
 * RSA private key (PEM or DER file device_key; required for .enc.sgn). *out is
 * allocated; release it with ctlv_free(). */
CTLV_API int ctlv_verify_file(ctlv_store *s, const uint8_t *data, size_t len,
			      const char *requested_name, const char *device_key,
			      uint8_t **out, size_t *out_len);

/* Decrypts an .enc.sgn without a trust store: if signer_cert (PEM/DER file) is given the
 * signature is verified with it first, and must match; then decrypted with device_key. */
CTLV_API int ctlv_decrypt_file(ctlv_store *s, const uint8_t *data, size_t len,
			       const char *signer_cert, const char *device_key,
			       uint8_t **out, size_t *out_len);

/* TLS peer check (CTI/JTAPI): the certificate (DER) must be byte-identical to the
 * certificate of a CCM or CCM+TFTP record of the held CTL. No CTL held: CTLV_E_POLICY
 * (do not connect at all). Not listed: CTLV_E_SIGNER. Listed but outside its validity
 * period: CTLV_E_POLICY unless flags has CTLV_ALLOW_EXPIRED (then a warning). */
#define CTLV_ALLOW_EXPIRED 1u
CTLV_API int ctlv_check_peer(ctlv_store *s, const uint8_t *der, size_t len, unsigned flags);
/* Whether a CTL is held (call before connecting: no CTL, no secure connection). */
CTLV_API int ctlv_has_ctl(const ctlv_store *s);

/* What the store holds, per kind (CTLV_KIND_CTL or CTLV_KIND_ITL). */
CTLV_API int ctlv_held(const ctlv_store *s, int kind);                  /* 1 or 0 */
CTLV_API long long ctlv_held_installed(const ctlv_store *s, int kind);  /* epoch s */
CTLV_API long long ctlv_held_timestamp(const ctlv_store *s, int kind);  /* header tag 15 */
CTLV_API const char *ctlv_held_signer(const ctlv_store *s, int kind);   /* subject */
CTLV_API const char *ctlv_held_trust(const ctlv_store *s, int kind);    /* see state file */
CTLV_API const char *ctlv_held_sha256(const ctlv_store *s, int kind);   /* hex */
CTLV_API size_t ctlv_held_records(const ctlv_store *s, int kind);
/* Why the last file of this kind held was dropped by a later install ("" if none, or
 * since replaced by a new one); *when (may be NULL) gets the drop time (epoch s). Only an
 * ITL is ever dropped (by a CTL install that does not vouch for its signer). */
CTLV_API const char *ctlv_held_dropped(const ctlv_store *s, int kind, long long *when);
/* Record i of a held file: role name ("SAST", "CCM+TFTP", ...) and subject; NULL when
 * out of range. */
CTLV_API const char *ctlv_held_record_role(const ctlv_store *s, int kind, size_t i);
CTLV_API const char *ctlv_held_record_subject(const ctlv_store *s, int kind, size_t i);

/* Wipes and frees an output of this library. */
CTLV_API void ctlv_free(uint8_t *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
