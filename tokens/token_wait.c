/* token_wait.c - the insert-one-token-at-a-time ceremony: waiting for a token to
 * arrive or leave. pcsc-lite events for smart-card modules, slot polling otherwise
 * (reloading the module between polls, since SoftHSM reads its store only at
 * C_Initialize). */
#include "token_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define POLL_MS 200

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Waits for the next event or at most until deadline (<0: none). 0 = deadline passed. */
static int wait_event(struct token_module *m, long long deadline)
{
	long long left = deadline < 0 ? POLL_MS * 5 : deadline - now_ms();
	long step;

	if (left <= 0)
		return 0;
	if (m->pcsc < 0)
		m->pcsc = p11_pcsc_usable(m->p);
	step = left > 1000 ? 1000 : (long)left;
	if (m->pcsc == 1 && p11_pcsc_wait((int)step) >= 0)
		return 1;
	sleep_ms(step < POLL_MS ? step : POLL_MS);
	return 1;
}

static int present(struct token_module *m, struct token_info **v, size_t *n, struct ctl_err *err)
{
	int rc;

	/* pcsc modules see card changes in C_GetSlotList; others need a reload. */
	if (m->pcsc != 1 && (rc = p11_module_refresh(m->p, true, err)) != CTL_OK)
		return rc;
	return token_module_list(m, v, n, err);
}

int token_wait_one(struct token_module *m, int timeout_ms, struct token_info *out,
		   struct ctl_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct token_info *v;
	size_t n, cnt, hit;
	int rc;

	memset(out, 0, sizeof(*out));
	for (;;) {
		if ((rc = present(m, &v, &n, err)) != CTL_OK)
			return rc;
		size_t idx[64], ni = 0;
		for (size_t i = 0; i < n && ni < 64; i++)
			if (v[i].flags & CKF_TOKEN_INITIALIZED)
				idx[ni++] = i;
		/* Several slots of one physical token count once (OpenSC shows an OpenPGP
		 * card as two); report the slot holding a certificate, else the first. */
		cnt = token_count_physical(v, n, idx, ni);
		hit = ni ? idx[0] : 0;
		for (size_t i = 0; i < ni; i++)
			if (v[idx[i]].cert) {
				hit = idx[i];
				break;
			}
		if (cnt == 1) {
			*out = v[hit];
			memset(&v[hit], 0, sizeof(v[hit]));
			token_infos_free(v, n);
			return CTL_OK;
		}
		if (cnt > 1) {
			char names[256];
			size_t off = 0;
			names[0] = 0;
			for (size_t i = 0; i < ni; i++) {
				bool seen = false;
				for (size_t j = 0; j < i && !seen; j++)
					seen = token_same_physical(&v[idx[i]], &v[idx[j]]);
				if (seen)
					continue;
				int w = snprintf(names + off, sizeof(names) - off,
						 "%s'%s' (serial %s)", off ? ", " : "",
						 v[idx[i]].label, v[idx[i]].serial);
				if (w > 0 && (size_t)w < sizeof(names) - off)
					off += (size_t)w;
			}
			token_infos_free(v, n);
			return ctl_fail(err, CTL_E_POLICY,
					"%zu tokens are inserted (%s): remove one; present one token "
					"at a time",
					cnt, names);
		}
		token_infos_free(v, n);
		if (!wait_event(m, deadline))
			return ctl_fail(err, CTL_E_CANCELLED,
					"no token was inserted within %d seconds", timeout_ms / 1000);
	}
}

int token_wait_removed(struct token_module *m, const struct token_info *ti, int timeout_ms,
		       struct ctl_err *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct token_info *v;
	size_t n;
	bool there;
	int rc;

	for (;;) {
		if ((rc = present(m, &v, &n, err)) != CTL_OK)
			return rc;
		there = false;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].serial, ti->serial) && !strcmp(v[i].label, ti->label))
				there = true;
		token_infos_free(v, n);
		if (!there)
			return CTL_OK;
		if (!wait_event(m, deadline))
			return ctl_fail(err, CTL_E_CANCELLED,
					"token '%s' was not removed within %d seconds", ti->label,
					timeout_ms / 1000);
	}
}
