# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Turns bench/run.sh's measurements into the markdown of results.md.
#
#   awk -f report.awk -v section=throughput -v ncpu=2 cells.tsv
#   awk -f report.awk -v section=goal cells.tsv
#   awk -f report.awk -v section=apply apply.tsv
#   awk -f report.awk -v section=reload reload.tsv
#   awk -f report.awk -v section=policy -v ncpu=2 -v base=policy-0 policy-cells.tsv
#   awk -f report.awk -v section=policy_points policy-points.tsv
#   awk -f report.awk -v section=policy_apply policy-apply.tsv
#   awk -f report.awk -v section=policy_progs -v base=policy-0 policy-progs.tsv
#
# cells.tsv:  round peer load rps p50_us p99_us cpu_busy_pct errors requests
#             (policy-cells.tsv too, peers policy-<rules>)
# apply.tsv:  trial what seconds detail
# reload.tsv: config trigger trial delay_ms polls old failed
# policy-points.tsv: peer rules nginx_accepted netns_known decisions rows
#             (decisions: "point action reason count; ..." of policy-stats.awk;
#             rows: "dst=N ident=N src_ident=N src_net=N verdict=N")
# policy-apply.tsv: rules trial what(check|once|again) seconds rows
# policy-progs.tsv: round peer load ingress_runs ingress_ns connect4_runs
#             connect4_ns cgroup_cpu_us requests (deltas over one cell,
#             warm-up included)
# Several rounds of one cell are reduced to their median.  Ratios are to
# the "direct" peer of the same load (section=policy: to the peer `base`).

BEGIN { FS = "\t" }

