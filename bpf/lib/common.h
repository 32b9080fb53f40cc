/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Definitions every weft BPF program needs, on top of vmlinux.h. */
#ifndef WEFT_BPF_COMMON_H
#define WEFT_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <weft/abi.h>

/* Not in vmlinux.h: they are #defines in the kernel. */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define EPERM 1
#define ENOENT 2
#define ECONNREFUSED 111

/* cgroup sock_addr verdicts. */
#define SYS_REJECT 0
#define SYS_PROCEED 1

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#endif /* WEFT_BPF_COMMON_H */
