/* sign.h - ctlsign's subcommands. */
#ifndef CTL_SIGN_H
#define CTL_SIGN_H

int cmd_token(int argc, char **argv);

#endif
