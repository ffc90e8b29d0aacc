/*
 * devcfg.h - device configurations for encryption (SPEC §3.4): MAC naming, the root
 * element check, the minimal signed config that replaces the clear one, and finding a
 * phone's certificate by MAC.
 */
#ifndef CTL_DEVCFG_H
#define CTL_DEVCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "ctl.h"

/* "SEP001122AABBCC.cnf.xml" (hex in either case) -> mac = "001122AABBCC". */
bool devcfg_mac_from_name(const char *name, char mac[13]);

/* CTL_OK if the XML's root element is <device>; CTL_E_MALFORMED (err says what the root
 * is, or that it is not XML) otherwise. */
int devcfg_check_device(const uint8_t *xml, size_t len, struct ctl_err *err);

/* The minimal config: fullConfig false, the boot elements ipAddressMode, loadInformation,
 * capfAuthMode and capfList copied from the full config when present, certHash (MD5 of
 * the device certificate DER, lowercase hex), encrConfig true. */
int devcfg_minimal(const uint8_t *xml, size_t len, X509 *device_cert, struct ctl_buf *out,
		   struct ctl_err *err);

/* CTL_OK if cert can receive an encrypted config (RSA key); CTL_E_UNSUPPORTED otherwise. */
int devcfg_check_cert(X509 *cert, const char *what, struct ctl_err *err);

/* Finds and loads the certificate of a phone in dir: SEP<MAC>.pem, .crt, .der, then
 * <MAC>.pem, .crt, .der (MAC upper case, then lower case). *missing (may be NULL) is
 * set when there is none (a phone without a certificate, not a broken one). */
X509 *devcfg_find_cert(const char *dir, const char *mac, bool *missing, struct ctl_err *err);

/* The MAC a device certificate's subject names: "SEP" and 12 hex digits in a CN (an LSC
 * is CN=SEP<MAC>, a MIC CN=<model>-SEP<MAC>), upper case. False when it names none. */
bool devcfg_cert_mac(X509 *cert, char mac[13]);

/* A certificate naming another phone than mac (the file's) is refused: CTL_E_POLICY.
 * One that names no MAC is taken. */
int devcfg_check_cert_mac(X509 *cert, const char *mac, struct ctl_err *err);

/* 1 if the certificate has expired at now (0: the current time), -1 if it is not valid
 * yet, 0 otherwise. */
int devcfg_cert_validity(X509 *cert, time_t now);

#endif
