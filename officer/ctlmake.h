/*
 * ctlmake.h - the records of a CTL as the officer commands assemble them: SAST records
 * from tokens' certificates, server records from the cluster file, the security mode
 * (SPEC §4.2, §4.3), and finding records by certificate or by a user's selector.
 */
#ifndef CTL_CTLMAKE_H
#define CTL_CTLMAKE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "cluster.h"
#include "ctl.h"

/* A growable list of records (owned). */
struct ctlmake_list {
	struct ctl_record *recs;
	size_t n;
};
void ctlmake_list_free(struct ctlmake_list *l);
/* Appends a deep copy of r. */
int ctlmake_append_copy(struct ctlmake_list *l, const struct ctl_record *r, struct ctl_err *err);
/* Appends a SAST record made from cert (with the certificate, whatever the mode). */
int ctlmake_append_sast(struct ctlmake_list *l, X509 *cert, struct ctl_err *err);
/* Appends one record per server of the cluster that belongs in the CTL, in file order
 * (TVS and application servers are left out: they belong to the ITL). Mixed mode: with
 * the certificate; non-secure: tags 7, 8 and 9 left out. */
int ctlmake_append_servers(struct ctlmake_list *l, const struct cluster *c, int mode,
			   struct ctl_err *err);
/* Roles that go into the ITL only: TVS and APP-SERVER. */
bool ctlmake_role_itl_only(int role);

/* The ITL (SPEC §3.2, §4.5). Its signer must be a TFTP or CCM+TFTP [server] of the
 * cluster: the entry whose certificate is cert (ctl_record_is_cert), or NULL. */
const struct cluster_server *ctlmake_itl_signer_server(const struct cluster *c, X509 *cert);
/* The ITL's records: the signer's certificate as a SAST record (where readers look for
 * an ITL's signer), then every [server] of the cluster (CCM, CCM+TFTP, TFTP, CAPF, TVS,
 * APP-SERVER) in file order, with certificates whatever the mode (phones without a CTL
 * check their configuration files against it); alternate TFTP servers and firewalls are
 * left out. CTL_E_POLICY when signer is not a TFTP or CCM+TFTP server of the cluster. */
int ctlmake_itl_records(struct ctlmake_list *l, const struct cluster *c, X509 *signer,
			struct ctl_err *err);

/* Index of the SAST record of cert (ctl_record_is_cert), or -1. */
long ctlmake_find_sast(const struct ctl_record *recs, size_t n, X509 *cert);
size_t ctlmake_count_role(const struct ctl_record *recs, size_t n, int role);

/* The security mode a record list is in: CLUSTER_NONSECURE when it has server records
 * and none carries a certificate, else CLUSTER_MIXED. */
int ctlmake_mode_of(const struct ctl_record *recs, size_t n);

/* Records matching a selector: certificate serial (hex, ':' allowed), SHA-1 or SHA-256
 * fingerprint of the certificate (hex), or the subject (whole, or its CN value), all
 * case-insensitive. Fills idx (capacity max) and returns how many matched. */
size_t ctlmake_select(const struct ctl_record *recs, size_t n, const char *selector,
		      size_t *idx, size_t max);

#endif