function median(list,    n, v, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	if (n == 0) return "nan"
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

function add(key, val) {
	vals[key] = (key in vals) ? vals[key] " " val : val
	cnt[key]++
}

function ratio(a, b) {
	if (a == "nan" || b == "nan" || b + 0 == 0) return "n/a"
	return sprintf("%.2f×", a / b)
}

function ms(v) {
	return v == "nan" ? "n/a" : sprintf("%.3f", v / 1000)
}

section == "throughput" || section == "goal" || section == "policy" {
	if ($1 == "round") next
	peer = $2; load = $3
	if (!(peer in seen_peer)) { seen_peer[peer] = 1; peers[++npeers] = peer }
	if (!(load in seen_load)) { seen_load[load] = 1; loads[++nloads] = load }
	k = peer SUBSEP load
	add(k SUBSEP "rps", $4); add(k SUBSEP "p50", $5); add(k SUBSEP "p99", $6)
	add(k SUBSEP "cpu", $7); add(k SUBSEP "err", $8)
	rounds[k]++
	next
}
section == "apply" {
	if ($1 == "trial") next
	if (!($2 in seen_what)) { seen_what[$2] = 1; whats[++nwhat] = $2 }
	add($2, $3); detail[$2] = $4
	next
}
section == "policy_points" {
	if ($1 == "peer") next
	prow[++npts] = $0
	next
}
section == "policy_apply" {
	if ($1 == "rules") next
	if (!($1 in seen_rules)) { seen_rules[$1] = 1; prules[++nprules] = $1 }
	add($1 SUBSEP $3, $4)
	if ($5 != "") prows[$1] = $5
	next
}
section == "policy_progs" {
	if ($1 == "round") next
	if (!($2 in seen_peer)) { seen_peer[$2] = 1; peers[++npeers] = $2 }
	if ($9 + 0 > 0) add($2 SUBSEP $3 SUBSEP "cg", $8 / $9)
	if ($3 == "keepalive" && $4 + 0 > 0 && $5 + 0 > 0) add($2 SUBSEP "ka_in_run", $5 / $4)
	if ($3 != "close" || $6 + 0 == 0 || $7 + 0 == 0) next
	have_progs = 1
	add($2 SUBSEP "conn", $7 / $6)
	add($2 SUBSEP "in_run", $4 ? $5 / $4 : 0)
	add($2 SUBSEP "in_conn", $5 / $6)
	add($2 SUBSEP "runs_per_conn", $4 / $6)
	next
}
section == "reload" {
	if ($1 == "config") next
	k = $1 SUBSEP $2
	if (!(k in seen_rl)) { seen_rl[k] = 1; rl[++nrl] = k }
	if ($4 == "timeout") { timeouts[k]++; next }
	add(k, $4); add(k SUBSEP "old", $6); add(k SUBSEP "failed", $7)
	next
}

function m(peer, load, what,    k) {
	k = peer SUBSEP load SUBSEP what
	return (k in vals) ? median(vals[k]) : "nan"
}

function load_heading(load) {
	printf "\n### %s\n\n", load == "keepalive" ? "Keep-alive (one connection, many requests)" : \
		"New connection per request (Connection: close)"
}

function throughput(    l, p, load, peer, rps, d_rps, cpu, d_cpu, req) {
	for (l = 1; l <= nloads; l++) {
		load = loads[l]
		load_heading(load)
		print "| peer | req/s | × direct | req/s min–max | p50 ms | × direct | p99 ms | × direct | CPU busy % | × direct | CPU µs/req | errors |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		d_rps = m("direct", load, "rps"); d_cpu = m("direct", load, "cpu")
		for (p = 1; p <= npeers; p++) {
			peer = peers[p]
			if (!((peer SUBSEP load SUBSEP "rps") in vals)) continue
			rps = m(peer, load, "rps"); cpu = m(peer, load, "cpu")
			req = per_req(peer, load)
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", peer,
				rps == "nan" ? "n/a" : sprintf("%.0f", rps), ratio(rps, d_rps),
				sprintf("%.0f–%.0f", minof(vals[peer SUBSEP load SUBSEP "rps"]), maxof(vals[peer SUBSEP load SUBSEP "rps"])),
				ms(m(peer, load, "p50")), ratio(m(peer, load, "p50"), m("direct", load, "p50")),
				ms(m(peer, load, "p99")), ratio(m(peer, load, "p99"), m("direct", load, "p99")),
				cpu == "nan" ? "n/a" : sprintf("%.1f", cpu), ratio(cpu, d_cpu),
				req == "nan" ? "n/a" : sprintf("%.0f", req), m(peer, load, "err")
		}
	}
}

# The issue's goal: weft >= 0.95x direct req/s in both loads at every
# service count, while iptables DNAT falls with the service count.
function goal(    l, p, load, peer, r, d, all_met, n, line, first, last) {
	all_met = 1; n = 0
	for (l = 1; l <= nloads; l++) {
		load = loads[l]
		d = m("direct", load, "rps")
		line = ""
		for (p = 1; p <= npeers; p++) {
			peer = peers[p]
			if (peer !~ /^weft-/ || !((peer SUBSEP load SUBSEP "rps") in vals)) continue
			r = (d == "nan" || d + 0 == 0) ? 0 : m(peer, load, "rps") / d
			line = line sprintf("%s %.3f×%s; ", peer, r, r >= 0.95 ? "" : " (below 0.95)")
			if (r < 0.95) all_met = 0
			n++
		}
		printf "- %s, weft req/s vs direct: %s\n", load, line
		first = last = ""
		line = ""
		for (p = 1; p <= npeers; p++) {
			peer = peers[p]
			if (peer !~ /^iptables-/ || !((peer SUBSEP load SUBSEP "rps") in vals)) continue
			r = (d == "nan" || d + 0 == 0) ? 0 : m(peer, load, "rps") / d
			line = line sprintf("%s %.3f×; ", peer, r)
			if (first == "") first = m(peer, load, "rps")
			last = m(peer, load, "rps")
		}
		if (line != "")
			printf "- %s, iptables DNAT req/s vs direct: %s%s\n", load, line,
				(first + 0 > 0 ? sprintf("largest vs smallest service count: %+.1f%%", (last / first - 1) * 100) : "")
	}
	if (n)
		printf "\n**Goal (weft ≥ 0.95× direct req/s in both loads at every service count): %s.**\n",
			all_met ? "met" : "NOT met"
}

function per_req(peer, load,    rps, cpu) {
	rps = m(peer, load, "rps"); cpu = m(peer, load, "cpu")
	return (rps == "nan" || rps + 0 == 0 || cpu == "nan") ? "nan" : cpu / 100 * ncpu * 1e6 / rps
}

# One table per load, a row per rule count, ratios to `base` (0 rules);
# then how far the largest rule count is from it.
function policy(    l, p, load, peer, rps, b_rps, b_req, req, last) {
	for (l = 1; l <= nloads; l++) {
		load = loads[l]
		load_heading(load)
		print "| rules | req/s | × 0 rules | req/s min–max | p50 ms | × 0 rules | p99 ms | × 0 rules | CPU µs/req | × 0 rules | errors |"
		print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		b_rps = m(base, load, "rps"); b_req = per_req(base, load)
		for (p = 1; p <= npeers; p++) {
			peer = peers[p]
			if (!((peer SUBSEP load SUBSEP "rps") in vals)) continue
			rps = m(peer, load, "rps"); req = per_req(peer, load)
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", substr(peer, 8),
				rps == "nan" ? "n/a" : sprintf("%.0f", rps), ratio(rps, b_rps),
				sprintf("%.0f–%.0f", minof(vals[peer SUBSEP load SUBSEP "rps"]), maxof(vals[peer SUBSEP load SUBSEP "rps"])),
				ms(m(peer, load, "p50")), ratio(m(peer, load, "p50"), m(base, load, "p50")),
				ms(m(peer, load, "p99")), ratio(m(peer, load, "p99"), m(base, load, "p99")),
				req == "nan" ? "n/a" : sprintf("%.0f", req), ratio(req, b_req),
				m(peer, load, "err")
			last = peer
		}
		if (last != "" && last != base)
			printf "\n%s: %s rules vs none: req/s %s, CPU µs/req %s.\n", load, substr(last, 8),
				ratio(m(last, load, "rps"), b_rps), ratio(per_req(last, load), b_req)
	}
}

# policy-stats.awk items -> the sum of one point's, each reason named.
function point_items(list, point,    n, it, i, f, out) {
	n = split(list, it, "; ")
	out = ""
	for (i = 1; i <= n; i++) {
		if (split(it[i], f, " ") != 4 || f[1] != point) continue
		out = out (out == "" ? "" : ", ") f[2] " " f[3] " " f[4]
	}
	return out == "" ? "none" : out
}

function policy_points(    i, f) {
	print "| rules | nginx accepted | netns known | inbound decisions | connect() decisions | table rows |"
	print "|---:|---:|---:|---|---|---|"
	for (i = 1; i <= npts; i++) {
		split(prow[i], f, "\t")
		printf "| %s | %s | %s | %s | %s | %s |\n", f[2], f[3], f[4],
			point_items(f[5], "inbound"), point_items(f[5], "connect"), f[6]
	}
}

# The programs' run time per close cell (when statistics were on), then
# the cgroup's CPU per request under both loads.
function policy_progs(    p, peer) {
	if (have_progs) {
		progs_table()
		print ""
	}
	print "CPU time of the peer's cgroup (wrk, nginx and the kernel work charged to"
	print "them; cpu.stat usage_usec) per request, warm-ups included; unlike host-wide"
	print "busy %, other work on the machine stays out of it:"
	print ""
	print "| rules | keep-alive µs/req | × 0 rules | close µs/req | × 0 rules |"
	print "|---:|---:|---:|---:|---:|"
	for (p = 1; p <= npeers; p++) {
		peer = peers[p]
		printf "| %s | %s | %s | %s | %s |\n", substr(peer, 8),
			fmt1(cgm(peer, "keepalive")), ratio(cgm(peer, "keepalive"), cgm(base, "keepalive")),
			fmt1(cgm(peer, "close")), ratio(cgm(peer, "close"), cgm(base, "close"))
	}
}

function progs_table(    p, peer, b_conn, b_in) {
	print "| rules | connect4 ns/run | × 0 rules | ingress ns/run | ingress runs per connection | ingress ns per connection | × 0 rules | both, ns per connection | ingress ns/run, keep-alive | rounds |"
	print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	b_conn = median(vals[base SUBSEP "conn"]); b_in = median(vals[base SUBSEP "in_conn"])
	for (p = 1; p <= npeers; p++) {
		peer = peers[p]
		if (!((peer SUBSEP "conn") in vals)) continue
		printf "| %s | %.0f | %s | %.0f | %.1f | %.0f | %s | %.0f | %s | %d |\n", substr(peer, 8),
			median(vals[peer SUBSEP "conn"]), ratio(median(vals[peer SUBSEP "conn"]), b_conn),
			median(vals[peer SUBSEP "in_run"]), median(vals[peer SUBSEP "runs_per_conn"]),
			median(vals[peer SUBSEP "in_conn"]), ratio(median(vals[peer SUBSEP "in_conn"]), b_in),
			median(vals[peer SUBSEP "conn"]) + median(vals[peer SUBSEP "in_conn"]),
			((peer SUBSEP "ka_in_run") in vals) ? sprintf("%.0f", median(vals[peer SUBSEP "ka_in_run"])) : "n/a",
			cnt[peer SUBSEP "conn"]
	}
}

function cgm(peer, load,    k) {
	k = peer SUBSEP load SUBSEP "cg"
	return (k in vals) ? median(vals[k]) : "nan"
}

function fmt1(v) {
	return v == "nan" ? "n/a" : sprintf("%.1f", v)
}

function policy_apply(    i, r) {
	print "| rules | policy rows | --check s | --once s (empty pin dir) | --once again s | runs |"
	print "|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nprules; i++) {
		r = prules[i]
		printf "| %s | %s | %.3f | %.3f | %.3f | %d |\n", r, (r in prows) ? prows[r] : "n/a",
			median(vals[r SUBSEP "check"]), median(vals[r SUBSEP "once"]),
			median(vals[r SUBSEP "again"]), cnt[r SUBSEP "check"]
	}
}

