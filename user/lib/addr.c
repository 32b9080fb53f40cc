// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* union weft_addr helpers: IPv4 is kept IPv4-mapped (::ffff:a.b.c.d). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lb.h"

static const unsigned char v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

/*
 * Strict textual forms only: dotted quad (no leading zeros, as inet_pton)
 * or RFC 4291 IPv6 without a zone.  Returns 0 or -EINVAL; *out is written
 * only on success.
 */
int weft_addr_parse(const char *text, union weft_addr *out)
{
	union weft_addr a;
	struct in_addr v4;

	if (!text)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(a.b, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(&a.b[12], &v4, 4);
	} else if (inet_pton(AF_INET6, text, a.b) != 1) {
		return -EINVAL;
	}
	*out = a;
	return 0;
}

int weft_addr_is_v4(const union weft_addr *addr)
{
	return !memcmp(addr->b, v4_mapped_prefix, sizeof(v4_mapped_prefix));
}

const char *weft_addr_str(const union weft_addr *addr, char *buf, size_t len)
{
	const char *r;

	if (!len)
		return buf;
	if (weft_addr_is_v4(addr))
		r = inet_ntop(AF_INET, &addr->b[12], buf, (socklen_t)len);
	else
		r = inet_ntop(AF_INET6, addr->b, buf, (socklen_t)len);
	if (!r)
		buf[0] = '\0';
	return buf;
}
