/* token_rules.c - the rules about PINs: retry flags, default password, PIN policy. */
#include "token_internal.h"

#include <stdio.h>
#include <string.h>

_Static_assert(TOKEN_F_INITIALIZED == CKF_TOKEN_INITIALIZED &&
		       TOKEN_F_PIN_COUNT_LOW == CKF_USER_PIN_COUNT_LOW &&
		       TOKEN_F_PIN_FINAL_TRY == CKF_USER_PIN_FINAL_TRY &&
		       TOKEN_F_PIN_LOCKED == CKF_USER_PIN_LOCKED &&
		       TOKEN_F_PIN_TO_BE_CHANGED == CKF_USER_PIN_TO_BE_CHANGED,
	       "TOKEN_F_* must equal the PKCS#11 flags");

void token_flags_text(unsigned long flags, char *buf, size_t len)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{CKF_TOKEN_INITIALIZED, "initialised"},
		{CKF_USER_PIN_TO_BE_CHANGED, "to-be-changed"},
		{CKF_USER_PIN_COUNT_LOW, "count-low"},
		{CKF_USER_PIN_FINAL_TRY, "final-try"},
		{CKF_USER_PIN_LOCKED, "locked"},
	};
	size_t n = 0;

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].flag))
			continue;
		int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", names[i].name);
		if (w < 0 || (size_t)w >= len - n)
			return;
		n += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "none");
}

int token_check_retry_flags(const struct token_info *ti, bool final_try, struct ctl_err *err)
{
	if (ti->flags & CKF_USER_PIN_LOCKED)
		return ctl_fail(err, CTL_E_TOKEN,
				"token '%s' (serial %s) is locked after too many wrong PINs: its "
				"security officer must unblock it (reset the user PIN with the SO PIN)",
				ti->label, ti->serial);
	if ((ti->flags & CKF_USER_PIN_FINAL_TRY) && !final_try)
		return ctl_fail(err, CTL_E_POLICY,
				"token '%s' (serial %s) has ONE PIN try left: a wrong PIN locks it; "
				"rerun with --final-try if you are sure of the PIN",
				ti->label, ti->serial);
	return CTL_OK;
}

int token_check_not_default(const struct token_info *ti, const char *pin,
			    const char *factory_pin, struct ctl_err *err)
{
	if (!factory_pin)
		factory_pin = TOKEN_DEFAULT_FACTORY_PIN;
	if (ti->flags & CKF_USER_PIN_TO_BE_CHANGED)
		return ctl_fail(err, CTL_E_POLICY,
				"token '%s' (serial %s) says its PIN must be changed before use: run "
				"'ctlsign token passwd' first",
				ti->label, ti->serial);
	if (pin && *factory_pin && strcmp(pin, factory_pin) == 0)
		return ctl_fail(err, CTL_E_POLICY,
				"token '%s' (serial %s) still has the factory default PIN; refusing to "
				"sign with it: run 'ctlsign token passwd' first",
				ti->label, ti->serial);
	return CTL_OK;
}

int token_pin_policy(const char *cur, const char *new_pin, const char *factory_pin,
		     size_t min_len, unsigned long tok_min, unsigned long tok_max,
		     struct ctl_err *err)
{
	size_t len = strlen(new_pin), need;

	if (!factory_pin)
		factory_pin = TOKEN_DEFAULT_FACTORY_PIN;
	if (min_len == 0)
		min_len = TOKEN_DEFAULT_MIN_PIN_LEN;
	need = min_len > tok_min ? min_len : (size_t)tok_min;
	if (cur && strcmp(cur, new_pin) == 0)
		return ctl_fail(err, CTL_E_POLICY, "the new PIN must differ from the current one");
	if (*factory_pin && strcmp(factory_pin, new_pin) == 0)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN must not be the factory default PIN");
	if (len < need)
		return ctl_fail(err, CTL_E_POLICY, "the new PIN is too short: at least %zu characters",
				need);
	if (tok_max && len > tok_max)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN is too long: the token takes at most %lu characters",
				tok_max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)new_pin[i] < 0x20 || new_pin[i] == 0x7f)
			return ctl_fail(err, CTL_E_POLICY,
					"the new PIN must not contain control characters");
	return CTL_OK;
}
