/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
 * a prime size M in which each backend owns about M * w / sum(w) entries,
 * built so that removing one of N backends changes only about 1/N of the
 * entries.  The datapath indexes the table with a hash of the client.
 */
#ifndef WEFT_MAGLEV_H
#define WEFT_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include <weft/abi.h>

struct maglev_backend {
	uint32_t id;            /* written into the table */
	uint32_t weight;        /* >= 1 */
	union weft_addr addr;   /* with port: the backend's stable identity, */
	uint16_t port;          /* so the same set builds the same table */
};

/*
 * Fill table[0..m-1] (m prime) with backend ids.  Returns 0, or -EINVAL
 * for no backends or a size that is not prime, -ENOMEM.
 */
int maglev_build(const struct maglev_backend *backends, size_t n,
		 uint32_t *table, size_t m);

#endif /* WEFT_MAGLEV_H */
