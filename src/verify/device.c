/* device.c - see device.h: store opening, decision output, host:port, output files. */
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

int dev_store_open(const char *dir, ctlv_store **out)
{
	return dev_store_open_wait(dir, -1, out);
}

int dev_store_open_wait(const char *dir, long wait_s, ctlv_store **out)
{
	int rc;

	if (!dir) {
		*out = NULL;
		return tool_fail(CTL_E_USAGE, "no trust store given: add --store DIR (the device's flash)");
	}
	rc = wait_s < 0 ? ctlv_store_open(dir, out) : ctlv_store_open_wait(dir, (int)wait_s, out);
	if (rc != CTLV_OK) {
		tool_fail(rc, "store %s: %s", dir, *out ? ctlv_last_error(*out) : "out of memory");
		ctlv_store_free(*out);
		*out = NULL;
	}
	return rc;
}

void dev_out_init(struct dev_out *o, bool json, bool multi)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->multi = multi;
	if (json) {
		o->root = json_object_new_object();
		if (multi) {
			o->files = json_object_new_array();
			json_object_object_add(o->root, "files", o->files);
		}
	}
}

void dev_out_add(struct dev_out *o, const char *key, struct json_object *val)
{
	if (o->json && o->root)
		json_object_object_add(o->root, key, val);
	else
		json_object_put(val);
}

static struct json_object *decision_obj(struct dev_out *o)
{
	struct json_object *d;

	if (!o->json)
		return NULL;
	if (!o->multi)
		return o->root;
	d = json_object_new_object();
	json_object_array_add(o->files, d);
	return d;
}

static void add_str(struct json_object *d, const char *k, const char *v)
{
	if (d && v && *v)
		json_object_object_add(d, k, json_object_new_string(v));
}

static void note_code(struct dev_out *o, int code)
{
	if (code && !o->code)
		o->code = code;
}

void dev_decide_msg(struct dev_out *o, const char *file, const char *decision, int code,
		    const char *msg)
{
	struct json_object *d = decision_obj(o);

	note_code(o, code);
	if (d) {
		add_str(d, "file", file);
		add_str(d, "decision", decision);
		json_object_object_add(d, "code", json_object_new_int(code));
		add_str(d, "status", code ? ctl_status_name(code) : "ok");
		add_str(d, code ? "error" : "note", msg);
	} else if (code) {
		printf("%s: %s (%s)\n", file, decision, ctl_status_name(code));
	} else if (msg) {
		printf("%s: %s (%s)\n", file, decision, msg);
	} else {
		printf("%s: %s\n", file, decision);
	}
	if (code && msg)
		tool_fail(code, "%s: %s", file, msg);
	fflush(stdout);
}

void dev_decide(struct dev_out *o, ctlv_store *s, const char *file, int code)
{
	struct json_object *d = decision_obj(o);
	const char *warning = ctlv_last_warning(s), *signer = ctlv_last_signer(s);
	const char *note = ctlv_last_note(s);
	int kind = ctlv_last_kind(s);
	const char *decision = code ? "rejected"
				    : (strstr(note, "unchanged") ? "unchanged" : "accepted");

	note_code(o, code);
	if (warning[0])
		tool_fail(0, "WARNING: %s: %s", file, warning);
	if (d) {
		add_str(d, "file", file);
		add_str(d, "decision", decision);
		if (kind)
			add_str(d, "kind", ctl_kind_name(kind));
		add_str(d, "signer", signer);
		add_str(d, "note", note);
		add_str(d, "warning", warning);
		json_object_object_add(d, "code", json_object_new_int(code));
		add_str(d, "status", code ? ctl_status_name(code) : "ok");
		if (code)
			add_str(d, "error", ctlv_last_error(s));
	} else if (code) {
		printf("%s: REJECTED (%s)%s%s\n", file, ctl_status_name(code),
		       signer[0] ? ", signer " : "", signer);
	} else {
		printf("%s: %s%s%s (%s)%s%s\n", file, decision, kind ? " " : "",
		       kind ? ctl_kind_name(kind) : "", note, signer[0] ? ", signer " : "", signer);
	}
	fflush(stdout);
	if (code)
		tool_fail(code, "%s: %s", file, ctlv_last_error(s));
}

int dev_out_finish(struct dev_out *o)
{
	if (o->json && o->root) {
		if (o->multi) {
			json_object_object_add(o->root, "code", json_object_new_int(o->code));
			json_object_object_add(o->root, "status",
					       json_object_new_string(o->code ? ctl_status_name(o->code) : "ok"));
		}
		tool_json_print(o->root);
		o->root = NULL;
	}
	return o->code;
}

int dev_read(struct dev_out *o, const char *path, struct ctl_buf *buf)
{
	struct ctl_err err = {0};
	int rc = ctl_read_file(path, CTL_MAX_FILE_SIZE, buf, &err);

	if (rc != CTL_OK)
		dev_decide_msg(o, path, "rejected", rc, err.msg);
	return rc;
}

int dev_write_output(struct dev_out *o, const char *file, const char *path,
		     const uint8_t *data, size_t len)
{
	struct ctl_err err = {0};
	int rc;

	if (!strcmp(path, "-"))
		rc = fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0
			     ? ctl_fail(&err, CTL_E_IO, "cannot write to stdout: %s", strerror(errno))
			     : CTL_OK;
	else
		rc = ctl_write_atomic(path, data, len, 0600, &err);
	if (rc != CTL_OK)
		dev_decide_msg(o, file, "rejected", rc, err.msg);
	return rc;
}

int dev_split_hostport(const char *hp, int default_port, char **host, int *port)
{
	const char *colon, *hend;
	char *end;
	long p = default_port;

	*host = NULL;
	if (!hp || !*hp)
		return 0;
	if (hp[0] == '[') {
		hend = strchr(hp, ']');
		if (!hend)
			return 0;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (!colon && hend[1])
			return 0;
		*host = strndup(hp + 1, (size_t)(hend - hp - 1));
	} else {
		colon = strrchr(hp, ':');
		if (colon && strchr(hp, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		*host = colon ? strndup(hp, (size_t)(colon - hp)) : strdup(hp);
	}
	if (!*host || !**host) {
		free(*host);
		*host = NULL;
		return 0;
	}
	if (colon) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || p < 1 || p > 65535) {
			free(*host);
			*host = NULL;
			return 0;
		}
	}
	*port = (int)p;
	return 1;
}
