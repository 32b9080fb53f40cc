# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Sums weft_policy_stats (per-CPU hash, struct weft_policy_stats_key in
# include/weft/abi.h) over CPUs and policies, per point, action and reason,
# for bench/run.sh.  Input: one line per map entry, the BTF-formatted part
# of `bpftool -j map dump`, as run.sh cuts it out with grep -o:
#   "formatted":{"key":{"policy":4,"point":0,"action":1,"reason":3,"audit":0},
#                "values":[{"cpu":0,"value":5},{"cpu":1,"value":7}]
# Output: one line, "point action reason count" items separated by "; ",
# e.g. "inbound allow allow-match 123456; inbound deny deny-match 1".
# AUDIT rows (audit 1) count a connection a second time: left out.

function field(name,    m) {
	if (match($0, "\"" name "\":[0-9]+")) {
		m = substr($0, RSTART, RLENGTH)
		sub(/.*:/, "", m)
		return m + 0
	}
	return -1
}

BEGIN {
	# enum weft_policy_point, weft_policy_action, weft_policy_reason
	split("inbound connect", point_name, " ")
	split("deny allow", action_name, " ")
	split("no-policy not-enforced no-allow-policy allow-match deny-match " \
	      "no-allow-match allow-l7-only custom-unsupported no-entry", reason_name, " ")
}

{
	if (field("audit") != 0)
		next
	p = field("point"); a = field("action"); r = field("reason")
	if (p > 9 || a > 9 || r > 99) next
	v = $0
	sub(/.*"values":\[/, "", v)
	n = split(v, parts, "\"value\":")
	for (i = 2; i <= n; i++)
		sum[p, a, r] += parts[i] + 0
	seen[p, a, r] = 1
}

function name(list, i) {
	return (i + 1) in list ? list[i + 1] : i
}

# Fixed order: point, then allow before deny, then reason.
END {
	out = ""
	for (p = 0; p <= 9; p++)
		for (a = 9; a >= 0; a--)
			for (r = 0; r <= 99; r++)
				if ((p, a, r) in seen)
					out = out (out == "" ? "" : "; ") name(point_name, p) " " \
						name(action_name, a) " " name(reason_name, r) " " sum[p, a, r]
	print out
}
