/* algs.c - hash algorithms, roles, file kinds and modulus codes by number and name. */
#include "ctl.h"

#include <stdio.h>
#include <strings.h>

const EVP_MD *ctl_hash_md(int hash_alg)
{
	switch (hash_alg) {
	case CTL_HASH_SHA1: return EVP_sha1();
	case CTL_HASH_SHA256: return EVP_sha256();
	case CTL_HASH_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

const char *ctl_hash_name(int hash_alg)
{
	switch (hash_alg) {
	case CTL_HASH_SHA1: return "sha1";
	case CTL_HASH_SHA256: return "sha256";
	case CTL_HASH_SHA512: return "sha512";
	default: return "unknown";
	}
}

int ctl_hash_from_name(const char *name)
{
	if (!name)
		return 0;
	if (!strcasecmp(name, "sha1") || !strcasecmp(name, "sha-1"))
		return CTL_HASH_SHA1;
	if (!strcasecmp(name, "sha256") || !strcasecmp(name, "sha-256"))
		return CTL_HASH_SHA256;
	if (!strcasecmp(name, "sha512") || !strcasecmp(name, "sha-512"))
		return CTL_HASH_SHA512;
	return 0;
}

static const struct {
	int role;
	const char *name;
} roles[] = {
	{CTL_ROLE_SAST, "SAST"},   {CTL_ROLE_CCM, "CCM"},   {CTL_ROLE_CCM_TFTP, "CCM+TFTP"},
	{CTL_ROLE_TFTP, "TFTP"},   {CTL_ROLE_CAPF, "CAPF"}, {CTL_ROLE_APP_SERVER, "APP-SERVER"},
	{CTL_ROLE_TVS, "TVS"},
};

const char *ctl_role_name(int role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i].role == role)
			return roles[i].name;
	return NULL;
}

const char *ctl_role_label(int role, char *buf, size_t n)
{
	const char *name = ctl_role_name(role);

	if (name)
		return name;
	if (!buf || !n)
		return "unknown role";
	if (role < 0)
		return "none";
	snprintf(buf, n, "unknown-%d", role);
	return buf;
}

int ctl_role_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcasecmp(roles[i].name, name))
			return roles[i].role;
	return -1;
}

bool ctl_role_is_tftp(int role)
{
	return role == CTL_ROLE_TFTP || role == CTL_ROLE_CCM_TFTP;
}

const char *ctl_kind_name(int kind)
{
	switch (kind) {
	case CTL_KIND_CTL: return "CTL";
	case CTL_KIND_ITL: return "ITL";
	case CTL_KIND_SGN: return "SGN";
	case CTL_KIND_ENC_SGN: return "ENC-SGN";
	case CTL_KIND_FIRMWARE: return "FIRMWARE";
	default: return "unknown";
	}
}

int ctl_modulus_code(int bits)
{
	switch (bits) {
	case 512: return 0;
	case 1024: return 1;
	case 2048: return 2;
	case 4096: return 3;
	default: return -1;
	}
}
