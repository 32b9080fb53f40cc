// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench-bpf-stats: keeps BPF program run-time statistics on
 * (BPF_ENABLE_STATS, BPF_STATS_RUN_TIME) for as long as it runs, so that
 * bench/run.sh can read run_cnt and run_time_ns of its programs
 * (`bpftool prog show`).  The kernel keeps the statistics on while the fd
 * is open and turns them off when the last one closes, however this
 * process ends: unlike the kernel.bpf_stats_enabled sysctl, nothing is left
 * switched on after the run.  Prints "enabled" once they are on, then
 * waits for a signal.
 *
 * Exit: 0 never (killed), 1 when the kernel refuses (no BPF_ENABLE_STATS,
 * or no CAP_SYS_ADMIN).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	union bpf_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	fd = syscall(__NR_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0) {
		fprintf(stderr, "BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	printf("enabled\n");
	fflush(stdout);
	for (;;)
		pause();
}
