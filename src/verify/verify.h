/* verify.h - ctlverify's subcommands. */
#ifndef CTL_VERIFY_H
#define CTL_VERIFY_H

int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* device side (trust store, boot, CTI check) */
int cmd_install(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_tls(int argc, char **argv);

#endif