function apply_table(    w) {
	print "| what | median s | runs | result of the last run |"
	print "|---|---:|---:|---|"
	for (w = 1; w <= nwhat; w++)
		printf "| %s | %.3f | %d | %s |\n", whats[w], median(vals[whats[w]]), cnt[whats[w]], detail[whats[w]]
}

function reload_table(    i, k, parts) {
	print "| config | trigger | median ms | min ms | max ms | trials | old answers after the change (median) | failed polls (total) |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nrl; i++) {
		k = rl[i]
		split(k, parts, SUBSEP)
		if (!(k in vals)) {
			printf "| %s | %s | no reaction | | | %d timed out | | |\n", parts[1], parts[2], timeouts[k]
			continue
		}
		printf "| %s | %s | %.1f | %.1f | %.1f | %d%s | %s | %s |\n", parts[1], parts[2],
			median(vals[k]), minof(vals[k]), maxof(vals[k]), cnt[k],
			timeouts[k] ? sprintf(" (+%d timed out)", timeouts[k]) : "",
			median(vals[k SUBSEP "old"]), sumof(vals[k SUBSEP "failed"])
	}
}

function minof(list,    v, n, i, r) { n = split(list, v, " "); r = v[1]; for (i = 2; i <= n; i++) if (v[i] + 0 < r + 0) r = v[i]; return r }
function maxof(list,    v, n, i, r) { n = split(list, v, " "); r = v[1]; for (i = 2; i <= n; i++) if (v[i] + 0 > r + 0) r = v[i]; return r }
function sumof(list,    v, n, i, r) { n = split(list, v, " "); r = 0; for (i = 1; i <= n; i++) r += v[i]; return r }

END {
	if (section == "throughput") throughput()
	else if (section == "goal") goal()
	else if (section == "apply") apply_table()
	else if (section == "reload") reload_table()
	else if (section == "policy") policy()
	else if (section == "policy_points") policy_points()
	else if (section == "policy_apply") policy_apply()
	else if (section == "policy_progs") policy_progs()
}
