/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The weft operator CLI: `weft [OPTIONS] OBJECT COMMAND [ARGS]`, modelled
 * on bpftool.  Every command prints text, or with -j one JSON document on
 * stdout; errors are `{"error":"..."}` on stdout in JSON mode and
 * "weft: error: ..." on stderr otherwise.  Commands return the exit code.
 */
#ifndef WEFT_CLI_MAIN_H
#define WEFT_CLI_MAIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>
#include <weft/abi.h>

#include "cli_dispatch.h"
#include "datapath.h"
#include "json_writer.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "0.1.0"
#endif

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_USAGE = 2,
};

struct cli_ctx {
	bool json;
	const char *pin_dir;
	const char *node_file;  /* -c, or NULL */
	const char *config_dir; /* -d, or NULL: configDir of -c, the default */
	struct json_writer jw; /* stdout, for -j output */
};

/* Copy a fixed-size, maybe unterminated, string field of a map value. */
#define CLI_STR_COPY(dst, src)                                           \
	do {                                                             \
		_Static_assert(sizeof(dst) == sizeof(src) + 1, "size");  \
		memcpy(dst, src, sizeof(src));                           \
		(dst)[sizeof(src)] = '\0';                               \
	} while (0)

/* Report an error (JSON-aware) and return code, for `return cli_error()`. */
int cli_error(struct cli_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Run the command argv[0] names in cmds, or cmds[0] when argv is empty
 * (`weft service` lists, as `bpftool prog` shows).  what names the level
 * in errors ("object", "service command").
 */
int cli_dispatch(struct cli_ctx *ctx, const char *what,
		 const struct cli_cmd *cmds, int argc, char **argv);

/* Usage error unless argc is 0; for commands that take no arguments. */
int cli_no_args(struct cli_ctx *ctx, const char *cmd, int argc, char **argv);

/*
 * Open the pinned maps and check that their layout is the one this weft
 * was built for.  Returns 0, or an exit code after reporting the failure.
 * When nothing is installed and absent is not NULL, the "not installed"
 * message goes into absent instead of being reported (weft status).
 */
int cli_maps_open(struct cli_ctx *ctx, struct datapath_maps *maps,
		  char *absent, size_t absent_len);

/* Print a help text, or {"usage":"..."} with -j; returns 0. */
int cli_usage(struct cli_ctx *ctx, const char *text);

/* Finish the JSON document on stdout: exit code 0, or 1 if writing failed. */
int cli_json_end(struct cli_ctx *ctx);

/* "tcp", "udp", or the number. buf: 8 bytes. */
const char *cli_proto_str(__u8 proto, char *buf, size_t len);
/* "10.0.0.1" / "fd00::1"; buf: 46 bytes. */
const char *cli_addr_str(const union weft_addr *addr, char *buf, size_t len);
/* "10.0.0.1:80" / "[fd00::1]:80"; port in network order; buf: 56 bytes. */
const char *cli_addr_port_str(const union weft_addr *addr, __be16 port,
			      char *buf, size_t len);
#define CLI_ADDR_PORT_LEN 56
/* "least_request", "round_robin", "random", "maglev", "passthrough", or
 * the number; buf: 8 bytes. */
const char *cli_policy_str(__u8 policy, char *buf, size_t len);

/* An AuthorizationPolicy's action (enum istio_authz_action): "ALLOW",
 * "DENY", "AUDIT", "CUSTOM", "?" out of range. */
const char *cli_authz_action_str(__u8 action);

/*
 * part / total rounded to a thousandth (0 when total is 0): as "80.0%"
 * (buf: 8 bytes), and as a JSON number member (0.8, 1, 0.333).
 */
const char *cli_percent_str(__u64 part, __u64 total, char *buf, size_t len);
void cli_json_kv_ratio(struct json_writer *w, const char *key, __u64 part,
		       __u64 total);

/* Objects: one file each. */
int do_service(struct cli_ctx *ctx, int argc, char **argv);
int do_cluster(struct cli_ctx *ctx, int argc, char **argv);
int do_backend(struct cli_ctx *ctx, int argc, char **argv);
int do_stats(struct cli_ctx *ctx, int argc, char **argv);
int do_status(struct cli_ctx *ctx, int argc, char **argv);
int do_uninstall(struct cli_ctx *ctx, int argc, char **argv);
int do_policy(struct cli_ctx *ctx, int argc, char **argv);
int do_monitor(struct cli_ctx *ctx, int argc, char **argv);

#endif /* WEFT_CLI_MAIN_H */
