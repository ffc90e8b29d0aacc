/* verify.h - ctlverify's subcommands. */
#ifndef CTL_VERIFY_H
#define CTL_VERIFY_H

int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
