/* cmd_token.h - what cmd_token.c and cmd_token_list.c share. */
#ifndef CTL_SIGN_CMD_TOKEN_H
#define CTL_SIGN_CMD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"
#include "token.h"

/* `token list`'s report on the n tokens v of module m (their objects listed with login
 * when not NULL: a login to each), each certificate marked with its record in ctl (when
 * not NULL); text on stdout, or one JSON array. CTL_OK, or the exit code of the last
 * token whose objects could not be listed (said on stderr; the others are listed). */
int token_list_print(struct token_module *m, const struct token_info *v, size_t n,
		     const struct token_opts *login, const struct ctl_file *ctl, bool json);

#endif
