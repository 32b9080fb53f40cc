// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: arbitrary bytes through mesh_config_load_buffer() and,
 * when they load, lb_compile().  The input is copied so that it ends right
 * before a PROT_NONE page: any read past the end faults at once, even one
 * that stays inside an ASan redzone-free mapping (the parser is given a
 * length, never a NUL terminator).
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lb.h"
#include "log.h"
#include "mesh.h"

static uint8_t *guard_base;
static size_t guard_len; /* bytes usable before the guard page */

static const char *guarded_copy(const uint8_t *data, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need = (size + page - 1) / page * page;
	uint8_t *p;

	if (!need)
		need = page;
	if (need > guard_len) {
		if (guard_base)
			munmap(guard_base, guard_len + page);
		p = mmap(NULL, need + page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || mprotect(p + need, page, PROT_NONE))
			__builtin_trap();
		guard_base = p;
		guard_len = need;
	}
	p = guard_base + guard_len - size;
	if (size)
		memcpy(p, data, size);
	return (const char *)p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_mesh", LOG_LEVEL_WARN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_config *cfg = NULL;
	struct mesh_summary sum;
	struct lb_state st;

	if (mesh_config_load_buffer("fuzz.yaml", guarded_copy(data, size), size,
				    &cfg))
		return 0;
	mesh_config_summary(cfg, &sum);
	if (!lb_compile(cfg, &st))
		lb_state_free(&st);
	mesh_config_free(cfg);
	return 0;
}
