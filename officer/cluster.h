/*
 * cluster.h - the cluster description file (SPEC §4.2): an INI file naming the security
 * mode, the digest, the TFTP directories to publish to, and every server whose certificate
 * goes into the CTL.
 *
 *   [cluster]
 *   mode = mixed | non-secure
 *   digest = sha512 | sha256 | sha1      (sha1: allowed, with a warning)
 *   output = tftp/                        (repeatable)
 *   [server NAME]    role = ccm | ccm+tftp | tftp | capf | tvs | app-server; host; ip; cert
 *                    (tvs and app-server servers go into the ITL only, never the CTL)
 *   [tftp NAME]      an alternate TFTP server (TFTP role): host; ip; cert
 *   [firewall NAME]  an ASA firewall (CCM role): host; ip; cert
 *
 * Relative paths (output, cert) are relative to the file's directory. Every error names
 * the file and line: "cluster.ini:12: ...".
 */
#ifndef CTL_CLUSTER_H
#define CTL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "ctl.h"

enum cluster_mode { CLUSTER_NONSECURE = 0, CLUSTER_MIXED = 1 };
enum cluster_kind { CLUSTER_SERVER = 1, CLUSTER_ALT_TFTP, CLUSTER_FIREWALL };

struct cluster_server {
	int kind;          /* enum cluster_kind */
	char *name;        /* the section's name */
	int role;          /* enum ctl_role */
	char *host;
	bool has_ip;
	uint8_t ip[4];
	char *cert_path;   /* resolved */
	X509 *cert;        /* loaded (owned) */
	int line;          /* the section's line */
};

struct cluster {
	char *path;
	int mode;          /* enum cluster_mode */
	int hash_alg;      /* CTL_HASH_* */
	char **outputs;    /* resolved directory paths */
	size_t noutputs;
	struct cluster_server *servers;
	size_t nservers;
};

/* Reads, validates and loads every certificate. CTL_E_USAGE for a bad file (with line),
 * CTL_E_IO if the file cannot be read. */
int cluster_load(const char *path, struct cluster **out, struct ctl_err *err);

/* The server certificates are checked as they load: from a file holding several, the
 * leaf is taken (the one that issued none of the others; a note says so); a CA
 * certificate (CA:TRUE) that is not self-signed is refused (CTL_E_POLICY); an expired
 * or not yet valid certificate, and a host that is neither the certificate's CN nor in
 * its subject alternative names (CAPF entries excepted: the vendor names those
 * CAPF-<id>), are warnings, refusals (CTL_E_POLICY) with strict. */
struct cluster_load_opts {
	bool strict;       /* --strict */
	FILE *warn;        /* warnings and notes (NULL: stderr) */
};
int cluster_load_opts(const char *path, const struct cluster_load_opts *lo,
		      struct cluster **out, struct ctl_err *err);

/* A mixed-mode CTL needs a TFTP record (role tftp or ccm+tftp): CTL_E_POLICY without. */
int cluster_check_mode(const struct cluster *c, int mode, struct ctl_err *err);
void cluster_free(struct cluster *c);

const char *cluster_mode_name(int mode);   /* "mixed", "non-secure" */
const char *cluster_kind_name(int kind);   /* "server", "tftp", "firewall" */

#endif
