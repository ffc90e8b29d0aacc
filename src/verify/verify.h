/* verify.h - ctlverify's subcommands. */
#ifndef CTL_VERIFY_H
#define CTL_VERIFY_H

#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"

int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_certhash(int argc, char **argv);

/* device side (trust store, boot, CTI check) */
int cmd_install(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_tls(int argc, char **argv);

/* The walk behind `show` (src/show.c, shared with ctlsign; also driven by the fuzz target). */
#include "show.h"

#endif
