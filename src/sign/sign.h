/* sign.h - ctlsign's subcommands. */
#ifndef CTL_SIGN_H
#define CTL_SIGN_H

int cmd_sign(int argc, char **argv);
int cmd_encrypt(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_itl(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
