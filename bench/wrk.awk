# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Reads the output of `wrk --latency` and prints one line:
#   requests_per_s p50_us p99_us errors requests
# errors = socket errors (connect, read, write, timeout) + non-2xx/3xx
# answers.  A field wrk did not print is "nan".

function us(v) {
	if (v ~ /us$/) return v + 0
	if (v ~ /ms$/) return v * 1000
	if (v ~ /m$/)  return v * 60e6
	if (v ~ /s$/)  return v * 1e6
	return v + 0
}

BEGIN { rps = p50 = p99 = reqs = "nan"; errs = 0 }
$1 == "50%"                 { p50 = us($2) }
$1 == "99%"                 { p99 = us($2) }
$1 == "Requests/sec:"       { rps = $2 + 0 }
/ requests in /             { reqs = $1 + 0 }
/Socket errors:/            { gsub(",", ""); errs += $4 + $6 + $8 + $10 }
/Non-2xx or 3xx responses:/ { errs += $5 }
END { print rps, p50, p99, errs, reqs }
