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
				"token '%s' (serial %s) is locked after too many wrong PINs; "
				TOKEN_LOCKED_ADVICE, ti->label, ti->serial);
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

/* One character repeated ("aaaaaaaa"), or a run up or down by one ("12345678",
 * "87654321", "abcdefgh"): the first PINs anyone tries. */
static bool pin_trivial(const char *p, size_t len, const char **why)
{
	bool same = true, up = true, down = true;

	for (size_t i = 1; i < len; i++) {
		int d = (unsigned char)p[i] - (unsigned char)p[i - 1];
		same = same && d == 0;
		up = up && d == 1;
		down = down && d == -1;
	}
	if (len < 2)
		return false;
	*why = same ? "one character repeated" : up ? "an ascending run" : "a descending run";
	return same || up || down;
}

static bool same_ignoring_case(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

int token_pin_policy(const char *cur, const char *new_pin, const char *factory_pin,
		     size_t min_len, unsigned long tok_min, unsigned long tok_max,
		     struct ctl_err *err)
{
	return token_pin_policy_for(NULL, cur, new_pin, factory_pin, min_len, tok_min, tok_max,
				    err);
}

int token_pin_policy_for(const char *label, const char *cur, const char *new_pin,
			 const char *factory_pin, size_t min_len, unsigned long tok_min,
			 unsigned long tok_max, struct ctl_err *err)
{
	size_t len = strlen(new_pin), need;
	char who[64] = "";
	const char *why = NULL;

	if (!factory_pin)
		factory_pin = TOKEN_DEFAULT_FACTORY_PIN;
	if (min_len == 0)
		min_len = TOKEN_DEFAULT_MIN_PIN_LEN;
	if (label && *label)
		snprintf(who, sizeof(who), " for token '%s'", label);
	need = min_len > tok_min ? min_len : (size_t)tok_min;
	if (cur && strcmp(cur, new_pin) == 0)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s must differ from the current one", who);
	if (*factory_pin && strcmp(factory_pin, new_pin) == 0)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s must not be the factory default PIN", who);
	if (len < need)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s is too short: at least %zu characters", who, need);
	if (tok_max && len > tok_max)
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s is too long: the token takes at most %lu characters",
				who, tok_max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)new_pin[i] < 0x20 || new_pin[i] == 0x7f)
			return ctl_fail(err, CTL_E_POLICY,
					"the new PIN%s must not contain control characters", who);
	if (pin_trivial(new_pin, len, &why))
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s is too easy to guess (%s): choose one that is not a "
				"pattern",
				who, why);
	if (label && *label && same_ignoring_case(label, new_pin))
		return ctl_fail(err, CTL_E_POLICY,
				"the new PIN%s must not be the token's label", who);
	return CTL_OK;
}
