/* fuzz_name.c - libFuzzer target: ctl_name_parse on any string never crashes, and a name
 * it parses names itself again after ctl_name_string (the writer's form parses back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t one[] = {1};
	struct ctl_buf sn = {(uint8_t *)one, 1};
	struct ctl_cert_id a, b;
	X509_NAME *n = NULL;
	char *s = malloc(size + 1), *printed;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (ctl_name_parse(s, &n) == CTL_OK && X509_NAME_entry_count(n) > 0) {
		printed = ctl_name_string(n);
		if (printed && ctl_cert_id_from_fields(s, &sn, &a) == CTL_OK) {
			if (ctl_cert_id_from_fields(printed, &sn, &b) != CTL_OK ||
			    !ctl_cert_id_equal(&a, &b))
				abort();
			ctl_cert_id_clear(&b);
			ctl_cert_id_clear(&a);
		}
		free(printed);
	}
	X509_NAME_free(n);
	free(s);
	return 0;
}
