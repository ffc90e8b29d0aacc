/* p11_uri.h - RFC 7512 PKCS#11 URIs ("pkcs11:token=SAST1;object=sast?pin-source=file:/p"). */
#ifndef CTL_P11_URI_H
#define CTL_P11_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

struct p11_uri {
	/* path attributes, percent-decoded; NULL when absent */
	char *token, *manufacturer, *serial, *model;       /* token */
	char *lib_manufacturer, *lib_description, *lib_version;
	char *slot_description, *slot_manufacturer;
	bool has_slot_id;
	unsigned long slot_id;
	char *object, *type;                               /* object; type: public private cert secret-key data */
	bool has_id;
	unsigned char *id;
	size_t id_len;
	/* query attributes */
	char *pin_source, *module_name, *module_path;
};

/* Parses s. Errors are CTL_E_USAGE naming the offending attribute. pin-value is refused
 * (PINs never go on a command line; use pin-source). Unknown attributes are refused
 * unless vendor-specific ("x-..."), which are ignored. */
int p11_uri_parse(const char *s, struct p11_uri *out, struct ctl_err *err);
void p11_uri_clear(struct p11_uri *u);
/* Canonical text of what was parsed (for tests and messages): attributes in a fixed
 * order, values percent-encoded where needed. Caller frees. */
char *p11_uri_dump(const struct p11_uri *u);
/* The URI without its query (which may name a PIN file) into buf: safe to print. */
void p11_uri_for_print(const char *uri, char *buf, size_t n);

#endif
