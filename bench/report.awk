# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Turns bench/run.sh's measurements into the markdown of results.md.
#
#   awk -f report.awk -v section=throughput -v ncpu=2 cells.tsv
#   awk -f report.awk -v section=goal cells.tsv
#   awk -f report.awk -v section=apply apply.tsv
#   awk -f report.awk -v section=reload reload.tsv
#
# cells.tsv:  round peer load rps p50_us p99_us cpu_busy_pct errors requests
# apply.tsv:  trial what seconds detail
# reload.tsv: config trigger trial delay_ms polls old failed
# Several rounds of one cell are reduced to their median.  Ratios are to
# the "direct" peer of the same load.

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

section == "throughput" || section == "goal" {
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

function throughput(    l, p, load, peer, rps, d_rps, cpu, d_cpu, per_req) {
	for (l = 1; l <= nloads; l++) {
		load = loads[l]
		printf "\n### %s\n\n", load == "keepalive" ? "Keep-alive (one connection, many requests)" : \
			"New connection per request (Connection: close)"
		print "| peer | req/s | × direct | req/s min–max | p50 ms | × direct | p99 ms | × direct | CPU busy % | × direct | CPU µs/req | errors |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		d_rps = m("direct", load, "rps"); d_cpu = m("direct", load, "cpu")
		for (p = 1; p <= npeers; p++) {
			peer = peers[p]
			if (!((peer SUBSEP load SUBSEP "rps") in vals)) continue
			rps = m(peer, load, "rps"); cpu = m(peer, load, "cpu")
			per_req = (rps == "nan" || rps + 0 == 0) ? "n/a" : sprintf("%.0f", cpu / 100 * ncpu * 1e6 / rps)
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", peer,
				rps == "nan" ? "n/a" : sprintf("%.0f", rps), ratio(rps, d_rps),
				sprintf("%.0f–%.0f", minof(vals[peer SUBSEP load SUBSEP "rps"]), maxof(vals[peer SUBSEP load SUBSEP "rps"])),
				ms(m(peer, load, "p50")), ratio(m(peer, load, "p50"), m("direct", load, "p50")),
				ms(m(peer, load, "p99")), ratio(m(peer, load, "p99"), m("direct", load, "p99")),
				cpu == "nan" ? "n/a" : sprintf("%.1f", cpu), ratio(cpu, d_cpu),
				per_req, m(peer, load, "err")
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
}
