#!/usr/bin/env python3
"""validate.py SCHEMA-DIR SCHEMA JSON-FILE [LABEL]: JSON-FILE against SCHEMA-DIR/SCHEMA
(JSON Schema draft 2020-12, python3-jsonschema). SCHEMA "auto" picks it from the
document's "kind" (ctlverify/ctlsign show). One line per error on stderr, exit 1 on any.
validate.py SCHEMA-DIR --list LIST: each line of LIST is "SCHEMA<TAB>JSON-FILE<TAB>LABEL"."""
import json
import sys

import jsonschema

KINDS = {"CTL": "ctl", "ITL": "itl", "SGN": "sgn", "ENC-SGN": "enc-sgn", "FIRMWARE": "firmware"}


def main():
    if sys.argv[2] == "--list":
        bad = 0
        for line in open(sys.argv[3]):
            name, path, label = line.rstrip("\n").split("\t")
            bad |= check(sys.argv[1], name, path, label)
        return bad
    sdir, name, path = sys.argv[1:4]
    return check(sdir, name, path, sys.argv[4] if len(sys.argv) > 4 else path)


def check(sdir, name, path, label):
    try:
        doc = json.load(open(path))
    except ValueError as e:
        print(f"{label}: not JSON: {e}", file=sys.stderr)
        return 1
    if name == "auto":
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind not in KINDS:
            print(f"{label}: no schema for kind {kind!r}", file=sys.stderr)
            return 1
        name = KINDS[kind] + ".schema.json"
    schema = json.load(open(f"{sdir}/{name}"))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        print(f"{label}: {name}: at {where}: {e.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
