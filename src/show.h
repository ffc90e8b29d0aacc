/* show.h - the description of a file behind `ctlverify show` and `ctlsign ctl show`: one
 * set of JSON keys for both programs (schemas/KIND.schema.json). */
#ifndef CTL_SHOW_H
#define CTL_SHOW_H

#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"

/* Every header field and record of f, as text or as one JSON object (the caller frees). */
void show_text(FILE *fp, const char *path, const struct ctl_file *f);
struct json_object *show_json(const char *path, const struct ctl_file *f);

#endif
